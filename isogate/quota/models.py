"""Plain data of tenants and API-key leases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Period = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class Tenant:
    """An account that owns functions and keys."""

    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``requests`` per ``per_seconds`` with a bucket of ``burst`` (GCRA)."""

    requests: int
    per_seconds: int
    burst: int

    @property
    def interval_ns(self) -> int:
        """Emission interval: time one request "costs", in nanoseconds."""
        return self.per_seconds * 1_000_000_000 // self.requests


@dataclass(frozen=True, slots=True)
class PeriodQuota:
    """At most ``invocations`` per calendar ``period`` (UTC)."""

    invocations: int
    period: Period


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """Every limit of one key; checked together, atomically."""

    rate: RateLimit
    quota: PeriodQuota | None = None
    uses: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A lease: an API key's metadata. The secret itself is never stored."""

    id: str
    tenant: str
    name: str
    prefix: str
    created_at: float
    expires_at: float
    revoked_at: float | None
    functions: tuple[str, ...]
    policy: KeyPolicy

    def allows(self, function: str) -> bool:
        """Whether this key may invoke ``function``."""
        return "*" in self.functions or function in self.functions

    def state(self, now: float) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class Usage:
    """Persisted consumption of a key: total uses and the current period's count."""

    uses: int = 0
    period_start: float = 0.0
    period_count: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """An admitted request: what is left, for the RateLimit headers."""

    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int
    quota_limit: int | None = None
    quota_remaining: int | None = None
    quota_reset_seconds: int | None = None
    quota_window_seconds: int | None = None
    uses_remaining: int | None = None
