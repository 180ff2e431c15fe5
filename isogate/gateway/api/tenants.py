"""``POST /v1/tenants`` (registration) and ``POST /v1/auth/token`` (login)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import is_admin
from isogate.gateway.bodies import json_body
from isogate.gateway.errors import RegistrationClosed
from isogate.gateway.shapes.tenants import Credentials, Tenant, Token
from isogate.gateway.views import iso, json_response, services


async def create_tenant(request: Request) -> Response:
    """Register a tenant: open registration, or the admin token."""
    svc = services(request)
    if not svc.settings.open_registration and not is_admin(request, svc.settings):
        raise RegistrationClosed("tenant registration needs the admin token")
    body = await json_body(request, Credentials, 16 * 1024)
    tenant = await svc.tenants.create(body.name, body.password)
    return json_response(Tenant(name=tenant.name, created_at=iso(tenant.created_at)), 201)


async def issue_token(request: Request) -> Response:
    """Exchange name and password for a short-lived bearer token."""
    svc = services(request)
    body = await json_body(request, Credentials, 16 * 1024)
    tenant = await svc.tenants.authenticate(body.name, body.password)
    return json_response(
        Token(
            access_token=svc.tokens.issue(tenant.name),
            token_type="bearer",
            expires_in=svc.tokens.ttl_seconds,
        ),
        headers={"Cache-Control": "no-store"},
    )
