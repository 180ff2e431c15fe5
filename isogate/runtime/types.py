"""Plain data that crosses the runtime's boundary: function references, requests, results.

Nothing here knows about HTTP servers, tenants' keys or storage; the gateway builds
these from its own objects and maps :class:`Outcome` to status codes in one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    """How an invocation ended. Every value except ``OK`` is an error the caller can map."""

    OK = "ok"  #: the handler returned a Response
    JS_ERROR = "js_error"  #: the handler threw, rejected, or returned something not a Response
    UNSETTLED = "unsettled"  #: the handler's promise was still pending when the script returned
    TIMEOUT = "timeout"  #: the wall-clock limit was exceeded; the script was terminated
    CPU_LIMIT = "cpu_limit"  #: the CPU-time limit (cpu_ms) was exceeded; it was stopped
    CRASHED = "crashed"  #: the runtime worker process died (e.g. heap exhausted)
    OVERLOADED = "overloaded"  #: the bounded queue was full; nothing was run
    BUSY = "busy"  #: the tenant's own queue was full (max_queue_per_tenant); nothing was run
    QUARANTINED = "quarantined"  #: the function crashed workers too often; redeploy to lift
    LOAD_ERROR = "load_error"  #: the code could not be loaded (syntax, import, top-level throw)
    TOO_LARGE = "too_large"  #: the request or response body exceeded its cap
    CODE_UNAVAILABLE = "code_unavailable"  #: a cold load could not fetch the code (store down)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """One immutable version of a tenant's function.

    ``source`` may be left ``None``: the runtime then asks its ``code_loader`` for it,
    and only when an executor must cold-load the function (warm calls never fetch code).
    """

    name: str
    version: int
    tenant: str
    sha256: str
    env: tuple[tuple[str, str], ...] = ()
    timeout_ms: int | None = None
    #: CPU time one invocation may use (``None``: runtime.default_cpu_ms); wall time is
    #: ``timeout_ms``
    cpu_ms: int | None = None
    #: when this incarnation of the name was created: a name deleted and deployed again
    #: (by its owner or by another tenant) starts over at version 1, maybe with the same
    #: code, and must never meet the previous incarnation's warm context
    incarnation: float = 0.0
    #: the function's secrets, added to ``env`` in the isolate (they win over a variable
    #: of the same name); not in repr or comparisons, and not in :attr:`key`, which
    #: names ``secrets_rev`` instead (a digest of ciphertexts that changes with any write)
    secrets: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    secrets_rev: str = ""
    #: KV bindings: (env name, namespace name of the tenant)
    kv_bindings: tuple[tuple[str, str], ...] = ()
    source: str | None = field(default=None, compare=False, repr=False)
    #: identity of this version inside the runtime (warm sets, quarantine); computed once
    #: because routing looks it up several times per invocation. It names the tenant,
    #: the incarnation and what the context was built from (code, env, limits): two refs
    #: with the same key may share a warm context.
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ident = hashlib.sha256(
            repr(
                (
                    self.tenant,
                    self.incarnation,
                    self.env,
                    self.timeout_ms,
                    self.cpu_ms,
                    self.secrets_rev,
                    self.kv_bindings,
                )
            ).encode()
        ).hexdigest()[:16]
        key = f"{self.name}@{self.version}:{self.sha256[:16]}:{ident}"
        object.__setattr__(self, "key", key)


class RequestBody(Protocol):
    """The rest of a request body, still arriving from the client (the gateway's
    ``uploads.Upload``): the runtime reads it part by part as the function reads its
    ``request.body``, so a large upload never has to fit in memory or in one message."""

    async def read(self) -> bytes | None:
        """The next part (never empty), or None at the body's end. Raises
        :class:`~isogate.runtime.errors.BodyUnreadable` when it cannot be read on (over
        its size limit, the client too slow or gone): the function's read fails with
        that message."""
        ...

    def close(self) -> None:
        """The invocation is over: nothing will read on (a read under way stops)."""
        ...


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    """An HTTP request as plain data: it crosses into the isolate as a JSON string."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: the id the gateway gave this invocation (``X-Invocation-Id``): what the
    #: runtime's logs of it name (e.g. errors of its ``ctx.waitUntil`` work)
    invocation_id: str = ""
    #: a cron tick instead of a fetch: (cron expression, scheduled time in Unix ms); the
    #: module's ``scheduled(controller, env, ctx)`` runs and method/URL/body are unused
    scheduled: tuple[str, int] | None = None
    #: the caller sends a streamed body on as it comes (``InvokeResult.stream``); other
    #: callers get the body whole (read to its end by the runtime)
    stream: bool = False
    #: the body goes on after ``body`` (the gateway's side: where the rest comes from)
    upload: RequestBody | None = None
    #: the body goes on after ``body`` (the worker's side: read the rest from the host)
    more: bool = False


@dataclass(frozen=True, slots=True)
class JSErrorInfo:
    """A JavaScript error as text, for the function's owner (never a Python traceback)."""

    name: str
    message: str
    stack: str = ""
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time of one invocation went, in milliseconds."""

    queued_ms: float = 0.0
    load_ms: float = 0.0
    run_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """What an invocation produced. ``status``/``headers``/``body`` are meaningful when OK."""

    outcome: Outcome
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    logs: tuple[str, ...] = ()
    error: JSErrorInfo | None = None
    detail: str = ""
    status_text: str = ""  #: the Response's statusText ("" = the standard phrase)
    cold: bool = False
    executor: str = ""
    timings: Timings = field(default_factory=Timings)
    #: a scheduled handler called ``controller.noRetry()``: a failure is not run again
    no_retry: bool = False
    #: a streamed body (a :class:`~isogate.runtime.body_stream.BodyStream`): ``body`` is
    #: empty and the bytes come from here as the function produces them
    stream: Any = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Deploy-time check of a function's source: compiled and its top level run once in
    a throwaway isolate, never invoked. ``reason`` when not ok: ``invalid`` (syntax, a
    top level that throws), ``timeout`` (the top level ran over the function's limit) or
    ``crashed`` (loading it killed the check process, e.g. by exhausting memory)."""

    ok: bool
    error: JSErrorInfo | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    """Counters and gauges for metrics; a snapshot, cheap to take."""

    workers: int
    executors: int
    executors_busy: int
    warm_functions: int
    isolates: int
    queue_depth: int
    inflight: int
    cold_starts: int
    terminations: int
    crashes: int
    quarantined: int
    ready: bool
    #: deploy checks that killed their check process (a heap bomb at load): never a
    #: serving worker's crash
    check_crashes: int = 0
    queued_tenants: int = 0  #: tenants with invocations waiting (served in turn)
    abandoned_queued: int = 0  #: callers gone before their invocation started (dropped)
    abandoned_running: int = 0  #: callers gone while it ran (stopped at its next safe point)
    #: worker deaths by cause (runtime/blame.py): signal, oom, killed, exit
    crashes_by_reason: dict[str, int] = field(default_factory=dict)
    #: calls run again because their worker died before they started
    retried: int = 0
    #: fetch() calls of functions: (tenant, outcome) -> count
    egress: dict[tuple[str, str], int] = field(default_factory=dict)
    #: invocations awaiting timers or fetch (they hold no executor)
    waiting: int = 0
    #: the workers' code caches (runtime/code_cache.py) by name: hits, misses, evictions
    #: (since start, over all workers), size and bound (summed over live workers)
    worker_caches: dict[str, tuple[int, int, int, int, int]] = field(default_factory=dict)
