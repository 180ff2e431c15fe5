"""The operator's route controls under ``/v1/admin`` (admin token only).

* ``GET /v1/admin/routes?pattern=P``: which tenant and function hold ``P`` or any pattern
  that can match the same requests; ``DELETE /v1/admin/routes?pattern=P`` releases one.
* ``GET /v1/admin/hosts[?tenant=T]``, ``PUT /v1/admin/hosts/{host}`` ``{"tenant": T}``,
  ``DELETE /v1/admin/hosts/{host}``: hostnames assigned to tenants.
* ``GET /v1/admin/hostless-grants``, ``PUT|DELETE /v1/admin/hostless-grants/{tenant}``:
  tenants allowed to claim host-less patterns.

Withdrawing a hostname or a grant drops the routes that depended on it at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from isogate.gateway.auth import bearer, is_admin
from isogate.gateway.bodies import json_body
from isogate.gateway.errors import (
    AdminDisabled,
    AdminOnly,
    InvalidRequest,
    RouteNotFound,
    TenantNotFound,
    Unauthorized,
)
from isogate.gateway.shapes.admin import (
    HostAssign,
    HostAssigned,
    HostAssignment,
    HostlessGrant,
    HostlessGranted,
    HostlessGrantList,
    HostlessWithdrawn,
    HostList,
    HostWithdrawn,
    RouteHolder,
    RouteHolders,
)
from isogate.gateway.views import iso, json_response, services
from isogate.registry.route_grants import SqlRouteGrants


def _grants(request: Request) -> SqlRouteGrants:
    """The route grants store, once the caller is known to be the operator."""
    settings = services(request).settings
    if settings.admin_token is None:
        raise AdminDisabled("set admin_token to use the admin API")
    if not is_admin(request, settings):
        if bearer(request) is not None:  # a tenant's token, or a wrong one
            raise AdminOnly("this call needs the admin token, not a tenant's")
        raise Unauthorized(
            "send the admin token as 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": 'Bearer realm="isogate-admin"'},
        )
    grants = services(request).route_grants
    assert grants is not None  # opened with the services
    return grants


async def _existing_tenant(request: Request, tenant: str) -> str:
    if not await services(request).tenants.exists(tenant):
        raise TenantNotFound(f"no tenant {tenant[:63]!r}")
    return tenant


def _pattern(request: Request) -> str:
    pattern = request.query_params.get("pattern")
    if not pattern:
        raise InvalidRequest("pass ?pattern=[host]/path[*]")
    return pattern


def _invalidate(request: Request, names: list[str]) -> None:
    for name in names:
        services(request).resolver.invalidate(name)


async def route_holders(request: Request) -> Response:
    """Who holds a pattern, or any pattern matching some of the same requests."""
    grants = _grants(request)
    pattern = _pattern(request)
    holders = await grants.holders(pattern)
    return json_response(
        RouteHolders(
            pattern=pattern,
            holders=[
                RouteHolder(pattern=h.pattern, tenant=h.tenant, function=h.function)
                for h in holders
            ],
        )
    )


async def release_route(request: Request) -> Response:
    """Drop one claimed pattern, whoever holds it."""
    grants = _grants(request)
    function = await grants.release(_pattern(request))
    if function is None:
        raise RouteNotFound("nobody holds this pattern")
    _invalidate(request, [function])
    return Response(status_code=204)


async def list_hosts(request: Request) -> Response:
    """Hostname assignments (``?tenant=`` for one tenant's)."""
    grants = _grants(request)
    rows = await grants.hosts(request.query_params.get("tenant"))
    return json_response(
        HostList(hosts=[HostAssignment(host=h, tenant=t, assigned_at=iso(at)) for h, t, at in rows])
    )


async def assign_host(request: Request) -> Response:
    """Assign a hostname to a tenant: it may then claim patterns on it."""
    grants = _grants(request)
    body = await json_body(request, HostAssign, 16 * 1024)
    tenant = await _existing_tenant(request, body.tenant)
    host = request.path_params["host"].lower()
    domain = services(request).settings.functions_domain
    if domain is not None and (host == domain or host.endswith("." + domain)):
        # NAME.<functions_domain> are the functions' own origins, matched first
        raise InvalidRequest(f"{host} is under functions_domain")
    created = await grants.assign_host(host, tenant)
    return json_response(HostAssigned(host=host, tenant=tenant), 201 if created else 200)


async def unassign_host(request: Request) -> Response:
    """Withdraw a hostname; the routes on it stop serving."""
    grants = _grants(request)
    dropped = await grants.unassign_host(request.path_params["host"])
    _invalidate(request, dropped)
    return json_response(
        HostWithdrawn(host=request.path_params["host"].lower(), functions_affected=len(dropped))
    )


async def list_hostless(request: Request) -> Response:
    """Tenants allowed host-less patterns."""
    grants = _grants(request)
    rows = await grants.hostless_grants()
    return json_response(
        HostlessGrantList(grants=[HostlessGrant(tenant=t, granted_at=iso(at)) for t, at in rows])
    )


async def grant_hostless(request: Request) -> Response:
    """Allow a tenant host-less patterns (they match every hostname)."""
    grants = _grants(request)
    tenant = await _existing_tenant(request, request.path_params["tenant"])
    created = await grants.grant_hostless(tenant)
    return json_response(HostlessGranted(tenant=tenant), 201 if created else 200)


async def revoke_hostless(request: Request) -> Response:
    """Withdraw a host-less grant; the tenant's host-less routes stop serving."""
    grants = _grants(request)
    tenant = request.path_params["tenant"]
    dropped = await grants.revoke_hostless(tenant)
    _invalidate(request, dropped)
    return json_response(HostlessWithdrawn(tenant=tenant, functions_affected=len(dropped)))


def admin_routes() -> list[Route]:
    """The routes of this module."""
    return [
        Route("/v1/admin/routes", route_holders, methods=["GET"]),
        Route("/v1/admin/routes", release_route, methods=["DELETE"]),
        Route("/v1/admin/hosts", list_hosts, methods=["GET"]),
        Route("/v1/admin/hosts/{host}", assign_host, methods=["PUT"]),
        Route("/v1/admin/hosts/{host}", unassign_host, methods=["DELETE"]),
        Route("/v1/admin/hostless-grants", list_hostless, methods=["GET"]),
        Route("/v1/admin/hostless-grants/{tenant}", grant_hostless, methods=["PUT"]),
        Route("/v1/admin/hostless-grants/{tenant}", revoke_hostless, methods=["DELETE"]),
    ]


def _created(operation: dict[str, Any]) -> dict[str, Any]:
    """201 (made now) answers the same body as 200 (already so)."""
    operation["responses"]["201"] = operation["responses"]["200"]
    return operation


def admin_openapi(op: Any, bearer: Any) -> dict[str, Any]:
    """The OpenAPI paths of this module (``op``: openapi's operation builder)."""

    def param(name: str, where: str = "path", required: bool = True) -> dict[str, Any]:
        return {"name": name, "in": where, "required": required, "schema": {"type": "string"}}

    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HostAssign"}}},
    }
    assign = op(
        "assign a hostname to a tenant",
        "200",
        bearer,
        result="HostAssigned",
        codes="201 403 404 409 422",
    )
    assign["requestBody"] = body
    _created(assign)
    for code in ("408", "413", "415"):
        assign["responses"][code] = assign["responses"]["default"]
    return {
        "/v1/admin/routes": {
            "parameters": [param("pattern", "query")],
            "get": op("who holds a route pattern", "200", bearer, None, "RouteHolders", "403 422"),
            "delete": op("release a route pattern", "204", bearer, codes="403 404 422"),
        },
        "/v1/admin/hosts": {
            "parameters": [param("tenant", "query", required=False)],
            "get": op("hostname assignments", "200", bearer, None, "HostList", "403"),
        },
        "/v1/admin/hosts/{host}": {
            "parameters": [param("host")],
            "put": assign,
            "delete": op("withdraw a hostname", "200", bearer, None, "HostWithdrawn", "403"),
        },
        "/v1/admin/hostless-grants": {
            "get": op("host-less route grants", "200", bearer, None, "HostlessGrantList", "403"),
        },
        "/v1/admin/hostless-grants/{tenant}": {
            "parameters": [param("tenant")],
            "put": _created(
                op("grant host-less routes", "200", bearer, None, "HostlessGranted", "201 403 404")
            ),
            "delete": op(
                "withdraw host-less routes", "200", bearer, None, "HostlessWithdrawn", "403"
            ),
        },
    }
