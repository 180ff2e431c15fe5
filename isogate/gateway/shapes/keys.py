"""API-key leases: ``/v1/keys`` and ``/v1/keys/{id}``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from isogate.gateway.shapes.base import Body, NullableTime, Shape, Time

ScopeStr = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$")]


class RateLimitIn(Body):
    """A key's rate limit: ``requests`` per ``per_seconds``, bucket ``burst``."""

    requests: int = Field(ge=1, le=1_000_000)
    per_seconds: int = Field(ge=1, le=31 * 86400)
    burst: int | None = Field(None, ge=1, le=1_000_000)


class QuotaIn(Body):
    """A key's quota per calendar day or month (UTC)."""

    invocations: int = Field(ge=1, le=10**12)
    period: Literal["day", "month"]


class KeyCreate(Body):
    """``POST /v1/keys``."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "key"
    ttl_seconds: int = Field(30 * 86400, ge=1)
    functions: list[ScopeStr] = Field(default_factory=lambda: ["*"], min_length=1, max_length=100)
    rate_limit: RateLimitIn | None = None
    quota: QuotaIn | None = None
    uses: int | None = Field(None, ge=1, le=10**12)


class KeyRenew(Body):
    """``POST /v1/keys/{id}/renew``."""

    ttl_seconds: int = Field(ge=1)


class RateLimitOut(Shape):
    """A lease's rate limit (``burst`` resolved)."""

    requests: int
    per_seconds: int
    burst: int


class QuotaOut(Shape):
    """A lease's quota."""

    invocations: int
    period: Literal["day", "month"]


class Lease(Shape):
    """A lease, never its secret."""

    id: str
    name: str
    prefix: str
    state: Literal["active", "expired", "revoked"]
    created_at: Time
    expires_at: Time
    revoked_at: NullableTime
    functions: list[str]
    rate_limit: RateLimitOut
    quota: QuotaOut | None
    uses: int | None


class LeaseWithSecret(Lease):
    """A new lease with its secret: in the create response only."""

    key: str


class LeaseList(Shape):
    """The tenant's leases."""

    keys: list[Lease]
