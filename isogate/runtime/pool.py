"""Worker processes and their executor threads, as the supervisor sees them: the
records it keeps (a worker, its executors, each call sent), and their lifecycle.

A worker is started with a request and a result pipe per executor thread (wire.py),
self-tested (Intl/ICU) once at start-up, and reported ready once its executors hold
their first pre-warmed isolates. A worker that dies fails its running invocations with
"crashed" and is restarted; calls sent to it that had not started are answered "retry"
(run once more elsewhere). Who is to blame follows blame.py and quarantine.py: a
tenant-kind death (out of memory, wedged, RSS cap) strikes the one function running, a
runtime fault (a native crash) strikes nobody unless the same function is implicated in
crashes of different worker processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING

from .blame import crash_reason, signal_name
from .body_stream import BodyStream
from .errors import RuntimeStartError
from .messages import Evict, FromWorker, Message, SelfTest
from .protocol import HEADER, MAX_FRAME, ProtocolError, decode_from_worker, frame
from .types import FunctionRef, InvokeRequest, InvokeResult, RequestBody
from .wire import ResultPipe

if TYPE_CHECKING:
    from isogate.config.egress import EgressSettings
    from isogate.config.runtime import RuntimeSettings

    from .quarantine import Quarantine

log = logging.getLogger("isogate.runtime")


class Gone(StrEnum):
    """Why a call's exchange ended without an answer from its executor."""

    CRASHED = "crashed"  #: its worker died while it ran
    RETRY = "retry"  #: its worker died before it started: run it once more
    WEDGED = "wedged"  #: past its deadline: the isolate ignored its watchdog


@dataclass(eq=False)
class _Executor:
    """The supervisor's mirror of one executor thread: its places, warm set, pipes."""

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
    """One invocation from admission to its answer (queued, then exchanged)."""

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
    future: asyncio.Future[FromWorker | Gone]
    #: the caller gave up (cancelled) while the worker still runs the call: the executor
    #: is released when the answer arrives (a waiting call is sent a Cancel)
    abandoned: bool = False
    #: the answer arrived and the executor was released then (not when the caller resumes)
    released: bool = False
    #: the call awaits host operations: its CPU place was released then ("wait" frame)
    waiting: bool = False
    #: its response body streams (a Result with ``sb``): the chunks go here
    stream: BodyStream | None = None


class _Worker:
    """One worker process slot: its process, executors, and the calls sent to it."""

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.proc: asyncio.subprocess.Process | None = None
        self.executors: list[_Executor] = []
        self.alive = False
        self.calls: dict[int, _Call] = {}
        #: streamed response bodies still coming from this worker, by call id
        self.streams: dict[int, BodyStream] = {}
        #: request bodies still arriving for calls sent here (read on by BodyRead frames)
        self.uploads: dict[int, RequestBody] = {}
        self.sent_code: set[str] = set()
        self.reader: asyncio.Task[None] | None = None
        self.stderr_task: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] | None = None
        self.warmed: asyncio.Future[None] | None = None
        self.solo: str | None = None  # a suspect running alone here (crash attribution)
        self.killed = False  # the supervisor killed this process (wedged, bad frame)
        self.stderr_tail: deque[str] = deque(maxlen=20)  # why it died, if it says
        self.isolates = 0  # live V8 isolates, as last reported

    def send(self, ex: int, message: Message) -> None:
        """Write ``message`` to executor ``ex``'s request pipe."""
        pipe = self.executors[ex].pipe
        if pipe is None or pipe.is_closing():
            raise ConnectionError("the executor's pipe is closed")
        pipe.write(frame(message))


class WorkerPool:
    """The worker-process half of :class:`~isogate.runtime.supervisor.Runtime` (a mixin:
    the runtime's state is one object; this part starts, stops and restarts workers)."""

    # The runtime's state this half uses, set by Runtime.__init__ (supervisor.py); declared
    # for the type checker (annotations only, no class attributes).
    settings: RuntimeSettings
    _egress: EgressSettings
    _own_addresses: list[tuple[str, int]]
    _home: str
    _closing: bool
    _crashes: int
    _crash_reasons: dict[str, int]
    _quarantine: Quarantine
    _workers: list[_Worker]
    _tables: str | None

    if TYPE_CHECKING:  # the other halves' methods (frames.py, admission.py)

        def _on_message(self, w: _Worker, msg: FromWorker) -> None: ...
        def _drain_queue(self) -> None: ...
        def _unwait(self, call: _Call) -> None: ...

    def _worker_command(self, *extra: str) -> list[str]:
        config = json.dumps(self.settings.model_dump())
        return [
            sys.executable, "-m", "isogate.runtime.worker", "--config", config,
            *self._tables_args(), *extra,
        ]  # fmt: skip

    def _tables_args(self) -> list[str]:
        """The UTS #46 tables the runtime saved for its processes (``Runtime._save_tables``)."""
        return ["--uts46-tables", self._tables] if self._tables else []

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
        message = SelfTest(False, "")
        if len(out) > HEADER.size:
            with contextlib.suppress(ProtocolError):
                got = decode_from_worker(out[HEADER.size :])
                if isinstance(got, SelfTest):
                    message = got
        if not message.ok:
            raise RuntimeStartError(
                "V8 self-test failed; refusing to serve (Intl would crash isolates). "
                f"Got {message.intl!r}, exit code {proc.returncode}. "
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
            on_message, on_error = partial(self._on_message, w), partial(self._kill, w)
            ex.results, _ = await loop.connect_read_pipe(
                partial(ResultPipe, on_message, on_error),
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
        self._end_bodies(w, calls)
        for call in calls.values():  # nothing will answer them any more
            if not call.future.done():
                call.future.set_result(Gone.CRASHED)
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
                self._on_message(w, decode_from_worker(await proc.stdout.readexactly(size)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, ProtocolError):
            pass
        except asyncio.CancelledError:
            return
        if proc is w.proc and not self._closing:
            await self._on_crash(w, proc)

    @staticmethod
    def _end_bodies(w: _Worker, unanswered: dict[int, _Call]) -> None:
        """``w`` is gone: its streamed response bodies are cut short (the client sees a
        truncated body at once, not after the idle timeout), and the request bodies of
        those calls end. An unanswered call's request body stays open: the call is
        retried elsewhere, or its caller (the gateway) closes it with the answer."""
        streams, w.streams = w.streams, {}
        for stream in streams.values():
            stream.end("crashed")
        uploads, w.uploads = w.uploads, {}
        for call_id, upload in uploads.items():
            if call_id not in unanswered:
                upload.close()

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
        refs = {call.pending.ref.key: call.pending.ref for call in running.values()}
        self._quarantine.judge(reason, started, proc.pid, refs, now)
        w.solo = None
        calls, w.calls = w.calls, {}
        self._end_bodies(w, calls)
        ran = {id(c) for c in running.values()} | {id(c) for c in waited}
        for call in calls.values():
            if not call.future.done():
                call.future.set_result(Gone.CRASHED if id(call) in ran else Gone.RETRY)
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

    async def _reap_spares(self) -> None:
        """Evict extra copies of a function that stayed idle (burst over-provisioning),
        and, after ``idle_evict_seconds``, its last copy too: the executor then closes
        the context, and the tenant's isolate with its last function."""
        spare_s = self.settings.spare_idle_seconds
        idle_s = self.settings.idle_evict_seconds
        interval = min(1.0, spare_s / 2, idle_s / 2 if idle_s else 1.0)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            holders: dict[str, list[_Executor]] = {}
            for ex in self._executors():
                for key in ex.warm:
                    holders.setdefault(key, []).append(ex)
            for key, exs in holders.items():
                exs.sort(key=lambda e: e.warm[key], reverse=True)
                last, kept = exs[0], 1
                for ex in exs[1:]:
                    idle = now - ex.warm[key]
                    if not ex.busy and (idle > spare_s or (idle_s and idle > idle_s)):
                        self._evict(ex, key)
                    else:
                        kept += 1
                # a call in flight keeps its context (the executor closes it only once
                # its invocations end), so idleness alone decides
                if idle_s and kept == 1 and now - last.warm[key] > idle_s:
                    self._evict(last, key)

    @staticmethod
    def _evict(ex: _Executor, key: str) -> None:
        ex.warm.pop(key, None)
        with contextlib.suppress(Exception):
            ex.worker.send(ex.index, Evict(ex.index, key))

    def _executors(self) -> list[_Executor]:
        return [ex for w in self._workers if w.alive for ex in w.executors]
