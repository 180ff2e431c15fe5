"""KV namespaces: ``POST/GET /v1/kv``, ``DELETE /v1/kv/{ns}``, and their keys:
``GET /v1/kv/{ns}/keys`` (list), ``GET/PUT/DELETE /v1/kv/{ns}/keys/{key}``.

A value travels as the raw body (any media type; answered as
``application/octet-stream``); its metadata as JSON in ``X-KV-Metadata``; expiration as
``?expiration=UNIX`` or ``?expiration_ttl=SECONDS``. Another tenant's namespace is 404.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.bodies import is_json, media_type, parse_json, read_body
from isogate.gateway.errors import InvalidRequest, UnsupportedMediaType
from isogate.gateway.shapes.kv import (
    KvKeyList,
    KvNamespace,
    KvNamespaceCreate,
    KvNamespaceList,
)
from isogate.gateway.views import json_response, services
from isogate.state.errors import InvalidKv, KvKeyNotFound
from isogate.state.kv import Namespace, SqlKvStore

METADATA_HEADER = "x-kv-metadata"


def _store(request: Request) -> SqlKvStore:
    store = services(request).kv
    assert store is not None
    return store


def _ns_view(ns: Namespace) -> KvNamespace:
    return KvNamespace(name=ns.name, created_at=ns.created_at)


def _number(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidKv(f"{name} must be a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidKv(f"{name} must be a number of seconds")
    return value


async def create_namespace(request: Request) -> Response:
    """Create a namespace of the tenant: ``{"name": "cache"}``."""
    tenant = await require_tenant(request)
    if not is_json(media_type(request)):
        raise UnsupportedMediaType("send application/json")
    try:
        body = KvNamespaceCreate.model_validate(parse_json(await read_body(request, 4096)))
    except ValidationError:
        raise InvalidRequest('send {"name": "<namespace>"}') from None
    ns = await _store(request).create_namespace(tenant, body.name)
    return json_response(_ns_view(ns), 201, {"Location": f"/v1/kv/{ns.name}"})


async def list_namespaces(request: Request) -> Response:
    """The tenant's namespaces, and its KV operations today against the daily quota."""
    tenant = await require_tenant(request)
    store = _store(request)
    return json_response(
        KvNamespaceList(
            namespaces=[_ns_view(n) for n in await store.namespaces(tenant)],
            ops_today=await store.usage(tenant),
            ops_per_day=store.limits.ops_per_day,
        )
    )


async def delete_namespace(request: Request) -> Response:
    """Delete a namespace and its keys (functions bound to it then fail their KV calls)."""
    tenant = await require_tenant(request)
    await _store(request).delete_namespace(tenant, request.path_params["ns"])
    return Response(status_code=204)


async def list_keys(request: Request) -> Response:
    """``?prefix=&limit=&cursor=``: keys in order, ``list_complete`` and ``cursor``."""
    tenant = await require_tenant(request)
    store = _store(request)
    ns = await store.namespace(tenant, request.path_params["ns"])
    q = request.query_params
    raw_limit = q.get("limit", "1000")
    if not raw_limit.isdigit() or len(raw_limit) > 6:
        raise InvalidKv("limit must be 1-1000")
    listing = await store.list(tenant, ns.id, q.get("prefix", ""), int(raw_limit), q.get("cursor"))
    body: dict[str, Any] = {"keys": listing.keys, "list_complete": listing.list_complete}
    if listing.cursor:
        body["cursor"] = listing.cursor
    return json_response(KvKeyList.model_validate(body))


def _key(request: Request) -> str:
    # the router matched the percent-decoded path: no second decoding here
    key: str = request.path_params["key"]
    return key


async def get_key(request: Request) -> Response:
    tenant = await require_tenant(request)
    store = _store(request)
    ns = await store.namespace(tenant, request.path_params["ns"])
    entry = await store.get(tenant, ns.id, _key(request))
    if entry is None:
        raise KvKeyNotFound("no such key")
    headers = {}
    if entry.metadata is not None:
        headers["X-KV-Metadata"] = json.dumps(entry.metadata, ensure_ascii=True)
    if entry.expiration is not None:
        headers["X-KV-Expiration"] = str(int(entry.expiration))
    return Response(entry.value, media_type="application/octet-stream", headers=headers)


async def put_key(request: Request) -> Response:
    tenant = await require_tenant(request)
    store = _store(request)
    ns = await store.namespace(tenant, request.path_params["ns"])
    metadata = None
    raw_meta = request.headers.get(METADATA_HEADER)
    if raw_meta is not None:
        try:
            metadata = json.loads(raw_meta)
        except ValueError:
            raise InvalidKv(f"{METADATA_HEADER} must be JSON") from None
    value = await read_body(request, store.limits.max_value_bytes)
    await store.put(
        tenant,
        ns.id,
        _key(request),
        value,
        expiration=_number(request, "expiration"),
        expiration_ttl=_number(request, "expiration_ttl"),
        metadata=metadata,
    )
    return Response(status_code=204)


async def delete_key(request: Request) -> Response:
    tenant = await require_tenant(request)
    store = _store(request)
    ns = await store.namespace(tenant, request.path_params["ns"])
    await store.delete(tenant, ns.id, _key(request))
    return Response(status_code=204)
