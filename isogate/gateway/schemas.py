"""Request bodies of the control plane (pydantic models, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NameStr = Annotated[str, StringConstraints(min_length=1, max_length=63)]
ScopeStr = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Credentials(_Body):
    """``POST /v1/tenants`` and ``POST /v1/auth/token``."""

    name: NameStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RateLimitIn(_Body):
    """A key's rate limit: ``requests`` per ``per_seconds``, bucket ``burst``."""

    requests: int = Field(ge=1, le=1_000_000)
    per_seconds: int = Field(ge=1, le=31 * 86400)
    burst: int | None = Field(None, ge=1, le=1_000_000)


class QuotaIn(_Body):
    """A key's quota per calendar day or month (UTC)."""

    invocations: int = Field(ge=1, le=10**12)
    period: Literal["day", "month"]


class KeyCreate(_Body):
    """``POST /v1/keys``."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "key"
    ttl_seconds: int = Field(30 * 86400, ge=1)
    functions: list[ScopeStr] = Field(default_factory=lambda: ["*"], min_length=1, max_length=100)
    rate_limit: RateLimitIn | None = None
    quota: QuotaIn | None = None
    uses: int | None = Field(None, ge=1, le=10**12)


class KeyRenew(_Body):
    """``POST /v1/keys/{id}/renew``."""

    ttl_seconds: int = Field(ge=1)


class FunctionDeploy(_Body):
    """``PUT /v1/functions/{name}`` as JSON."""

    code: str
    env: dict[str, Annotated[str, StringConstraints(max_length=4096)]] = Field(default_factory=dict)
    timeout_ms: int | None = Field(
        None, ge=1, description="wall time of one invocation, ms (at most runtime.max_timeout_ms)"
    )
    cpu_ms: int | None = Field(
        None, ge=1, description="CPU time of one invocation, ms (at most runtime.max_cpu_ms)"
    )
    routes: list[Annotated[str, StringConstraints(max_length=255)]] = Field(
        default_factory=list, max_length=20
    )
    public: bool = False
    #: ``env.NAME`` → a resource of the tenant, e.g. ``{"CACHE": {"kv": "cache"}}``
    bindings: dict[
        Annotated[str, StringConstraints(max_length=64)],
        dict[Literal["kv"], NameStr],
    ] = Field(default_factory=dict, max_length=32)
    #: the module's name; ``.ts``/``.mts``: TypeScript, its types erased at deploy
    main_module: Annotated[str, StringConstraints(max_length=255)] | None = None
    #: cron schedules (5 fields, UTC) of the module's ``scheduled()``; absent: the
    #: function's crons stay as they are, ``[]``: none
    crons: list[Annotated[str, StringConstraints(max_length=200)]] | None = Field(
        None,
        max_length=100,
        description="cron expressions (5 fields, UTC), at most scheduler."
        "max_crons_per_function; absent: unchanged, []: none",
    )


class Rollback(_Body):
    """``POST /v1/functions/{name}/rollback``."""

    version: int = Field(ge=1)
