"""Functions: deploy, list, show, rollback, invocation records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from isogate.gateway.shapes.base import Body, Number, Shape, Time, omitted
from isogate.gateway.shapes.tenants import NameStr


class FunctionDeploy(Body):
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


class Rollback(Body):
    """``POST /v1/functions/{name}/rollback``."""

    version: int = Field(ge=1)


class Deployed(Shape):
    """The version a deploy or rollback made current."""

    name: str
    version: int
    sha256: str
    #: only when the deploy sent crons
    crons: list[str] = omitted()


class FunctionInfo(Shape):
    """A function and its current version."""

    name: str
    version: int
    latest_version: int
    sha256: str
    public: bool
    routes: list[str]
    timeout_ms: int | None
    cpu_ms: int | None
    created_at: Time
    updated_at: Time


class Version(Shape):
    """One version's metadata (env values are not shown, only names)."""

    version: int
    sha256: str
    size: int
    env: list[str] = Field(description="names only")
    timeout_ms: int | None
    cpu_ms: int | None
    routes: list[str]
    public: bool
    created_at: Time


class FunctionDetail(FunctionInfo):
    """A function, its current version and every version."""

    versions: list[Version]


class FunctionList(Shape):
    """The tenant's functions."""

    functions: list[FunctionInfo]


class Invocation(Shape):
    """One invocation record."""

    id: str
    time: Time
    version: int
    status: int
    outcome: str
    duration_ms: Number
    cold: bool
    logs: list[str]
    error: str | None


class InvocationList(Shape):
    """The latest invocation records of a function."""

    invocations: list[Invocation]
