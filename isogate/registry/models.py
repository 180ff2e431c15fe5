"""Plain data of functions and their versions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Version:
    """One immutable version of a function."""

    name: str
    version: int
    sha256: str
    size: int
    env: dict[str, str]
    timeout_ms: int | None
    routes: tuple[str, ...]
    public: bool
    created_at: float
    #: CPU time one invocation may use (``None``: the runtime's default); ``timeout_ms``
    #: is wall time
    cpu_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Function:
    """A function's metadata; ``current`` is the version that serves."""

    name: str
    tenant: str
    current_version: int
    latest_version: int
    created_at: float
    updated_at: float
    current: Version


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    """What the owner sees of one invocation."""

    id: str
    function: str
    version: int
    time: float
    status: int
    outcome: str
    duration_ms: float
    cold: bool
    logs: tuple[str, ...]
    error: str | None
    #: owner and incarnation (the function's ``created_at``) of the function that ran:
    #: a name deleted and taken again, by another tenant or the same, starts a new
    #: incarnation whose owner never sees the records of the one before
    tenant: str = ""
    incarnation: float = 0.0
