"""API-key leases: ``/v1/keys`` (create, list), ``/v1/keys/{id}`` (show, revoke), renew."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.bodies import json_body
from isogate.gateway.shapes.keys import KeyCreate, KeyRenew, LeaseList, LeaseWithSecret
from isogate.gateway.views import json_response, key_view, lease, services
from isogate.quota.errors import KeyNotFound
from isogate.quota.models import KeyPolicy, PeriodQuota, RateLimit

BODY_LIMIT = 64 * 1024


def _key_id(request: Request) -> str:
    key_id: str = request.path_params["key_id"]
    if len(key_id) > 32 or not key_id.isascii():
        raise KeyNotFound("no such key")
    return key_id


async def create_key(request: Request) -> Response:
    """Issue a lease; the secret is in this response only."""
    tenant = await require_tenant(request)
    svc = services(request)
    body = await json_body(request, KeyCreate, BODY_LIMIT)
    d = svc.settings.default_rate_limit
    rl = body.rate_limit
    rate = (
        RateLimit(rl.requests, rl.per_seconds, rl.burst or rl.requests)
        if rl
        else RateLimit(d.requests, d.per_seconds, d.burst or d.requests)
    )
    quota = PeriodQuota(body.quota.invocations, body.quota.period) if body.quota else None
    policy = KeyPolicy(rate=rate, quota=quota, uses=body.uses)
    functions = list(dict.fromkeys(body.functions))
    key, secret = await svc.keys.create(tenant, body.name, body.ttl_seconds, functions, policy)
    view = LeaseWithSecret.model_validate({**key_view(key, time.time()), "key": secret})
    return json_response(view, 201, {"Cache-Control": "no-store", "Location": f"/v1/keys/{key.id}"})


async def list_keys(request: Request) -> Response:
    """The tenant's leases."""
    tenant = await require_tenant(request)
    now = time.time()
    keys = await services(request).keys.list(tenant)
    return json_response(LeaseList(keys=[lease(k, now) for k in keys]))


async def get_key(request: Request) -> Response:
    """One lease (never the secret)."""
    tenant = await require_tenant(request)
    key = await services(request).keys.get(tenant, _key_id(request))
    return json_response(lease(key, time.time()))


async def renew_key(request: Request) -> Response:
    """Extend a lease to now + ttl_seconds."""
    tenant = await require_tenant(request)
    svc = services(request)
    body = await json_body(request, KeyRenew, BODY_LIMIT)
    key = await svc.keys.renew(tenant, _key_id(request), body.ttl_seconds)
    svc.verifier.invalidate(key.id)
    return json_response(lease(key, time.time()))


async def revoke_key(request: Request) -> Response:
    """Revoke a lease; refused from the next request on."""
    tenant = await require_tenant(request)
    svc = services(request)
    key = await svc.keys.revoke(tenant, _key_id(request))
    svc.verifier.invalidate(key.id)
    return json_response(lease(key, time.time()))
