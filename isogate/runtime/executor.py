"""An executor thread: owns its isolates, keeps functions warm, runs many calls at once.

An invocation holds the thread only while its JavaScript runs. When its handler awaits a
host operation (a timer, a fetch) the eval returns, and the thread runs other
invocations until the operation completes; the result is delivered in an eval of its
own (one invocation per eval, DESIGN.md "Host operations"), under the watchdog, which
stops an eval at the invocation's wall deadline or when its CPU budget is spent.

:class:`Executor` holds the thread's run loop and the life of each invocation (a
``Flight``, flights.py): the messages from the supervisor, the evals under the
watchdog, what the prelude's step reports after each, responses, stops and ends, and
the wall deadlines. It owns one of each of these, and calls into them:

* ``IsolatePool`` (prewarm.py): blank isolates and spare contexts made ahead in idle
  time, and each tenant's isolate with room: where a new context comes from;
* ``WarmFunctions`` (warm.py): cold starts, the warm functions under the memory
  budget, eviction, and the replacement of isolates that evaluated scripts filled;
* ``HostOps`` (hostops.py): the host operations a step queued (timers, fetch,
  fetched-body reads, KV, WebCrypto, compression) and the delivery of their results;
* ``Outflows`` (outflow.py): streamed response bodies under per-call credit, and the
  fetched bodies spliced into them.

All of that is the state of this one thread, touched without locks because only this
thread touches it (as V8 requires of the isolates anyway); the I/O thread only hands
results over, through deques and the wake-up pipe. The messages it speaks are in
messages.py, the isolates in isolate.py, the caches it shares with its sibling threads
in code_cache.py.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .compression import gzip_marked, gzip_whole
from .flights import Flight
from .hostops import HostOps
from .isolate import (
    Host,
    HostError,
    Step,
    host_call,
    parse_logs,
    scheduled_script,
    start_script,
)
from .messages import (
    After,
    Blanks,
    BodyPart,
    Cancel,
    Credit,
    Evict,
    Evicted,
    FromWorker,
    Invoke,
    KvReply,
    NeedCode,
    ToExecutor,
    Wait,
)
from .outflow import Outflows
from .prewarm import IDLE_BEFORE_PREWARM, IDLE_BEFORE_SPARE, IsolatePool
from .replies import result_frame, stopped_result
from .types import InvokeRequest, InvokeResult, JSErrorInfo, Outcome
from .warm import WarmFunctions

if TYPE_CHECKING:
    from .code_cache import SharedLRU
    from .hostio import HostIO
    from .protocol import FrameReader
    from .source import PreparedSource
    from .watchdog import Watchdog

log = logging.getLogger("isogate.runtime.executor")

Send = Callable[[FromWorker], None]


class Executor:
    """Runs in its own thread (``run``); everything V8 happens on that thread."""

    def __init__(
        self,
        index: int,
        *,
        inbox: FrameReader,
        watchdog: Watchdog,
        send: Send,
        sources: SharedLRU[str],
        prepared: SharedLRU[PreparedSource],
        prewarm: int,
        budget_bytes: int,
        max_response_body: int,
        functions_per_isolate: int,
        gc_every: int = 0,
        io: HostIO | None = None,
        wait_until_ms: int = 30000,
        max_subrequests: int = 50,
        recycle_bytes: int = 4 << 20,
    ) -> None:
        self.index = index
        self._inbox = inbox
        self._watchdog = watchdog
        self._send = send
        self._sources = sources
        self._max_response_body = max_response_body
        #: runtime.debug_gc_every (stress runs): a full GC after every N calls, so that
        #: contexts dropped while their isolate lives are collected at once
        self._gc_every = gc_every
        self._calls = 0
        #: where new contexts come from (blank isolates, spares: made ahead in idle time)
        self._pool = IsolatePool(size=prewarm, per_isolate=functions_per_isolate)
        #: the functions loaded here, by key, under the memory budget
        self._functions = WarmFunctions(
            index,
            self._pool,
            watchdog=watchdog,
            prepared=prepared,
            budget_bytes=budget_bytes,
            max_response_body=max_response_body,
            recycle_bytes=recycle_bytes,
        )
        self._warming = True  # pre-warm straight away at start-up
        self._wait_until_s = wait_until_ms / 1000.0
        self._flights: dict[str, Flight] = {}
        #: wall deadlines of flights, soonest first: (deadline, seq, flight id)
        self._deadlines: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        # a byte on it wakes the run loop: a result came from the I/O thread
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        #: the flights' host operations (timers, fetch, KV, ...) and their results
        self._ops = HostOps(
            index,
            send=send,
            io=io,
            max_subrequests=max_subrequests,
            evaluate=self._eval,
            wake_fd=self._wake_w,
        )
        #: streamed response bodies still going out
        self._outflows = Outflows(
            index, send=send, io=io, max_response_body=max_response_body, wake_fd=self._wake_w
        )
        self._clock: int | None = None  # this thread's CPU-time clock (set in run)
        self._evicted: list[str] = []  # evicted by a cold load; told with its response

    # -- thread body -------------------------------------------------------------------

    def run(self) -> None:
        self._clock = time.pthread_getcpuclockid(threading.get_ident())
        pool = self._pool
        if pool.size == 0:
            self._send(Blanks(self.index, 0, Host.live))
        poll = select.poll()
        inbox = self._inbox.fileno()
        poll.register(inbox, select.POLLIN)
        poll.register(self._wake_r, select.POLLIN)
        try:
            while True:
                self._tidy()
                spare = pool.spare_host()
                prewarm: float | None = None
                if spare is not None or pool.short():
                    # Pre-warm only once idle for a moment: a burst of cold starts should
                    # not queue behind it (a blank takes ~8 ms, a spare context ~1.5 ms).
                    if self._warming:
                        prewarm = 0.0
                    else:
                        prewarm = IDLE_BEFORE_SPARE if spare is not None else IDLE_BEFORE_PREWARM
                due = self._next_due()
                wait = due if prewarm is None else prewarm if due is None else min(due, prewarm)
                events = poll.poll(None if wait is None else max(0, int(wait * 1000 + 0.999)))
                if not events:
                    # pre-warm only when the idle wait itself ran out, not when a timer
                    # or deadline woke us: under steady load the pool must not grow
                    # (blank isolates are ~5.5 MB each) in the gaps between calls
                    if prewarm is not None and (due is None or prewarm <= due):
                        self._warming = True
                        if pool.prewarm_one(spare):
                            self._report_pool()
                    self._run_due()
                    continue
                self._warming = False
                for fd, _ in events:
                    if fd == inbox:
                        msgs = self._inbox.read_available()
                        if msgs is None:
                            return
                        for msg in msgs:
                            self._handle(msg)
                            self._tidy()
                    else:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_r, 1 << 16)
                self._run_due()
        finally:
            self._close_all()

    def _next_due(self) -> float | None:
        """Seconds until the next thing to do (a completion, a timer, a deadline)."""
        ops = self._ops
        if ops.completions or ops.upload_wants or self._outflows.spliced:
            return 0.0
        soonest = None
        if ops.timers:
            soonest = ops.timers[0][0]
        if self._deadlines and (soonest is None or self._deadlines[0][0] < soonest):
            soonest = self._deadlines[0][0]
        if soonest is None:
            return None
        return max(0.0, soonest - time.monotonic())

    def _run_due(self) -> None:
        """Deliver completed host operations, fire due timers, stop flights out of time."""
        if self._outflows.spliced:
            self._outflows.deliver_spliced()
        ops = self._ops
        if ops.upload_wants:
            ops.ask_upload_parts(self._flights)
        if ops.completions or ops.timers:  # most turns have neither
            ops.deliver(self._flights)
        deadlines = self._deadlines
        now = time.monotonic()
        while deadlines and deadlines[0][0] <= now:
            deadline, _, flight_id = heapq.heappop(deadlines)
            flight = self._flights.get(flight_id)
            if flight is not None and flight.deadline == deadline:
                self._expire(flight)

    def _handle(self, msg: ToExecutor) -> None:
        """One message. Nothing a function does may end this thread, which other
        tenants' functions share: an unexpected failure answers the call it belongs to
        and the loop goes on (issue 15)."""
        try:
            if type(msg) is Invoke:
                self._invoke(msg)
            elif type(msg) is Evict:
                self._functions.evict(msg.key)
                self._send(Evicted(self.index, (msg.key,), Host.live))
            elif type(msg) is KvReply:
                self._ops.complete(str(msg.id), msg.n, msg.p)
            elif type(msg) is BodyPart:
                flight = self._flights.get(str(msg.id))
                if flight is not None and msg.n < 0:  # for a fetch() that passes it on
                    settle = flight.upload_reads.pop(msg.n, None)
                    if settle is not None:
                        settle(msg.p)
                elif flight is not None:
                    flight.body_read += len(msg.p)
                    self._ops.complete(flight.id, msg.n, msg.p)
            elif type(msg) is Credit:
                self._credit(str(msg.id), msg.n)
            elif type(msg) is Cancel:
                flight = self._flights.get(str(msg.id))
                outflow = self._outflows.flows.get(str(msg.id))
                if flight is not None and (not flight.responded or outflow is not None):
                    self._expire(flight, caller_left=True)
                if outflow is not None:  # the stream is over for its client
                    self._outflows.end(str(msg.id), outflow, "cancelled")
        except OSError:
            raise  # the result pipe is gone: the supervisor is gone or restarting us
        except Exception:
            log.exception("executor %d: %s failed", self.index, type(msg).__name__)
            if type(msg) is Invoke:
                key = msg.fn.key
                flight = self._flights.get(str(msg.id))
                if flight is not None:
                    self._land(flight)
                if key:
                    with contextlib.suppress(Exception):  # what it left half-done goes too
                        self._functions.evict(key)
                failed = InvokeResult(
                    Outcome.LOAD_ERROR,
                    error=JSErrorInfo("Error", "the function could not be run"),
                )
                if flight is None or not flight.responded:
                    self._send(
                        result_frame(
                            msg.id,
                            self.index,
                            failed,
                            cold=False,
                            load_ms=0.0,
                            run_ms=0.0,
                            evicted=[key] if key else [],
                            blanks=len(self._pool.blanks),
                        )
                    )

    def _report_pool(self) -> None:
        self._send(Blanks(self.index, len(self._pool.blanks), Host.live))

    def _tidy(self) -> None:
        """Between messages and loop turns (nothing entered): replace isolates filled by
        their scripts, close evicted contexts whose last invocation ended."""
        functions = self._functions
        if functions.recycle or functions.draining:
            evicted = functions.tidy()
            if evicted:
                self._send(Evicted(self.index, tuple(evicted)))

    def _close_all(self) -> None:
        self._ops.cancel_all(self._flights)
        self._flights.clear()
        self._functions.close_all()
        self._pool.close_all()

    # -- invocations ---------------------------------------------------------------------

    def _invoke(self, msg: Invoke) -> None:
        fn = msg.fn
        key = fn.key
        timeout_ms = fn.timeout_ms
        timeout_s = timeout_ms / 1000.0
        started = time.monotonic()
        evicted: list[str] = []
        cold = False
        load_ms = 0.0
        warm = self._functions.get(key)
        if warm is None:
            source = fn.src
            if source is not None:
                self._sources.put(key, source)
            else:
                source = self._sources.get(key)
            if source is None:
                self._send(NeedCode(msg.id, self.index))
                return
            t0 = time.perf_counter()
            loaded = self._functions.load(key, source, fn, timeout_s)
            load_ms = (time.perf_counter() - t0) * 1000
            if isinstance(loaded, InvokeResult):
                self._send(
                    result_frame(
                        msg.id,
                        self.index,
                        loaded,
                        cold=True,
                        load_ms=load_ms,
                        run_ms=0.0,
                        evicted=[key],
                        blanks=len(self._pool.blanks),
                    )
                )
                return
            warm = loaded
            cold = True
            evicted = self._functions.fit(key)
        cpu_ms = fn.cpu_ms or timeout_ms
        flight = Flight(
            id=str(msg.id),
            call=msg.id,
            inv=msg.inv or str(msg.id),
            warm=warm,
            deadline=started + timeout_s,
            cpu_left=cpu_ms / 1000.0,
            timeout_ms=timeout_ms,
            cpu_ms=cpu_ms,
            cold=cold,
            load_ms=load_ms,
        )
        self._evicted = evicted
        self._flights[flight.id] = flight
        warm.flights += 1
        self._watch(flight)
        if msg.sc is not None:  # a cron tick: the module's scheduled() handler
            script = scheduled_script(flight.id, msg.sc.cron, msg.sc.t)
        else:
            req = msg.req
            request = InvokeRequest(req.m, req.u, req.h, req.b, more=req.r)
            script = start_script(flight.id, request)
        self._eval(flight, script)
        if not flight.ended and not flight.responded and not flight.waiting:
            # it awaits a host operation: its CPU place is free for another call
            flight.waiting = True
            self._send(Wait(flight.call, self.index))
        self._calls += 1
        if self._gc_every and self._calls % self._gc_every == 0:
            self._functions.collect(key)

    def _watch(self, flight: Flight) -> None:
        heapq.heappush(self._deadlines, (flight.deadline, next(self._seq), flight.id))

    def _eval(self, flight: Flight, script: str) -> None:
        """Evaluate ``script`` for ``flight`` under the watchdog (its wall deadline and
        CPU budget), then act on what the prelude's step reports."""
        sandbox = flight.warm.sandbox
        sandbox.enter()
        try:
            t0 = time.thread_time()
            ticket = self._watchdog.arm_until(
                sandbox.isolate, flight.deadline, max(flight.cpu_left, 0.0), self._clock
            )
            step: Step | None = None
            try:
                sandbox.eval_str(script)
                step = sandbox.step()
            except HostError:  # only a terminated eval gets here; no Python name leaks
                pass
            finally:
                fired = self._watchdog.disarm(ticket)
            used = time.thread_time() - t0
            flight.cpu_used += used
            flight.cpu_left -= used
            if fired or step is None:
                if fired:
                    sandbox.burn_termination()
                logs = self._end_in_js(flight)
                reason = ticket.reason if fired else "error"
                self._stop(flight, reason, logs)
                return
        finally:
            sandbox.leave()
            host = sandbox.host
            if host.retained > self._functions.recycle_bytes:
                self._functions.replace_later(host)
        self._apply(step)
        if not flight.ended and flight.cpu_left <= 0:
            # spent between the watchdog's looks: stopped at this safe point
            self._stop(flight, "cpu", self._end_in_js(flight, enter=True))

    def _end_in_js(self, flight: Flight, *, enter: bool = False) -> tuple[str, ...]:
        """Drop ``flight``'s state in the prelude (timers, operations); its last logs."""
        sandbox = flight.warm.sandbox
        if enter:
            sandbox.enter()
        try:
            try:
                text = sandbox.eval_str(host_call("end", flight.id))
            except HostError:
                sandbox.burn_termination()
                return ()
        finally:
            if enter:
                sandbox.leave()
        try:
            return parse_logs(json.loads(text)) if text else ()
        except ValueError:
            return ()

    def _apply(self, step: Step) -> None:
        """Act on a step: start the operations it queued, send responses and streamed
        bodies, end flights."""
        flights = self._flights
        if step.ops:
            self._ops.start(step.ops, flights)
        for inv, result in step.done:
            flight = flights.get(inv)
            if flight is not None and not flight.responded:
                self._respond(flight, result, from_step=True)
        if step.data:
            self._outflows.write(step.data)
        for inv, why in step.eos:
            if self._outflows.finish(inv, why):
                flight = flights.get(inv)
                if flight is not None and not flight.ended:  # waitUntil() work: bounded
                    flight.deadline = time.monotonic() + self._wait_until_s
                    self._watch(flight)
        for inv, logs in step.fin:
            flight = flights.get(inv)
            if flight is not None:
                if logs:
                    self._send(After(flight.call, self.index, tuple(logs), flight.inv))
                self._land(flight)
        for inv, _ in step.done:
            flight = flights.get(inv)
            if flight is not None and flight.responded and inv not in self._outflows.flows:
                self._watch(flight)  # still going: ctx.waitUntil()

    def _respond(self, flight: Flight, result: InvokeResult, *, from_step: bool = False) -> None:
        """Send ``flight``'s response; its ``waitUntil`` work may go on (bounded)."""
        warm = flight.warm
        if result.error is not None and result.error.stack and warm.prepared is not None:
            stack = warm.prepared.map_stack(result.error.stack)  # the tenant's positions
            result = replace(result, error=replace(result.error, stack=stack))
        if result.outcome is Outcome.OK and len(result.body) > self._max_response_body:
            # The prelude counts UTF-16 units; UTF-8 may be up to 3 bytes per unit.
            result = InvokeResult(
                Outcome.TOO_LARGE,
                logs=result.logs,
                detail=f"response body over {self._max_response_body} bytes",
            )
        flight.responded = True
        streamed = result.stream is True and result.outcome is Outcome.OK
        gzip = result.outcome is Outcome.OK and gzip_marked(result.headers)
        if streamed:
            self._outflows.open(flight.id, flight.call, gzip=gzip)
        elif gzip and result.body:  # workerd encodes what the function marks as gzip
            result = replace(result, body=gzip_whole(result.body))
        evicted, self._evicted = self._evicted, []
        self._send(
            result_frame(
                flight.call,
                self.index,
                result,
                cold=flight.cold,
                load_ms=flight.load_ms,
                run_ms=flight.cpu_used * 1000,
                evicted=evicted,
                blanks=len(self._pool.blanks),
                waited=flight.waiting,
                streamed=streamed,
            )
        )
        if streamed:  # the stream is produced within the invocation's own limits
            return
        # ctx.waitUntil() work continues, within its own wall limit (and the CPU budget);
        # watched only if it outlives this step (most flights end with their response)
        flight.deadline = time.monotonic() + self._wait_until_s
        if not from_step:
            self._watch(flight)

    def _stop(self, flight: Flight, reason: str, logs: tuple[str, ...]) -> None:
        """``flight`` ran out of time (``reason``: wall, cpu) or failed: answer it if it
        has no response yet, and end it."""
        flight.stopped = reason
        if not flight.responded:
            self._respond(flight, stopped_result(flight, reason, logs))
        elif logs or reason in ("cpu", "wall"):
            late = list(logs)
            if flight.id in self._outflows.flows:
                late.append(f"[warn] response stream stopped: {reason} time limit")
            else:
                late.append(f"[warn] ctx.waitUntil() work stopped: {reason} time limit")
            self._send(After(flight.call, self.index, tuple(late), flight.inv))
        self._land(flight)

    def _expire(self, flight: Flight, *, caller_left: bool = False) -> None:
        """``flight``'s deadline passed while it waited, or its caller went away
        (:class:`Cancel`): its timers and fetches end with it; the answer nobody reads
        still goes back, since it is what frees the call's places in the supervisor."""
        logs = self._end_in_js(flight, enter=True)
        self._stop(flight, "gone" if caller_left else "wall", logs)

    def _land(self, flight: Flight) -> None:
        """``flight`` is over: forget it, stop its operations, release its context."""
        if flight.ended:
            return
        flight.ended = True
        self._flights.pop(flight.id, None)
        if flight.id in self._outflows.flows:  # cut short, unless it ended or is spliced
            self._outflows.cut(flight.id, flight.stopped)
        if flight.tasks or flight.timers or flight.subrequests:
            self._ops.drop(flight)
        # an evicted context whose last flight this was is closed by the run loop
        # (WarmFunctions.tidy): here its context may still be entered (_eval -> _stop)
        flight.warm.flights -= 1
        if not self._flights:
            self._ops.timers.clear()
            self._deadlines.clear()

    def _credit(self, inv: str, n: int) -> None:
        """The client took ``n`` more bytes: send what waits, and let the prelude read on."""
        if self._outflows.credit(inv, n):
            flight = self._flights.get(inv)
            if flight is not None and not flight.ended:
                self._eval(flight, host_call("credit", inv, str(n)))
