"""The gateway-side runtime: worker processes, routing, backpressure, quarantine.

:class:`Runtime` is the asyncio API the gateway calls. It starts runtime worker
processes (worker.py), keeps a mirror of which function is warm on which executor
thread, and routes each invocation:

1. to an idle executor where the function is already warm;
2. else, while fewer than ``max_concurrency_per_function`` executors hold it, to an
   idle executor that cold-loads it (spill-over);
3. else into its tenant's queue. Tenants' queues are served in turn (round-robin), each
   FIFO, as executors free up, so one tenant's backlog delays another tenant's call by
   at most one dispatch per other waiting tenant, whatever the backlog's length. A full
   queue, or a wait longer than ``queue_timeout_ms``, answers "overloaded"; a tenant
   over ``max_queue_per_tenant`` waiting calls is answered "busy" (that tenant only).

A caller that goes away (its task cancelled) leaves the queue at once and frees its
place; one whose call already runs frees its executor when the call's current eval
returns (the next safe point: nothing more of it runs). Both are counted as abandoned.

A worker that dies fails its running invocations with "crashed" and is restarted; calls
sent to it that had not started yet are retried once elsewhere. Who is to blame follows
blame.py: a tenant-kind death (out of memory, wedged, RSS cap) strikes the one function
running, a runtime fault (a native crash) strikes nobody unless the same function is
implicated in crashes of different worker processes; ``quarantine_crashes`` strikes
within the window quarantine a function until redeployed.
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
from dataclasses import dataclass, field, replace
from typing import Any

from isogate.config.runtime import RuntimeSettings

from .blame import REASONS, Attribution, crash_reason, signal_name
from .errors import RuntimeStartError
from .protocol import HEADER, MAX_FRAME, FrameDecoder, ProtocolError, pack, unpack
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

log = logging.getLogger("isogate.runtime")

CodeLoader = Callable[[FunctionRef], Awaitable[str]]

# How long past its own limit an invocation may stay unanswered before the worker
# is presumed wedged and killed (a deadline on every call to the isolate).
HANG_GRACE_S = 5.0
#: the detail of a call whose worker died before it started (run once more)
NOT_STARTED = "the runtime worker died before this call started"
#: how often waiting invocations are checked against their deadlines (one periodic task
#: instead of a timer per call: at thousands of calls per second the loop's timer heap
#: filled with cancelled handles and every push cost dozens of Python-level comparisons)
SWEEP_INTERVAL_S = 0.05
#: calls an executor may hold at once. The second waits in the executor's pipe, so the
#: thread goes straight from one call to the next instead of sleeping in read() and being
#: woken (on these VMs a cross-CPU wake-up cost ~20 µs of the writer's time, the largest
#: single cost of the gateway's side of a warm call). Only warm, fast functions queue there.
PIPELINE_DEPTH = 16
#: a function pipelines only while its calls take less than this (moving average)
PIPELINE_MAX_RUN_MS = 2.0


@dataclass(eq=False)
class _Executor:
    worker: _Worker
    index: int
    inflight: int = 0  # calls reserved on it (running, or waiting in its pipe)
    #: calls in flight there that await host operations (timers, fetch): they hold no
    #: CPU place, only memory (bounded by runtime.max_waiting_per_executor)
    waiting: int = 0
    #: the deadline of the last call reserved on it (a pipelined call starts after it)
    last_deadline: float = 0.0
    dead: bool = False  # its worker died: never routable again
    slow: int = 0  # of those, calls of functions not known to be fast
    warm: dict[str, float] = field(default_factory=dict)  # key -> last used (monotonic)
    blanks: int = 0  # pre-warmed isolates, as last reported
    pipe: asyncio.WriteTransport | None = None  # requests to this executor thread
    results: asyncio.ReadTransport | None = None  # its answers

    def close_pipes(self) -> None:
        for transport in (self.pipe, self.results):
            if transport is not None:
                transport.close()

    prewarmed: bool = False  # has enough blanks to serve (READY_BLANKS, or its whole pool)

    #: runtime.max_waiting_per_executor (set by the runtime)
    max_waiting: int = 1 << 30

    @property
    def busy(self) -> bool:
        """Running (or holding) at least one call, or full of waiting ones: not idle."""
        return self.inflight > 0 or self.dead or self.waiting >= self.max_waiting

    @property
    def name(self) -> str:
        return f"w{self.worker.slot}.e{self.index}"


@dataclass(eq=False)
class _Pending:
    ref: FunctionRef
    request: InvokeRequest
    future: asyncio.Future[InvokeResult | _Executor]
    enqueued: float
    dispatched: bool = False
    slow: bool = False  # reserved while its function was not known to be fast
    call: _Call | None = None  # the current exchange with a worker


@dataclass(eq=False)
class _Call:
    """An invocation sent to an executor, waiting for its result frame."""

    id: int
    pending: _Pending
    executor: _Executor
    started: float
    deadline: float  # monotonic: past it, the isolate ignored its watchdog
    future: asyncio.Future[dict[str, Any]]
    #: the caller gave up (cancelled) while the worker still runs the call: the executor
    #: is released when the answer arrives
    abandoned: bool = False
    #: the answer arrived and the executor was released then (not when the caller resumes)
    released: bool = False
    #: the call awaits host operations: its CPU place was released then ("wait" frame)
    waiting: bool = False


class _Worker:
    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.proc: asyncio.subprocess.Process | None = None
        self.executors: list[_Executor] = []
        self.alive = False
        self.calls: dict[int, _Call] = {}
        self.validations: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.sent_code: set[str] = set()
        self.reader: asyncio.Task[None] | None = None
        self.stderr_task: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] | None = None
        self.warmed: asyncio.Future[None] | None = None
        self.solo: str | None = None  # a suspect running alone here (crash attribution)
        self.killed = False  # the supervisor killed this process (wedged, bad frame)
        self.stderr_tail: deque[str] = deque(maxlen=20)  # why it died, if it says
        self.isolates = 0  # live V8 isolates, as last reported

    def send(self, message: dict[str, Any]) -> None:
        pipe = self.executors[message["ex"]].pipe
        if pipe is None or pipe.is_closing():
            raise ConnectionError("the executor's pipe is closed")
        pipe.write(pack(message))


class _ResultPipe(asyncio.Protocol):
    """Frames from one executor thread, handed to the runtime as they arrive."""

    def __init__(
        self, on_message: Callable[[dict[str, Any]], None], on_error: Callable[[], None]
    ) -> None:
        self._decoder = FrameDecoder()
        self._on_message = on_message
        self._on_error = on_error

    def data_received(self, data: bytes) -> None:
        try:
            for message in self._decoder.feed(data):
                self._on_message(message)
        except ProtocolError:
            self._on_error()


class Runtime:
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
        self._strikes: dict[str, deque[float]] = {}
        self._quarantined: set[str] = set()
        #: (tenant, sha256) of code that was quarantined -> until when (monotonic): a
        #: redeploy of the same code does not lift it before the window ends
        self._bad_code: dict[tuple[str, str], float] = {}
        #: strikes of each tenant's functions, and tenants whose crash budget is spent
        #: (-> until when, monotonic): a tenant cannot escape quarantine by redeploying
        self._tenant_strikes: dict[str, deque[float]] = {}
        self._tenant_blocked: dict[str, float] = {}
        self._suspects: set[str] = set()  # in flight during an ambiguous crash
        self._cold_starts = 0
        self._terminations = 0
        self._crashes = 0
        self._crash_reasons: dict[str, int] = dict.fromkeys(REASONS, 0)
        self._attribution = Attribution(settings.quarantine_window_seconds)
        self._inflight = 0
        #: calls of each tenant awaiting host operations (runtime.max_waiting_per_tenant)
        self._waiting: dict[str, int] = {}
        self._after_logs = 0  # "after" frames: logs of ctx.waitUntil() work
        #: fetch() calls of functions: (tenant, outcome) -> count
        self._egress_counts: dict[tuple[str, str], int] = {}
        self._retried = 0  # calls run again because their worker died before they started
        self._run_ms: dict[str, float] = {}  # moving average of each function's run time
        self._closing = False
        self._started = False
        self._own_home = worker_home is None
        self._home = worker_home or tempfile.mkdtemp(prefix="isogate-runtime-")
        self._reaper: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._prewarm_waiters: list[asyncio.Future[None]] = []
        #: deploy checks run in processes of their own, started on first use
        self._validators: Validators | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Self-test V8 (Intl/ICU), start every worker and wait until they are ready."""
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

    def _worker_command(self, *extra: str) -> list[str]:
        config = json.dumps(self.settings.model_dump())
        return [sys.executable, "-m", "isogate.runtime.worker", "--config", config, *extra]

    def _egress_args(self) -> list[str]:
        if self._egress is None:
            return []
        data = self._egress.model_dump(mode="json")
        data["own_addresses"] = [[h, p] for h, p in self._own_addresses]
        return ["--egress", json.dumps(data)]

    def _worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # stpyv8 reads ICU data from ~/.local/share/stpyv8 first; a copy there makes
        # Intl abort the process (DESIGN.md). Workers start V8 with a clean HOME of their
        # own (icu.py); a private HOME also keeps them out of the user's files.
        env["HOME"] = self._home
        return env

    async def _self_test(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self._worker_command("--self-test"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._worker_env(),
        )
        try:
            async with asyncio.timeout(self.settings.start_timeout_seconds):
                out, err = await proc.communicate()
        except TimeoutError:
            proc.kill()
            raise RuntimeStartError("the runtime self-test did not finish in time") from None
        message: dict[str, Any] = {}
        if len(out) > HEADER.size:
            with contextlib.suppress(Exception):
                message = unpack(out[HEADER.size :])
        if not message.get("ok"):
            raise RuntimeStartError(
                "V8 self-test failed; refusing to serve (Intl would crash isolates). "
                f"Got {message.get('intl')!r}, exit code {proc.returncode}. "
                "Check stpyv8's ICU data (isogate/runtime/icu.py): the wheel's "
                "stpyv8-icu/icudtl.dat, or /usr/share/stpyv8/icudtl.dat when present. "
                f"stderr: {err.decode(errors='replace')[-500:]}"
            )

    async def _spawn(self, w: _Worker) -> None:
        loop = asyncio.get_running_loop()
        w.ready = loop.create_future()
        w.warmed = loop.create_future()
        w.sent_code = set()
        n = self.settings.threads_per_worker
        requests = [os.pipe() for _ in range(n)]  # (child reads, we write)
        results = [os.pipe() for _ in range(n)]  # (we read, child writes)
        child_fds = [fd for i in range(n) for fd in (requests[i][0], results[i][1])]
        try:
            w.proc = await asyncio.create_subprocess_exec(
                *self._worker_command("--pipes", ",".join(map(str, child_fds))),
                *self._egress_args(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._worker_env(),
                limit=MAX_FRAME,
                pass_fds=child_fds,
            )
        finally:
            for fd in child_fds:
                os.close(fd)
        w.executors = [
            _Executor(w, i, max_waiting=self.settings.max_waiting_per_executor) for i in range(n)
        ]
        for ex, (_, write_fd), (read_fd, _) in zip(w.executors, requests, results, strict=True):
            ex.pipe, _ = await loop.connect_write_pipe(
                asyncio.Protocol, os.fdopen(write_fd, "wb", buffering=0)
            )
            ex.results, _ = await loop.connect_read_pipe(
                lambda w=w: _ResultPipe(
                    lambda m, w=w: self._on_message(w, m), lambda w=w: self._kill(w)
                ),
                os.fdopen(read_fd, "rb", buffering=0),
            )
        w.reader = asyncio.create_task(self._read(w, w.proc))
        w.stderr_task = asyncio.create_task(self._drain_stderr(w, w.proc))
        try:
            async with asyncio.timeout(self.settings.start_timeout_seconds):
                await w.ready
                await w.warmed  # its executors hold their pre-warmed isolates
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                w.proc.kill()
            raise RuntimeStartError(f"runtime worker {w.slot} did not start in time") from None
        w.alive = True
        log.info("runtime worker %d ready (pid %d)", w.slot, w.proc.pid)
        self._drain_queue()

    async def _stop_worker(self, w: _Worker) -> None:
        proc = w.proc
        w.alive = False
        if proc is None:
            return
        if proc.returncode is None:
            # End of every request pipe ends the executors; end of stdin, the worker.
            for ex in w.executors:
                if ex.pipe is not None:
                    ex.pipe.close()
            with contextlib.suppress(Exception):
                proc.stdin.close()  # type: ignore[union-attr]
            try:
                async with asyncio.timeout(5):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for ex in w.executors:
            ex.close_pipes()
        calls, w.calls = w.calls, {}
        for call in calls.values():  # nothing will answer them any more
            if not call.future.done():
                call.future.set_result({"op": "crashed"})
        for task in (w.reader, w.stderr_task):
            if task:
                task.cancel()

    def _kill(self, w: _Worker) -> None:
        """A worker that breaks the protocol is killed (and restarted as a crash)."""
        if w.proc and w.proc.returncode is None:
            log.error("runtime worker %d sent a malformed frame; killing it", w.slot)
            w.killed = True
            with contextlib.suppress(ProcessLookupError):
                w.proc.kill()

    async def _drain_stderr(self, w: _Worker, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                w.stderr_tail.append(text)
                log.warning("runtime worker %d: %s", w.slot, text)

    async def _read(self, w: _Worker, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                header = await proc.stdout.readexactly(HEADER.size)
                (size,) = HEADER.unpack(header)
                if size > MAX_FRAME:
                    raise ValueError("frame too large")
                self._on_message(w, unpack(await proc.stdout.readexactly(size)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            return
        if proc is w.proc and not self._closing:
            await self._on_crash(w, proc)

    # -- messages from workers ---------------------------------------------------------

    def _on_message(self, w: _Worker, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op == "ready":
            if w.ready and not w.ready.done():
                w.ready.set_result(None)
        elif op == "wait":
            call = w.calls.get(msg["id"])
            if call is not None and not call.waiting:
                call.waiting = True
                ex = call.executor
                ex.waiting += 1
                tenant = call.pending.ref.tenant
                self._waiting[tenant] = self._waiting.get(tenant, 0) + 1
                call.released = True
                self._finish(ex, call.pending)
        elif op == "egress":
            for tenant, outcome, n in msg.get("c") or ():
                key = (str(tenant), str(outcome))
                self._egress_counts[key] = self._egress_counts.get(key, 0) + int(n)
        elif op == "after":
            # what a function logged after its response (ctx.waitUntil work)
            self._after_logs += 1
            for line in (msg.get("l") or ())[:100]:
                log.info("invocation %s (after its response): %s", msg.get("id"), str(line)[:2000])
        elif op == "result" or op == "need_code":
            call = w.calls.pop(msg["id"], None)
            if call is None:
                return
            waited = call.waiting  # its CPU place was released at its "wait" frame
            if waited:
                self._unwait(call)
            if op == "need_code":
                w.sent_code.discard(call.pending.ref.key)
                if call.abandoned:  # nobody is left to send the code: the executor is free
                    self._finish(call.executor, call.pending)
            elif waited:
                self._mirror(call.executor, msg)
            else:
                # The executor is free as of this answer: hand it its next call now, not
                # after the caller's task resumes (a loop iteration later, which under load
                # left executors idle between calls).
                self._mirror(call.executor, msg)
                call.released = True
                self._finish(call.executor, call.pending)
            if not call.abandoned and not call.future.done():
                call.future.set_result(msg)
        elif op == "validated":
            fut = w.validations.pop(msg["id"], None)
            if fut and not fut.done():
                fut.set_result(msg)
        elif op == "blanks":
            ex = w.executors[msg["ex"]]
            ex.blanks = msg["n"]
            ex.prewarmed = True
            w.isolates = msg.get("iso", w.isolates)
            if w.warmed and not w.warmed.done() and all(e.prewarmed for e in w.executors):
                w.warmed.set_result(None)
            if self._prewarm_waiters and self.prewarmed:
                for fut in self._prewarm_waiters:
                    if not fut.done():
                        fut.set_result(None)
                self._prewarm_waiters.clear()
        elif op == "evicted":
            ex = w.executors[msg["ex"]]
            for key in msg["keys"]:
                ex.warm.pop(key, None)

    async def _on_crash(self, w: _Worker, proc: asyncio.subprocess.Process) -> None:
        w.alive = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await proc.wait()
        if w.stderr_task is not None:  # its last words tell an out-of-memory abort
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                async with asyncio.timeout(1):
                    await asyncio.shield(w.stderr_task)
        self._crashes += 1
        now = time.monotonic()
        reason = crash_reason(proc.returncode, w.killed, w.stderr_tail)
        self._crash_reasons[reason] += 1
        w.killed = False
        w.stderr_tail.clear()
        # Each executor runs its calls in order: the oldest call sent to it is the one
        # running, the ones behind it (pipelined) never started and are retried.
        running: dict[_Executor, _Call] = {}
        waited: list[_Call] = []
        for call in sorted(w.calls.values(), key=lambda c: c.id):
            if call.waiting:
                waited.append(call)  # started: it awaited a host operation there
                self._unwait(call)
            else:
                running.setdefault(call.executor, call)
        started = {call.pending.ref.key for call in running.values()}
        log.error(
            "runtime worker %d died (%s, %s) running %s; %d call(s) not started are retried",
            w.slot,
            signal_name(proc.returncode),
            reason,
            sorted(started),
            len(w.calls) - len(running) - len(waited),
        )
        verdict = self._attribution.judge(reason, started, proc.pid, now)
        refs = {call.pending.ref.key: call.pending.ref for call in running.values()}
        for key in verdict.strike:
            self._strike(refs[key], now)
        self._suspects.update(verdict.suspects)
        w.solo = None
        calls, w.calls = w.calls, {}
        ran = {id(c) for c in running.values()} | {id(c) for c in waited}
        for call in calls.values():
            if not call.future.done():
                call.future.set_result({"op": "crashed" if id(call) in ran else "retry"})
        for fut in w.validations.values():
            if not fut.done():
                fut.set_result({"op": "crashed"})
        w.validations = {}
        for ex in w.executors:
            ex.dead = True  # not routable; the new process brings new executors
            ex.warm.clear()
            ex.close_pipes()
        if self._closing:
            return
        for attempt in range(10):
            try:
                await self._spawn(w)
                return
            except (RuntimeStartError, OSError) as exc:
                log.error("restarting runtime worker %d failed: %s", w.slot, exc)
                await asyncio.sleep(min(0.1 * 2**attempt, 5))

    def _unwait(self, call: _Call) -> None:
        """A waiting call ended (answered, or its worker died)."""
        call.waiting = False
        ex = call.executor
        ex.waiting -= 1
        tenant = call.pending.ref.tenant
        left = self._waiting.get(tenant, 0) - 1
        if left > 0:
            self._waiting[tenant] = left
        else:
            self._waiting.pop(tenant, None)
        if ex.waiting + 1 >= ex.max_waiting:
            self._drain_queue()  # it was full: it takes calls again

    def _strike(self, ref: FunctionRef, now: float) -> None:
        key = ref.key
        window = self.settings.quarantine_window_seconds
        self._suspects.discard(key)
        strikes = self._strikes.setdefault(key, deque())
        strikes.append(now)
        while strikes and now - strikes[0] > window:
            strikes.popleft()
        if len(strikes) >= self.settings.quarantine_crashes:
            self._quarantined.add(key)
            self._bad_code[(ref.tenant, ref.sha256)] = now + window
            log.error("function %s quarantined after %d crashes", key, len(strikes))
        spent = self._tenant_strikes.setdefault(ref.tenant, deque())
        spent.append(now)
        while spent and now - spent[0] > window:
            spent.popleft()
        if len(spent) >= self.settings.tenant_crash_budget:
            self._tenant_blocked[ref.tenant] = now + window
            log.error(
                "tenant %s spent its crash budget (%d crashes); blocked for %.0f s",
                ref.tenant,
                len(spent),
                window,
            )

    def tenant_blocked(self, tenant: str) -> float:
        """Seconds until ``tenant`` may call and deploy again (0: not blocked)."""
        until = self._tenant_blocked.get(tenant)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._tenant_blocked[tenant]
            return 0.0
        return left

    def _refused(self, ref: FunctionRef) -> str | None:
        """Why ``ref`` may not run (quarantine of its version, its code, its tenant)."""
        if ref.key in self._quarantined:
            return "this function version crashed the runtime repeatedly; redeploy it"
        if self._bad_code:
            until = self._bad_code.get((ref.tenant, ref.sha256))
            if until is not None:
                if until > time.monotonic():
                    return "this code crashed the runtime repeatedly; deploy a fix"
                del self._bad_code[(ref.tenant, ref.sha256)]
        if self._tenant_blocked and self.tenant_blocked(ref.tenant):
            return "this tenant's functions crashed the runtime too often; retry later"
        return None

    # -- routing -----------------------------------------------------------------------

    def _executors(self) -> list[_Executor]:
        return [ex for w in self._workers if w.alive for ex in w.executors]

    def _copies(self, key: str) -> int:
        return sum(1 for ex in self._executors() if key in ex.warm)

    def _pick(self, key: str) -> _Executor | None:
        if key in self._suspects:
            return self._pick_solo(key)
        # One pass, no intermediate lists: this runs for every invocation.
        warm: _Executor | None = None
        warm_at = 0.0
        idle: list[_Executor] = []
        for w in self._workers:
            if not w.alive or w.solo is not None:
                continue
            for ex in w.executors:
                if ex.busy:
                    continue
                used = ex.warm.get(key)
                if used is not None:
                    if warm is None or used > warm_at:
                        warm, warm_at = ex, used
                elif warm is None:
                    idle.append(ex)
        if warm is not None:
            return warm
        if not idle:
            return None
        copies = self._copies(key)
        if copies >= self.settings.max_concurrency_per_function:
            return None
        if copies:
            # Spill-over only onto a pre-warmed isolate: making one on demand costs
            # milliseconds, more than waiting for the warm copy to finish its call.
            idle = [ex for ex in idle if ex.blanks > 0]
            if not idle:
                return None
        return min(idle, key=lambda ex: len(ex.warm))

    def _pick_pipelined(self, key: str) -> _Executor | None:
        """A busy executor where ``key`` is warm and only fast calls run: the call then
        waits in its pipe (see PIPELINE_DEPTH). None if there is none."""
        if key in self._suspects or not self._fast(key):
            return None
        best: _Executor | None = None
        for w in self._workers:
            if not w.alive or w.solo is not None:
                continue
            for ex in w.executors:
                if (
                    0 < ex.inflight < PIPELINE_DEPTH
                    and not ex.slow
                    and key in ex.warm
                    and (best is None or ex.inflight < best.inflight)
                ):
                    best = ex
        return best

    def _fast(self, key: str) -> bool:
        run_ms = self._run_ms.get(key)
        return run_ms is not None and run_ms < PIPELINE_MAX_RUN_MS

    def _pick_solo(self, key: str) -> _Executor | None:
        """An executor of a worker with nothing else running (for a crash suspect)."""
        for w in self._workers:
            if w.alive and w.solo is None and not any(ex.busy for ex in w.executors):
                warm = [ex for ex in w.executors if key in ex.warm]
                return warm[0] if warm else w.executors[0]
        return None

    def _reserve(self, pending: _Pending, ex: _Executor) -> None:
        if pending.ref.key in self._suspects:
            ex.worker.solo = pending.ref.key
        ex.inflight += 1
        pending.slow = not self._fast(pending.ref.key)
        ex.slow += pending.slow
        pending.dispatched = True
        if pending.ref.key not in ex.warm and ex.blanks:
            ex.blanks -= 1  # a cold load takes a blank (the worker reports the true count)
        ex.warm[pending.ref.key] = time.monotonic()

    def _dispatch(self, pending: _Pending, ex: _Executor) -> None:
        """Hand a queued invocation its executor: its own task then runs the exchange."""
        self._reserve(pending, ex)
        pending.future.set_result(ex)

    def _enqueue(self, pending: _Pending) -> None:
        """Put ``pending`` at the end of its tenant's queue (a new tenant takes the last turn)."""
        tenant = pending.ref.tenant
        q = self._queues.get(tenant)
        if q is None:
            q = self._queues[tenant] = deque()
        q.append(pending)
        self._queued += 1

    def _unqueue(self, pending: _Pending) -> bool:
        """Take ``pending`` out of its queue (its caller went away); False if not there."""
        tenant = pending.ref.tenant
        q = self._queues.get(tenant)
        if q is None:
            return False
        try:
            q.remove(pending)  # O(queue): bounded by max_queue_per_tenant
        except ValueError:
            return False
        self._queued -= 1
        if not q:
            del self._queues[tenant]
        return True

    def _placeable(
        self, q: deque[_Pending], has_idle: bool
    ) -> tuple[int, _Pending, _Executor] | bool | None:
        """The first call of ``q`` a free place can take: (index, call, executor); None
        when none can; False when a crash suspect must wait for a worker to fall idle
        (everyone waits behind it: crash attribution needs that worker to itself)."""
        for i, p in enumerate(q):
            if p.future.done():
                continue  # cancelled: its task takes it out when it resumes
            key = p.ref.key
            if not has_idle and (key in self._suspects or not self._fast(key)):
                continue  # only a pipeline place is left, and this call may not take it
            ex = self._pick(key) or self._pick_pipelined(key)
            if ex is not None:
                return i, p, ex
            if key in self._suspects:
                return False
            # its function is at its concurrency cap: let this tenant's others pass
        return None

    def _drain_queue(self) -> None:
        """Give queued invocations to free places, the tenants in turn (round-robin),
        each tenant's calls oldest first."""
        if not self._queued:
            return
        # free places: idle executors, and pipeline places behind fast calls (only a fast
        # warm function may take one of those)
        idle = pipelined = 0
        for ex in self._executors():
            if ex.inflight == 0:
                idle += 1
            elif ex.inflight < PIPELINE_DEPTH and not ex.slow:
                pipelined += PIPELINE_DEPTH - ex.inflight
        stuck: set[str] = set()  # tenants none of whose calls fits a free place now
        while idle or pipelined:
            tenant = next((t for t in self._queues if t not in stuck), None)
            if tenant is None:
                return
            q = self._queues[tenant]
            found = self._placeable(q, idle > 0)
            if found is False:
                return
            if found is None:
                stuck.add(tenant)  # free places only shrink in this loop: stays stuck
                continue
            i, p, ex = found  # type: ignore[misc]
            del q[i]
            self._queued -= 1
            del self._queues[tenant]  # its turn is used: to the end of the line
            if q:
                self._queues[tenant] = q
            was_idle = ex.inflight == 0
            self._dispatch(p, ex)
            if not was_idle:
                pipelined -= 1
            else:
                idle -= 1
                if not ex.slow:  # a fast call: the places behind it open for others
                    pipelined += PIPELINE_DEPTH - ex.inflight

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
        return result

    async def _invoke_once(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult:
        t0 = time.monotonic()
        refused = self._refused(ref)
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
                if fut.done() and not fut.cancelled() and isinstance(fut.result(), _Executor):
                    self._release_if_current(fut.result(), pending)  # given, never used
                else:
                    self._unqueue(pending)
                self._abandoned_queued += 1
                raise
            if isinstance(got, _Executor):
                return await self._run(pending, got)
            return got
        finally:
            self._inflight -= 1

    async def _sweep(self) -> None:
        """Enforce the deadlines of queued invocations and of exchanges with workers."""
        queue_timeout = self.settings.queue_timeout_ms / 1000
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                self._expire_due(queue_timeout)
            except Exception:  # never let the deadlines stop being enforced
                log.exception("deadline sweep failed")

    def _expire_due(self, queue_timeout: float) -> None:
        now = time.monotonic()
        if self._queued:
            # each tenant's queue is oldest first: expire from its front
            for tenant in list(self._queues):
                q = self._queues[tenant]
                while q and (q[0].future.done() or now - q[0].enqueued >= queue_timeout):
                    p = q.popleft()
                    self._queued -= 1
                    if not p.future.done():
                        p.future.set_result(
                            _result(Outcome.OVERLOADED, detail="no executor became free in time")
                        )
                if not q:
                    del self._queues[tenant]
        for w in self._workers:
            for call in [c for c in w.calls.values() if now >= c.deadline]:
                if call.abandoned or call.future.done():
                    # nobody waits for it, but the executor is still held: free it
                    self._kill_wedged(w, call)
                else:
                    call.future.set_result(_WEDGED)  # _exchange kills the worker

    def _kill_wedged(self, w: _Worker, call: _Call) -> None:
        """The isolate ignored its watchdog: kill the process (restarted by _read)."""
        w.calls.pop(call.id, None)
        log.error("worker %d wedged on %s; killing it", w.slot, call.pending.ref.key)
        if w.proc and w.proc.returncode is None:
            w.killed = True
            with contextlib.suppress(ProcessLookupError):
                w.proc.kill()

    def _cpu_limit(self, ref: FunctionRef) -> int:
        """CPU time (ms) one invocation of ``ref`` may use: its ``cpu_ms``; a function
        that set only a wall-time limit may compute for all of it."""
        ms = ref.cpu_ms or ref.timeout_ms or self.settings.default_cpu_ms
        return min(ms, self.settings.max_cpu_ms)

    def _limit(self, ref: FunctionRef) -> float:
        ms = ref.timeout_ms or self.settings.default_timeout_ms
        return min(ms, self.settings.max_timeout_ms) / 1000

    async def _run(self, pending: _Pending, ex: _Executor) -> InvokeResult:
        started = time.monotonic()
        release = True
        try:
            outcome = await self._exchange(pending, ex, started)
        except asyncio.CancelledError:
            # The caller went away, but the worker is still running the call: the
            # executor stays busy until its answer arrives (see _on_message).
            call = pending.call
            if call is not None and ex.worker.calls.get(call.id) is call:
                call.abandoned = True
                release = False
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

    def _mirror(self, ex: _Executor, msg: dict[str, Any]) -> None:
        """What a result frame tells about its executor: evictions, blanks, isolates."""
        for key in msg.get("ev") or ():
            ex.warm.pop(key, None)
        ex.blanks = msg.get("bl", ex.blanks)
        ex.worker.isolates = msg.get("iso", ex.worker.isolates)

    def _release_if_current(self, ex: _Executor, pending: _Pending) -> None:
        """Free ``pending``'s place on ``ex`` and hand out queued calls. After a crash the
        worker has new executors; the old one is gone for good."""
        if ex.worker.alive and ex in ex.worker.executors:
            ex.inflight -= 1
            ex.slow -= pending.slow
            self._drain_queue()

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
            fut: asyncio.Future[dict[str, Any]] = loop.create_future()
            now = time.monotonic()
            # a pipelined call starts after the call ahead of it on this executor
            ahead = ex.last_deadline if ex.inflight > 1 else now
            deadline = max(ahead, now) + 2 * limit + HANG_GRACE_S
            ex.last_deadline = deadline
            call = _Call(call_id, pending, ex, now, deadline, fut)
            w.calls[call_id] = call
            pending.call = call
            w.send(
                {
                    "op": "invoke",
                    "id": call_id,
                    "ex": ex.index,
                    "fn": {
                        "key": ref.key,
                        "tenant": ref.tenant,
                        "timeout_ms": int(limit * 1000),
                        "cpu_ms": self._cpu_limit(ref),
                        # msgpack packs tuples as arrays; secrets last: they win
                        "env": ref.env + ref.secrets if ref.secrets else ref.env,
                        "src": source,
                    },
                    "req": {
                        "m": req.method,
                        "u": req.url,
                        "h": req.headers,
                        "b": req.body,
                    },
                }
            )
            # No timer, no asyncio.timeout/shield: this is the hot path; _sweep enforces
            # the deadline. A cancelled caller cancels ``fut``; _run marks it abandoned.
            msg = await fut
            if msg is _WEDGED:
                self._kill_wedged(w, call)
                return _result(Outcome.CRASHED, detail="the runtime stopped answering")
            op = msg.get("op")
            if op == "need_code":
                continue
            if op == "retry":
                return _result(Outcome.CRASHED, detail=NOT_STARTED)
            if op == "crashed":
                return _result(
                    Outcome.CRASHED, detail="the runtime worker running this function died"
                )
            run_ms = float(msg.get("rt") or 0.0)
            if msg.get("o") == Outcome.TIMEOUT.value:
                run_ms = limit * 1000
            avg = self._run_ms.get(ref.key)
            if avg is None and len(self._run_ms) > 10_000:
                self._run_ms.clear()
            self._run_ms[ref.key] = run_ms if avg is None else 0.8 * avg + 0.2 * run_ms
            return self._to_result(msg, ex, pending.enqueued, started)
        return _result(Outcome.CRASHED, detail="the runtime could not obtain the code")

    async def _source(self, ref: FunctionRef) -> str:
        if ref.source is not None:
            return ref.source
        if self._code_loader is None:
            raise LookupError("no source and no code loader")
        async with asyncio.timeout(10):
            return await self._code_loader(ref)

    def _to_result(
        self, msg: dict[str, Any], ex: _Executor, enqueued: float, started: float
    ) -> InvokeResult:
        outcome = Outcome(msg["o"])
        if msg.get("cold") and outcome is not Outcome.LOAD_ERROR:
            self._cold_starts += 1
        if outcome is Outcome.TIMEOUT:
            self._terminations += 1
        err = msg.get("e")
        return InvokeResult(
            outcome=outcome,
            status=msg.get("s") or 0,
            status_text=msg.get("st") or "",
            headers=tuple((h[0], h[1]) for h in msg.get("h") or ()),
            body=msg.get("b") or b"",
            logs=tuple(msg.get("l") or ()),
            error=JSErrorInfo(**err) if err else None,
            detail=msg.get("d") or "",
            cold=bool(msg.get("cold")),
            executor=ex.name,
            timings=Timings(
                queued_ms=(started - enqueued) * 1000,
                load_ms=msg.get("lt", 0.0),
                run_ms=msg.get("rt", 0.0),
                total_ms=(time.monotonic() - enqueued) * 1000,
            ),
        )

    async def _reap_spares(self) -> None:
        """Evict extra copies of a function that stayed idle (burst over-provisioning)."""
        interval = min(1.0, self.settings.spare_idle_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            holders: dict[str, list[_Executor]] = {}
            for ex in self._executors():
                for key in ex.warm:
                    holders.setdefault(key, []).append(ex)
            for key, exs in holders.items():
                if len(exs) < 2:
                    continue
                exs.sort(key=lambda e: e.warm[key], reverse=True)
                for ex in exs[1:]:
                    if not ex.busy and now - ex.warm[key] > self.settings.spare_idle_seconds:
                        ex.warm.pop(key, None)
                        with contextlib.suppress(Exception):
                            ex.worker.send({"op": "evict", "ex": ex.index, "key": key})

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
        return [sys.executable, "-m", "isogate.runtime.validator", "--config", config]

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
                    ex.worker.send({"op": "evict", "ex": ex.index, "key": key})
        for w in self._workers:
            w.sent_code = {k for k in w.sent_code if not k.startswith(prefix)}
        self._quarantined = {k for k in self._quarantined if not k.startswith(prefix)}
        self._suspects = {k for k in self._suspects if not k.startswith(prefix)}
        for key in [k for k in self._strikes if k.startswith(prefix)]:
            del self._strikes[key]
        self._attribution.forget(prefix)

    def is_quarantined(self, ref: FunctionRef) -> bool:
        return self._refused(ref) is not None

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
            quarantined=len(self._quarantined),
            ready=self.ready,
            check_crashes=self.validation_crashes,
            crashes_by_reason=dict(self._crash_reasons),
            retried=self._retried,
            egress=dict(self._egress_counts),
            waiting=sum(self._waiting.values()),
        )

    def worker_pids(self) -> list[int]:
        """PIDs of the live worker processes (for operators and fault tests)."""
        return [w.proc.pid for w in self._workers if w.alive and w.proc]

    def placement(self, key: str) -> list[str]:
        """Executors where a function version is warm (or loading)."""
        return [ex.name for ex in self._executors() if key in ex.warm]


_WEDGED: dict[str, Any] = {"op": "wedged"}


def _result(outcome: Outcome, *, detail: str = "") -> InvokeResult:
    return InvokeResult(outcome=outcome, detail=detail)
