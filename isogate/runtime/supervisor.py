"""The gateway-side runtime: :class:`Runtime`, the asyncio API the gateway calls.

It starts runtime worker processes (pool.py), keeps a mirror of which function is warm
on which executor thread, routes each invocation (admission.py), exchanges typed
messages with the executors (messages.py, wire.py), reads what each frame from a worker
means (frames.py) and quarantines functions that crash workers (quarantine.py).
:class:`Runtime` is one object made of those halves (the mixins ``WorkerPool``,
``Admission`` and ``Frames``): their state is set up here. This module holds the API
(start and close, ``invoke``, ``validate``, stats) and the call's path: the checks
before admission, the exchange with an executor, and the retry of a call whose worker
died before it started.

A caller that goes away (its task cancelled) leaves the queue at once and frees its
place. One whose call already runs frees its executor when the call's current eval
returns (the next safe point: nothing more of it runs); if the call awaits host
operations (timers, fetch), the executor is sent a :class:`~.messages.Cancel` and ends
it there and then: its timers dropped, its fetches cancelled, its waiting place freed.
Both are counted as abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from isogate.caches import LRU
from isogate.config.runtime import RuntimeSettings

from . import uts46
from .admission import (
    HANG_GRACE_S,
    PIPELINE_DEPTH,
    PIPELINE_MAX_RUN_MS,
    SWEEP_INTERVAL_S,
    Admission,
)
from .blame import REASONS
from .body_stream import collect
from .frames import Frames
from .messages import Evict, FromWorker, NeedCode, Result
from .pool import Gone, WorkerPool, _Call, _Executor, _Pending, _Worker
from .quarantine import Quarantine
from .types import (
    FunctionRef,
    InvokeRequest,
    InvokeResult,
    JSErrorInfo,
    Outcome,
    RuntimeStats,
    Timings,
    ValidationResult,
)
from .validation import Validators
from .wire import invoke_message, invoke_result

#: functions whose run time is remembered (~100 bytes each); the least recently run go
#: first: a function forgotten is only treated as slow (not pipelined) until it runs again
RUN_MS_ENTRIES = 10_000

__all__ = [
    "HANG_GRACE_S",
    "NOT_STARTED",
    "PIPELINE_DEPTH",
    "PIPELINE_MAX_RUN_MS",
    "SWEEP_INTERVAL_S",
    "_WEDGED",
    "CodeLoader",
    "Runtime",
    "_Call",
    "_Executor",
    "_Pending",
]

log = logging.getLogger("isogate.runtime")

CodeLoader = Callable[[FunctionRef], Awaitable[str]]

#: the detail of a call whose worker died before it started (run once more)
NOT_STARTED = "the runtime worker died before this call started"
#: the answer the sweep gives a call past its deadline (the exchange kills the worker)
_WEDGED = Gone.WEDGED


class Runtime(WorkerPool, Admission, Frames):
    """Runs tenant functions in pre-warmed V8 isolates in runtime worker processes."""

    def __init__(
        self,
        settings: RuntimeSettings,
        code_loader: CodeLoader | None = None,
        *,
        worker_home: str | None = None,
        egress: Any = None,
        own_addresses: list[tuple[str, int]] | None = None,
    ) -> None:
        """``worker_home`` is HOME for worker processes (default: a private temp dir).
        ``egress`` (EgressSettings, default: public addresses only) is the policy of
        ``fetch`` from functions;
        ``own_addresses`` are the gateway's listening addresses, never reachable."""
        self.settings = settings
        if egress is None:  # the default policy: public addresses only
            from isogate.config.egress import EgressSettings

            egress = EgressSettings()
        self._egress = egress
        self._own_addresses = list(own_addresses or [])
        self._code_loader = code_loader
        self._workers = [_Worker(i) for i in range(settings.workers)]
        #: waiting invocations per tenant, each FIFO; the dict's order is the turn order
        #: (a tenant served moves to the end). Entries leave as soon as they are
        #: dispatched, expired or abandoned, so ``_queued`` counts live waiting calls.
        self._queues: dict[str, deque[_Pending]] = {}
        self._queued = 0
        self._abandoned_queued = 0  # callers gone before their call started
        self._abandoned_running = 0  # callers gone while their call ran
        self._ids = itertools.count(1)
        #: performs a function's KV operation: (its ref, the prelude's JSON) -> delivery
        #: payload; set by the gateway (isogate.state.kv_host). Unset: KV calls fail.
        self.kv_host: Callable[[FunctionRef, str], Awaitable[str]] | None = None
        self._kv_tasks: set[asyncio.Task[None]] = set()
        self._quarantine = Quarantine(settings)
        #: crash suspects (quarantine.py): routing runs them alone on a worker
        self._suspects = self._quarantine.suspects
        self._cold_starts = 0
        self._terminations = 0
        self._crashes = 0
        self._crash_reasons: dict[str, int] = dict.fromkeys(REASONS, 0)
        self._inflight = 0
        #: calls of each tenant awaiting host operations (runtime.max_waiting_per_tenant)
        self._waiting: dict[str, int] = {}
        self._after_logs = 0  # "after" frames: logs of ctx.waitUntil() work
        #: fetch() calls of functions: (tenant, outcome) -> count
        self._egress_counts: dict[tuple[str, str], int] = {}
        #: the workers' code caches: name -> [hits, misses, evictions] (over all workers),
        #: and (worker pid, name) -> (size, bound) as last reported
        self._worker_cache_counts: dict[str, list[int]] = {}
        self._worker_cache_sizes: dict[tuple[int, str], tuple[int, int]] = {}
        self._retried = 0  # calls run again because their worker died before they started
        #: moving average of each function's run time (admission.py: which calls pipeline)
        self._run_ms: LRU[str, float] = LRU("runtime_run_ms", RUN_MS_ENTRIES)
        self._closing = False
        self._started = False
        self._own_home = worker_home is None
        self._home = worker_home or tempfile.mkdtemp(prefix="isogate-runtime-")
        self._tables: str | None = None  # the saved UTS #46 tables (_save_tables)
        self._reaper: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._prewarm_waiters: list[asyncio.Future[None]] = []
        #: deploy checks run in processes of their own, started on first use
        self._validators: Validators | None = None

    async def start(self) -> None:
        """Self-test V8 (Intl/ICU), start every worker and wait until they are ready."""
        await asyncio.to_thread(self._save_tables)
        await self._self_test()
        await asyncio.gather(*(self._spawn(w) for w in self._workers))
        self._started = True
        self._reaper = asyncio.create_task(self._reap_spares())
        self._sweeper = asyncio.create_task(self._sweep())

    async def close(self) -> None:
        """Stop workers; pending invocations get 'overloaded'."""
        self._closing = True
        for task in (self._reaper, self._sweeper):
            if task:
                task.cancel()
        queues, self._queues, self._queued = self._queues, {}, 0
        for q in queues.values():
            for p in q:
                if not p.future.done():
                    p.future.set_result(_result(Outcome.OVERLOADED, detail="runtime shutting down"))
        for w in self._workers:
            await self._stop_worker(w)
        if self._validators is not None:
            await self._validators.close()
        if self._own_home:
            shutil.rmtree(self._home, ignore_errors=True)
        if self._tables is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tables)

    def _save_tables(self) -> None:
        """Make the URL hosts' UTS #46 tables once (uts46.py) for every worker and code
        checker this runtime starts, restarts included; on failure each makes its own."""
        fd, path = tempfile.mkstemp(prefix="isogate-uts46-", suffix=".js")
        os.close(fd)
        try:
            uts46.save(path)
        except OSError as e:
            log.warning("UTS #46 tables not saved (%s); each worker makes its own", e)
            with contextlib.suppress(OSError):
                os.unlink(path)
            return
        self._tables = path

    @property
    def ready(self) -> bool:
        """True once started, while at least one worker serves with its first blank
        isolates made (the rest of each pool fills in idle time)."""
        return (
            self._started
            and not self._closing
            and any(w.alive and all(ex.prewarmed for ex in w.executors) for w in self._workers)
        )

    @property
    def prewarmed(self) -> bool:
        """Every executor of every live worker holds its full set of blank isolates."""
        exs = self._executors()
        return bool(exs) and all(ex.blanks >= self.settings.prewarm_isolates for ex in exs)

    async def wait_prewarmed(self, timeout: float = 60.0) -> None:
        """Wait until :attr:`prewarmed` (benchmarks; start-up readiness uses ``ready``)."""
        if self.prewarmed:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._prewarm_waiters.append(fut)
        async with asyncio.timeout(timeout):
            await fut

    async def invoke(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult:
        """Run ``ref``'s handler on ``request``. Never raises for tenant behaviour.

        A call whose worker died before it started is run once more (it never ran, so
        running it again cannot repeat any of its effects)."""
        result = await self._invoke_once(ref, request)
        if result.outcome is Outcome.CRASHED and result.detail == NOT_STARTED:
            self._retried += 1
            result = await self._invoke_once(ref, request)
            if result.detail == NOT_STARTED:
                result = replace(result, detail="the runtime worker restarted; retry")
        if result.stream is not None and not request.stream:
            return await collect(result)  # this caller wants the body whole
        return result

    async def _invoke_once(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult:
        t0 = time.monotonic()
        refused = self._quarantine.refused(ref)
        if refused is not None:
            return _result(Outcome.QUARANTINED, detail=refused)
        if len(request.body) > self.settings.max_request_body:
            return _result(
                Outcome.TOO_LARGE,
                detail=f"request body over {self.settings.max_request_body} bytes",
            )
        if self._closing or not self._started:
            return _result(Outcome.OVERLOADED, detail="runtime not running")
        if self._waiting.get(ref.tenant, 0) >= self.settings.max_waiting_per_tenant:
            return _result(Outcome.BUSY, detail="too many of this tenant's calls are in flight")
        loop = asyncio.get_running_loop()
        pending = _Pending(ref, request, loop.create_future(), t0)
        self._inflight += 1
        try:
            ex = None
            if not self._queued:
                ex = self._pick(ref.key) or self._pick_pipelined(ref.key)
            if ex is not None:
                # The common case: run in this task, no queue, no extra task.
                self._reserve(pending, ex)
                return await self._run(pending, ex)
            if self._queued >= self.settings.max_queue:
                return _result(Outcome.OVERLOADED, detail="too many invocations waiting")
            mine = self._queues.get(ref.tenant)
            if mine is not None and len(mine) >= self.settings.max_queue_per_tenant:
                return _result(Outcome.BUSY, detail="too many of this tenant's calls waiting")
            self._enqueue(pending)
            # a free place the calls ahead could not take (their function at its cap)
            self._drain_queue()
            # Waiting in the queue is bounded (by _sweep); once dispatched, the exchange
            # with the worker has its own deadline.
            try:
                # Resolved with the executor it was given, or with an answer (expired).
                got = await pending.future
            except asyncio.CancelledError:
                # The caller went away before its call started: free its place now.
                fut = pending.future
                given = fut.result() if fut.done() and not fut.cancelled() else None
                if isinstance(given, _Executor):
                    self._release_if_current(given, pending)  # given, never used
                else:
                    self._unqueue(pending)
                self._abandoned_queued += 1
                raise
            if isinstance(got, _Executor):
                return await self._run(pending, got)
            return got
        finally:
            self._inflight -= 1

    async def _run(self, pending: _Pending, ex: _Executor) -> InvokeResult:
        started = time.monotonic()
        release = True
        try:
            outcome = await self._exchange(pending, ex, started)
        except asyncio.CancelledError:
            # The caller went away (or the gateway gave up), but the worker still has
            # the call: its places stay taken until its answer arrives (see _on_answer).
            # A call awaiting host operations is told to end now (Cancel); one running
            # JavaScript is told at its "wait" frame, if it sends one.
            call = pending.call
            if call is not None and call.stream is not None:
                call.stream.cancel()  # its answer came, but nobody will read the body
            if call is not None and ex.worker.calls.get(call.id) is call:
                call.abandoned = True
                release = False
                if call.waiting:
                    self._cancel(call)
            self._abandoned_running += 1
            raise
        except Exception as exc:  # a bug here must not leave the caller waiting
            log.exception("invocation of %s failed in the supervisor", pending.ref.key)
            outcome = _result(Outcome.CRASHED, detail=f"runtime error: {type(exc).__name__}")
        finally:
            call = pending.call
            if release and not (call is not None and call.released):
                self._finish(ex, pending)
            # pending <-> call is a reference cycle holding the request and the result
            # frame (bodies of megabytes) until a garbage collection, which an idle
            # gateway may not run for long: 44 refused 8 MB answers kept 350 MB resident
            pending.call = None
        if outcome.outcome is not Outcome.CRASHED:
            self._suspects.discard(pending.ref.key)  # ran alone and the worker lived
        if outcome.executor:  # built by _to_result: timings and executor filled in
            return outcome
        queued = (started - pending.enqueued) * 1000
        total = (time.monotonic() - pending.enqueued) * 1000
        return replace(outcome, timings=Timings(queued, 0.0, 0.0, total), executor=ex.name)

    def _finish(self, ex: _Executor, pending: _Pending) -> None:
        """The call of ``pending`` on ``ex`` is over: end its solo run and free ``ex``."""
        if ex.worker.solo == pending.ref.key:
            ex.worker.solo = None
        self._release_if_current(ex, pending)

    async def _exchange(self, pending: _Pending, ex: _Executor, started: float) -> InvokeResult:
        ref = pending.ref
        w = ex.worker
        req = pending.request
        limit = self._limit(ref)
        for _ in range(2):
            source = None
            if ref.key not in w.sent_code:
                try:
                    source = await self._source(ref)
                except Exception as exc:
                    ex.warm.pop(ref.key, None)
                    log.warning("code of %s unavailable: %s", ref.key, exc)
                    return _result(
                        Outcome.CODE_UNAVAILABLE, detail="the function's code could not be fetched"
                    )
                w.sent_code.add(ref.key)
            if not w.alive:  # it died while the code was being fetched
                return _result(Outcome.CRASHED, detail="the runtime worker restarted; retry")
            call_id = next(self._ids)
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[FromWorker | Gone] = loop.create_future()
            now = time.monotonic()
            # a pipelined call starts after the call ahead of it on this executor
            ahead = ex.last_deadline if ex.inflight > 1 else now
            deadline = max(ahead, now) + 2 * limit + HANG_GRACE_S
            ex.last_deadline = deadline
            call = _Call(call_id, pending, ex, now, deadline, fut)
            w.calls[call_id] = call
            pending.call = call
            if req.upload is not None:  # its function reads the rest of it from here
                w.uploads[call_id] = req.upload
            w.send(
                ex.index,
                invoke_message(
                    call_id,
                    ex.index,
                    ref,
                    req,
                    timeout_ms=int(limit * 1000),
                    cpu_ms=self._cpu_limit(ref),
                    source=source,
                ),
            )
            # No timer, no asyncio.timeout/shield: this is the hot path; _sweep enforces
            # the deadline. A cancelled caller cancels ``fut``; _run marks it abandoned.
            msg = await fut
            if type(msg) is not Result:
                if msg is Gone.WEDGED:
                    self._kill_wedged(w, call)
                    return _result(Outcome.CRASHED, detail="the runtime stopped answering")
                if type(msg) is NeedCode:
                    continue
                if msg is Gone.RETRY:
                    return _result(Outcome.CRASHED, detail=NOT_STARTED)
                return _result(
                    Outcome.CRASHED, detail="the runtime worker running this function died"
                )
            run_ms = msg.rt
            if msg.o == Outcome.TIMEOUT.value:
                run_ms = limit * 1000
            avg = self._run_ms.get(ref.key)  # not lookup: admission's reads are the hits
            self._run_ms[ref.key] = run_ms if avg is None else 0.8 * avg + 0.2 * run_ms
            result = self._to_result(msg, ex, pending.enqueued, started)
            if call.stream is not None:
                result = replace(result, stream=call.stream)
            return result
        return _result(Outcome.CRASHED, detail="the runtime could not obtain the code")

    async def _source(self, ref: FunctionRef) -> str:
        if ref.source is not None:
            return ref.source
        if self._code_loader is None:
            raise LookupError("no source and no code loader")
        async with asyncio.timeout(10):
            return await self._code_loader(ref)

    def _to_result(
        self, msg: Result, ex: _Executor, enqueued: float, started: float
    ) -> InvokeResult:
        result = invoke_result(
            msg,
            ex.name,
            Timings(
                queued_ms=(started - enqueued) * 1000,
                load_ms=msg.lt,
                run_ms=msg.rt,
                total_ms=(time.monotonic() - enqueued) * 1000,
            ),
        )
        if msg.cold and result.outcome is not Outcome.LOAD_ERROR:
            self._cold_starts += 1
        if result.outcome is Outcome.TIMEOUT:
            self._terminations += 1
        return result

    # -- other API ---------------------------------------------------------------------

    async def validate(
        self,
        source: str,
        env: tuple[tuple[str, str], ...] = (),
        timeout_ms: int | None = None,
    ) -> ValidationResult:
        """Check that ``source`` loads: compiled in the runtime's wrapper and its top level
        run once with ``env``, in a throwaway isolate of a check process (validation.py),
        never on the executors that serve calls."""
        if len(source.encode("utf-8", "surrogatepass")) > self.settings.max_source_bytes:
            return ValidationResult(
                False,
                JSErrorInfo("RangeError", f"code over {self.settings.max_source_bytes} bytes"),
                reason="invalid",
            )
        if self._validators is None:
            self._validators = Validators(self.settings, self._validator_command, self._worker_env)
        return await self._validators.check(
            source, env, timeout_ms or self.settings.default_timeout_ms
        )

    def _validator_command(self) -> list[str]:
        config = json.dumps(self.settings.model_dump())
        return [
            sys.executable, "-m", "isogate.runtime.validator", "--config", config,
            *self._tables_args(),
        ]  # fmt: skip

    @property
    def validation_crashes(self) -> int:
        """Deploy checks that killed their check process (never a serving worker)."""
        return self._validators.crashes if self._validators else 0

    def unquarantine(self, name: str) -> None:
        """``name`` was redeployed, rolled back or deleted: lift the quarantine of its
        versions (not of its code, nor its tenant's spent crash budget) and evict its
        warm contexts from every executor, so that no later incarnation of the name, of
        this tenant or another, can meet them."""
        prefix = f"{name}@"
        for ex in self._executors():
            for key in [k for k in ex.warm if k.startswith(prefix)]:
                ex.warm.pop(key, None)
                with contextlib.suppress(Exception):
                    ex.worker.send(ex.index, Evict(ex.index, key))
        for w in self._workers:
            w.sent_code = {k for k in w.sent_code if not k.startswith(prefix)}
        self._quarantine.forget(prefix)

    def is_quarantined(self, ref: FunctionRef) -> bool:
        return self._quarantine.refused(ref) is not None

    def tenant_blocked(self, tenant: str) -> float:
        """Seconds until ``tenant`` may call and deploy again (0: not blocked)."""
        return self._quarantine.tenant_blocked(tenant)

    def _worker_caches(self) -> dict[str, tuple[int, int, int, int, int]]:
        live = {w.proc.pid for w in self._workers if w.alive and w.proc}
        for key in [k for k in self._worker_cache_sizes if k[0] not in live]:
            del self._worker_cache_sizes[key]  # a dead worker's caches went with it
        sizes: dict[str, list[int]] = {}
        for (_pid, name), (size, bound) in self._worker_cache_sizes.items():
            total = sizes.setdefault(name, [0, 0])
            total[0] += size
            total[1] += bound
        return {
            name: (h, m, e, *sizes.get(name, [0, 0]))  # type: ignore[misc]
            for name, (h, m, e) in self._worker_cache_counts.items()
        }

    def stats(self) -> RuntimeStats:
        """A snapshot for metrics."""
        exs = self._executors()
        warm = sum(len(ex.warm) for ex in exs)
        return RuntimeStats(
            workers=sum(1 for w in self._workers if w.alive),
            executors=len(exs),
            executors_busy=sum(1 for ex in exs if ex.busy),
            warm_functions=warm,
            isolates=sum(w.isolates for w in self._workers if w.alive),
            queue_depth=self._queued,
            queued_tenants=len(self._queues),
            abandoned_queued=self._abandoned_queued,
            abandoned_running=self._abandoned_running,
            inflight=self._inflight,
            cold_starts=self._cold_starts,
            terminations=self._terminations,
            crashes=self._crashes,
            quarantined=len(self._quarantine.quarantined),
            ready=self.ready,
            check_crashes=self.validation_crashes,
            crashes_by_reason=dict(self._crash_reasons),
            retried=self._retried,
            egress=dict(self._egress_counts),
            waiting=sum(self._waiting.values()),
            worker_caches=self._worker_caches(),
        )

    def worker_pids(self) -> list[int]:
        """PIDs of the live worker processes (for operators and fault tests)."""
        return [w.proc.pid for w in self._workers if w.alive and w.proc]

    def placement(self, key: str) -> list[str]:
        """Executors where a function version is warm (or loading)."""
        return [ex.name for ex in self._executors() if key in ex.warm]


def _result(outcome: Outcome, *, detail: str = "") -> InvokeResult:
    return InvokeResult(outcome=outcome, detail=detail)
