"""Views of domain objects as the API's response shapes (:mod:`isogate.gateway.shapes`),
and the one helper that sends a shape as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.shapes.base import Shape
from isogate.gateway.shapes.functions import FunctionInfo, Invocation, Version
from isogate.gateway.shapes.keys import Lease, QuotaOut, RateLimitOut
from isogate.quota.models import ApiKey
from isogate.registry.models import Function, InvocationRecord
from isogate.registry.models import Version as VersionRecord

if TYPE_CHECKING:
    from isogate.gateway.services import Services


@overload
def iso(ts: float) -> str: ...
@overload
def iso(ts: None) -> None: ...
@overload
def iso(ts: float | None) -> str | None: ...
def iso(ts: float | None) -> str | None:
    """RFC 3339 UTC timestamp."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_response(
    shape: Shape, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response of a declared shape (nothing else is answered as JSON: what the
    document declares is what handlers answer)."""
    return Response(
        shape.render(), status_code=status, media_type="application/json", headers=headers
    )


def services(request: Request) -> Services:
    """The app's :class:`~isogate.gateway.services.Services`."""
    svc: Services = request.app.state.services
    return svc


def key_view(key: ApiKey, now: float) -> dict[str, Any]:
    """A lease's fields, never its secret (for :class:`Lease` and its subclass)."""
    p = key.policy
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "state": key.state(now),
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "functions": list(key.functions),
        "rate_limit": RateLimitOut(
            requests=p.rate.requests, per_seconds=p.rate.per_seconds, burst=p.rate.burst
        ),
        "quota": QuotaOut(invocations=p.quota.invocations, period=p.quota.period)
        if p.quota
        else None,
        "uses": p.uses,
    }


def lease(key: ApiKey, now: float) -> Lease:
    """A lease, never its secret."""
    return Lease.model_validate(key_view(key, now))


def version_view(v: VersionRecord) -> Version:
    """One version's metadata (env values are not shown, only names)."""
    return Version(
        version=v.version,
        sha256=v.sha256,
        size=v.size,
        env=sorted(v.env),
        timeout_ms=v.timeout_ms,
        cpu_ms=v.cpu_ms,
        routes=list(v.routes),
        public=v.public,
        created_at=iso(v.created_at),
    )


def function_fields(f: Function) -> dict[str, Any]:
    """A function's and its current version's fields (for :class:`FunctionInfo` and
    :class:`~isogate.gateway.shapes.functions.FunctionDetail`)."""
    return {
        "name": f.name,
        "version": f.current_version,
        "latest_version": f.latest_version,
        "sha256": f.current.sha256,
        "public": f.current.public,
        "routes": list(f.current.routes),
        "timeout_ms": f.current.timeout_ms,
        "cpu_ms": f.current.cpu_ms,
        "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at),
    }


def function_view(f: Function) -> FunctionInfo:
    """A function and its current version."""
    return FunctionInfo.model_validate(function_fields(f))


def invocation_view(r: InvocationRecord) -> Invocation:
    """One invocation record."""
    return Invocation(
        id=r.id,
        time=iso(r.time),
        version=r.version,
        status=r.status,
        outcome=r.outcome,
        duration_ms=round(r.duration_ms, 3),
        cold=r.cold,
        logs=list(r.logs),
        error=r.error,
    )
