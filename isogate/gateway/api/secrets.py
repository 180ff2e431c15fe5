"""Function secrets: ``PUT``/``DELETE /v1/functions/{name}/secrets/{secret}``, list.

A value is accepted as ``text/plain`` (the raw value) or JSON ``{"value": "…"}``; it is
never answered, logged or echoed in a problem. The next call of the function gets it in
``env`` (every replica: the cache is invalidated through Redis).
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.bodies import is_json, media_type, read_body
from isogate.gateway.errors import InvalidEncoding, InvalidRequest, UnsupportedMediaType
from isogate.gateway.shapes.secrets import Secret, SecretList, SecretValue
from isogate.gateway.views import json_response, services
from isogate.registry.names import check_function_name
from isogate.state.secrets import SecretCache, SecretInfo, SqlSecretStore, check_secret_name


def _stores(request: Request) -> tuple[SqlSecretStore, SecretCache]:
    svc = services(request)
    # build_services always sets both (optional only for Services built by hand in tests)
    assert svc.secrets is not None and svc.secret_cache is not None
    return svc.secrets, svc.secret_cache


def _view(info: SecretInfo) -> Secret:
    return Secret(name=info.name, updated_at=info.updated_at)


async def _names(request: Request, tenant: str) -> tuple[str, str]:
    function = check_function_name(request.path_params["name"])
    await _stores(request)[0].require_owned(tenant, function)
    return function, check_secret_name(request.path_params["secret"])


def _value(raw: bytes, json_body: bool) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding("a secret must be UTF-8") from None
    if not json_body:
        return text
    try:
        return SecretValue.model_validate(json.loads(text)).value
    except (ValueError, ValidationError):
        # the problem never quotes the body: it is (meant to be) a secret
        raise InvalidRequest(
            'send {"value": "<string>"} as JSON, or the raw value as text/plain'
        ) from None


async def put_secret(request: Request) -> Response:
    """Create or replace one secret of an owned function."""
    tenant = await require_tenant(request)
    function, name = await _names(request, tenant)
    svc = services(request)
    mt = media_type(request)
    if mt != "text/plain" and not is_json(mt):
        raise UnsupportedMediaType('send the value as text/plain or JSON {"value": ...}')
    limit = svc.settings.secret_max_bytes
    raw = await read_body(request, limit * 6 + 64)  # room for JSON escapes
    store, cache = _stores(request)
    info = await store.put(tenant, function, name, _value(raw, is_json(mt)))
    cache.invalidate(function)
    return json_response(_view(info))


async def delete_secret(request: Request) -> Response:
    """Remove one secret; the next call no longer sees it."""
    tenant = await require_tenant(request)
    function, name = await _names(request, tenant)
    store, cache = _stores(request)
    await store.delete(tenant, function, name)
    cache.invalidate(function)
    return Response(status_code=204)


async def list_secrets(request: Request) -> Response:
    """Names and update times of an owned function's secrets; never values."""
    tenant = await require_tenant(request)
    function = check_function_name(request.path_params["name"])
    infos = await _stores(request)[0].list(tenant, function)
    return json_response(SecretList(secrets=[_view(i) for i in infos]))
