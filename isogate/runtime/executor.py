"""An executor thread: owns its isolates, keeps functions warm, runs many calls at once.

An invocation holds the thread only while its JavaScript runs. When its handler awaits a
host operation (a timer, a fetch) the eval returns, and the thread runs other
invocations until the operation completes; the result is delivered in an eval of its
own (one invocation per eval, DESIGN.md "Host operations"), under the watchdog, which
stops an eval at the invocation's wall deadline or when its CPU budget is spent.

Each warm function version lives in a context of its own. Contexts of one tenant share
an isolate, up to ``functions_per_isolate`` of them (so one isolate never holds two
tenants' code, and the heap limit applies to that group): a context in an existing
isolate costs a fraction of a new isolate, since V8's per-isolate compilation cache
already holds the prelude. Made ahead of demand in idle time: a pool of blank isolates,
each holding ``functions_per_isolate`` contexts with the prelude already run (a tenant
that takes a blank isolate finds its next contexts ready too), and one spare context in
each tenant isolate with room once it holds two functions. A cold start then costs only
compiling and running the tenant's top level; a burst of new functions makes contexts or
isolates on demand only once those are used up.

Why one module of ~900 lines: everything here is the state of one thread (its flights,
timers, deadlines, warm contexts, pools of isolates and the memory budget over them),
touched without locks because only that thread touches it; the event loop, the host
operations and the pools call into each other on every step. The messages it speaks are
in messages.py, the isolates in isolate.py, the caches it shares with its sibling
threads (LruCache) at the end.
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
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import webcrypto
from .compression import GzipChunks, ZlibStreams, gzip_marked, gzip_whole
from .isolate import (
    Host,
    HostError,
    PreludeError,
    Sandbox,
    SourceError,
    Step,
    check_source,
    error_payload,
    host_call,
    parse_logs,
    scheduled_script,
    start_script,
)
from .messages import (
    After,
    Blanks,
    Cancel,
    Chunk,
    Credit,
    End,
    ErrorInfo,
    Evict,
    Evicted,
    FnSpec,
    FromWorker,
    Invoke,
    KvCall,
    KvReply,
    NeedCode,
    Result,
    ToExecutor,
    Wait,
)
from .protocol import FrameReader
from .source import PreparedSource
from .types import InvokeRequest, InvokeResult, JSErrorInfo, Outcome
from .watchdog import Watchdog

if TYPE_CHECKING:
    from .hostio import HostIO

log = logging.getLogger("isogate.runtime.executor")

Send = Callable[[FromWorker], None]
V = TypeVar("V")
IDLE_BEFORE_PREWARM = 0.02  # seconds idle before making a blank isolate (~8 ms of work)
IDLE_BEFORE_SPARE = 0.002  # seconds idle before making a spare context (~1.5 ms of work)
#: blanks after which a starting executor reports itself ready; it fills the rest of its
#: pool in idle time, so a restarted worker serves again sooner
READY_BLANKS = 4
#: bytes a streamed body may run ahead of its client (body_stream.STREAM_WINDOW: the
#: gateway's side of the same agreement), and the most one Chunk frame carries
STREAM_WINDOW = 256 * 1024
STREAM_FRAME = 64 * 1024
#: characters of fetched-body deliveries (JSON text: ~1-1.6 per byte) one invocation may
#: read into JavaScript (each stays in the isolate as script source until the isolate
#: is replaced; the default heap limit of 64 MB was exhausted at ~100 M): beyond it
#: reads fail with a TypeError, not with the worker
JS_READ_LIMIT = 48 << 20
#: estimated bytes of an isolate with the prelude, and of each further context in it
ISOLATE_COST = 1_000_000
CONTEXT_COST = 400_000


@dataclass(slots=True, eq=False)
class Warm:
    sandbox: Sandbox
    cost: int  # estimated bytes, for the memory budget
    #: how the code was wrapped: maps stack positions back to the tenant's code
    prepared: PreparedSource | None = None
    flights: int = 0  # invocations in flight in this context (it is closed only at 0)


@dataclass(slots=True, eq=False)
class Flight:
    """One invocation in flight on this executor, from its request to its end (its
    response sent and its ``ctx.waitUntil`` work settled, or its time up)."""

    id: str  # the supervisor's call id, as text (the prelude's invocation id)
    call: int
    inv: str  # the gateway's invocation id (X-Invocation-Id): what logs name
    warm: Warm
    deadline: float  # monotonic: wall time limit (after the response: waitUntil's)
    cpu_left: float  # seconds of CPU time it may still use
    timeout_ms: int
    cpu_ms: int
    cold: bool
    load_ms: float
    cpu_used: float = 0.0
    responded: bool = False
    waiting: bool = False  # the supervisor was told it waits (its CPU place is free)
    ended: bool = False
    subrequests: int = 0
    #: armed timers: timer id -> the sequence number of its heap entry
    timers: dict[int, int] = field(default_factory=dict)
    #: host operations running on the I/O loop: op id -> a handle to cancel it
    tasks: dict[int, Any] = field(default_factory=dict)
    #: CompressionStream/DecompressionStream state (made on first use; goes with the flight)
    zlib: ZlibStreams | None = None
    #: why it was stopped (wall, cpu, gone, error): a streamed body it leaves is cut short
    stopped: str = ""
    #: characters of fetched bodies delivered into JavaScript (fread): see _fread
    js_read: int = 0


@dataclass(slots=True, eq=False)
class Outflow:
    """A streamed response body on its way to the gateway, under per-call credit.

    The prelude reads the function's stream only while its own credit lasts; this side
    is the authority (a tenant may call the prelude's entry points itself): bytes beyond
    the gateway's grant wait here, in this worker, never in the gateway. It outlives its
    flight when the function finished its stream before the client took all of it."""

    call: int
    credit: int = STREAM_WINDOW
    out: deque[bytes] = field(default_factory=deque)
    end: str | None = None  # the prelude reported its end ("" complete, else why)
    sent: int = 0  # bytes of the body so far (the response size limit)
    #: an untouched fetch() body passed on: the host's handle of the open upstream
    #: response, read here (never in JavaScript) as credit allows
    splice: int | None = None
    owner: str = ""  # the I/O loop's owner of the spliced body
    reading: bool = False
    gzip: GzipChunks | None = None  # Content-Encoding: gzip, encoded here as it goes


def estimate_cost(source: str, *, new_isolate: bool) -> int:
    """Rough bytes a warm function holds: its context and compiled code, plus the isolate
    when it opened one (docs/architecture.md)."""
    return CONTEXT_COST + 4 * len(source) + (ISOLATE_COST if new_isolate else 0)


class Executor:
    """Runs in its own thread (``run``); everything V8 happens on that thread."""

    def __init__(
        self,
        index: int,
        *,
        inbox: FrameReader,
        watchdog: Watchdog,
        send: Send,
        sources: LruCache[str],
        prepared: LruCache[PreparedSource],
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
        self._prepared = prepared
        self._prewarm = prewarm
        self._budget = budget_bytes
        self._max_response_body = max_response_body
        self._per_isolate = functions_per_isolate
        #: runtime.debug_gc_every (stress runs): a full GC after every N calls, so that
        #: contexts dropped while their isolate lives are collected at once
        self._gc_every = gc_every
        self._calls = 0
        self._blanks: deque[Sandbox] = deque()
        self._hosts: dict[str, Host] = {}  # tenant -> its isolate that still has room
        self._spare_wanted: deque[Host] = deque()
        self._warm: OrderedDict[str, Warm] = OrderedDict()
        self._used = 0
        self._warming = True  # pre-warm straight away at start-up
        # every pooled blank holds its contexts made ahead (kept as a flag: the run loop
        # asks before every message, and scanning the pool each time is work for nothing)
        self._pool_filled = False
        self._io = io
        self._wait_until_s = wait_until_ms / 1000.0
        self._max_subrequests = max_subrequests
        self._flights: dict[str, Flight] = {}
        #: armed timers, soonest first: (due, seq, flight id, timer id)
        self._timers: list[tuple[float, int, str, int]] = []
        #: wall deadlines of flights, soonest first: (deadline, seq, flight id)
        self._deadlines: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        #: results of host operations, from the I/O thread: (flight id, op id, payload)
        self._completions: deque[tuple[str, int, str]] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._draining: list[Warm] = []  # evicted while invocations still ran in them
        self._clock: int | None = None  # this thread's CPU-time clock (set in run)
        self._evicted: list[str] = []  # evicted by a cold load; told with its response
        #: streamed response bodies still going out, by flight id
        self._outflows: dict[str, Outflow] = {}
        #: chunks of spliced bodies from the I/O thread: (flight id, bytes / end / error)
        self._spliced: deque[tuple[str, bytes | str | None]] = deque()
        #: runtime.isolate_recycle_mb: what evaluated scripts may leave in an isolate
        #: before it is replaced (Host.retained; stpyv8 frees them only with the isolate)
        self._recycle_bytes = recycle_bytes
        self._recycle: list[Host] = []  # past that, to replace at the next safe point

    # -- thread body -------------------------------------------------------------------

    def run(self) -> None:
        self._clock = time.pthread_getcpuclockid(threading.get_ident())
        if self._prewarm == 0:
            self._send(Blanks(self.index, 0, Host.live))
        poll = select.poll()
        inbox = self._inbox.fileno()
        poll.register(inbox, select.POLLIN)
        poll.register(self._wake_r, select.POLLIN)
        try:
            while True:
                self._tidy()
                spare = self._spare_host()
                prewarm: float | None = None
                if spare is not None or self._pool_short():
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
                        self._prewarm_one(spare)
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
        if self._completions or self._spliced:
            return 0.0
        soonest = None
        if self._timers:
            soonest = self._timers[0][0]
        if self._deadlines and (soonest is None or self._deadlines[0][0] < soonest):
            soonest = self._deadlines[0][0]
        if soonest is None:
            return None
        return max(0.0, soonest - time.monotonic())

    def _run_due(self) -> None:
        """Deliver completed host operations, fire due timers, stop flights out of time."""
        while self._spliced:
            self._on_spliced(*self._spliced.popleft())
        while self._completions:
            flight_id, op, payload = self._completions.popleft()
            flight = self._flights.get(flight_id)
            if flight is not None and op in flight.tasks:  # not cancelled meanwhile
                del flight.tasks[op]
                self._eval(flight, host_call("deliver", str(op), payload))
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, seq, flight_id, timer = heapq.heappop(timers)
            flight = self._flights.get(flight_id)
            if flight is None or flight.timers.get(timer) != seq:
                continue  # cleared, or its invocation ended
            del flight.timers[timer]
            self._eval(flight, host_call("fire", str(timer)))
        deadlines = self._deadlines
        now = time.monotonic()
        while deadlines and deadlines[0][0] <= now:
            deadline, _, flight_id = heapq.heappop(deadlines)
            flight = self._flights.get(flight_id)
            if flight is not None and flight.deadline == deadline:
                self._expire(flight)

    def complete(self, flight_id: str, op: int, payload: str) -> None:
        """A host operation finished (called from the I/O thread): deliver it next."""
        self._completions.append((flight_id, op, payload))
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")

    def _handle(self, msg: ToExecutor) -> None:
        """One message. Nothing a function does may end this thread, which other
        tenants' functions share: an unexpected failure answers the call it belongs to
        and the loop goes on (issue 15)."""
        try:
            if type(msg) is Invoke:
                self._invoke(msg)
            elif type(msg) is Evict:
                self._evict(msg.key)
                self._send(Evicted(self.index, (msg.key,), Host.live))
            elif type(msg) is KvReply:
                self.complete(str(msg.id), msg.n, msg.p)
            elif type(msg) is Credit:
                self._credit(str(msg.id), msg.n)
            elif type(msg) is Cancel:
                flight = self._flights.get(str(msg.id))
                outflow = self._outflows.get(str(msg.id))
                if flight is not None and (not flight.responded or outflow is not None):
                    self._expire(flight, caller_left=True)
                if outflow is not None:  # the stream is over for its client
                    self._end_outflow(str(msg.id), outflow, "cancelled")
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
                        self._evict(key)
                failed = InvokeResult(
                    Outcome.LOAD_ERROR,
                    error=JSErrorInfo("Error", "the function could not be run"),
                )
                if flight is None or not flight.responded:
                    self._reply(
                        msg.id,
                        failed,
                        cold=False,
                        load_ms=0.0,
                        run_ms=0.0,
                        evicted=[key] if key else [],
                    )

    def _spare_host(self) -> Host | None:
        """A tenant isolate that should get a spare context, if any."""
        wanted = self._spare_wanted
        while wanted:
            host = wanted[0]
            if (
                host.alive
                and not host.spares
                and host.contexts < self._per_isolate
                and self._hosts.get(host.tenant or "") is host
            ):
                return host
            wanted.popleft()
        return None

    def _pool_short(self) -> bool:
        return len(self._blanks) < self._prewarm or not self._pool_filled

    def _unfilled_blank(self) -> Sandbox | None:
        """A pooled blank isolate with room for another ready context, if any."""
        for blank in self._blanks:
            if blank.host.contexts < self._per_isolate:
                return blank
        return None

    def _prewarm_one(self, spare: Host | None) -> None:
        """One step of pre-warming: a spare for a tenant isolate, else a blank isolate,
        else a ready context in a pooled blank isolate (isolates first: they count for
        readiness)."""
        if spare is not None:
            self._spare_wanted.popleft()
            try:
                spare.spares.append(Sandbox(spare))
            except PreludeError as exc:  # e.g. a termination left pending in that isolate
                log.warning("no spare context in a tenant isolate: %s", exc)
                self._retire(spare)
            return
        if len(self._blanks) < self._prewarm:
            self._blanks.append(Sandbox())
            self._pool_filled = self._unfilled_blank() is None
            n = len(self._blanks)
            if n == READY_BLANKS or (n == self._prewarm and self._pool_filled):
                self._report_pool()
            return
        blank = self._unfilled_blank()
        if blank is None:
            self._pool_filled = True
            return
        try:
            blank.host.spares.append(Sandbox(blank.host))
        except PreludeError as exc:  # never expected in a blank isolate: replace it
            log.warning("no ready context in a blank isolate: %s", exc)
            self._blanks.remove(blank)
            self._drop_spares(blank.host)
            blank.close()
            return
        if self._unfilled_blank() is None:
            self._pool_filled = True
            self._report_pool()  # the whole pool is ready

    def _report_pool(self) -> None:
        self._send(Blanks(self.index, len(self._blanks), Host.live))

    def _close_all(self) -> None:
        for flight in list(self._flights.values()):
            for task in flight.tasks.values():
                with contextlib.suppress(Exception):
                    task.cancel()
        self._flights.clear()
        for warm in [*self._warm.values(), *self._draining]:
            warm.sandbox.close()
        self._warm.clear()
        self._draining.clear()
        for host in self._hosts.values():
            self._drop_spares(host)
        self._hosts.clear()
        while self._blanks:
            blank = self._blanks.popleft()
            self._drop_spares(blank.host)
            blank.close()

    # -- operations ----------------------------------------------------------------------

    def _evict(self, key: str) -> None:
        warm = self._warm.pop(key, None)
        if warm is not None:
            self._used -= warm.cost
            if warm.flights:  # closed when its last invocation ends (see _land)
                self._draining.append(warm)
            else:
                self._close(warm.sandbox)

    def _close(self, sandbox: Sandbox) -> None:
        """Drop a function's context; an isolate left with only spare contexts goes too."""
        host = sandbox.host
        sandbox.close()
        if host.spares and host.contexts == len(host.spares):
            self._drop_spares(host)
        if not host.alive:
            self._retire(host)

    def _tidy(self) -> None:
        """Between messages and loop turns (nothing entered): replace isolates filled by
        their scripts, close evicted contexts whose last invocation ended."""
        if self._recycle:
            self._recycle_hosts()
        if self._draining:
            self._close_drained()

    def _close_drained(self) -> None:
        """Close evicted contexts whose last invocation ended (run loop, nothing
        entered)."""
        done = [warm for warm in self._draining if warm.flights <= 0]
        for warm in done:
            self._draining.remove(warm)
            self._close(warm.sandbox)

    def _recycle_hosts(self) -> None:
        """Replace the isolates that evaluated scripts filled past ``isolate_recycle_mb``
        (``Host.retained``): stpyv8 keeps every script's source, and V8 the compiled
        script with it, until the isolate is disposed of, so a warm isolate under steady
        load grows by a few KB per call for good (docs/reliability.md, "Soak after the
        event loop"). Its functions are evicted (those still running finish first, see
        _land) and load again in a fresh isolate on their next call, as after an LRU
        eviction; the supervisor is told. Called from the run loop, with nothing
        entered."""
        hosts, self._recycle = self._recycle, []
        evicted: list[str] = []
        for host in hosts:
            self._retire(host)
            for key, warm in list(self._warm.items()):
                if warm.sandbox.host is host:
                    self._evict(key)
                    evicted.append(key)
            if host.alive and host.spares and host.contexts == len(host.spares):
                self._drop_spares(host)  # no function left in it: the isolate goes now
            log.debug(
                "executor %d: isolate replaced after ~%d KB of retained scripts",
                self.index,
                host.retained >> 10,
            )
        if evicted:
            self._send(Evicted(self.index, tuple(evicted)))

    def _retire(self, host: Host) -> None:
        """Take no more contexts in ``host`` (its functions stay until evicted)."""
        if host.tenant is not None and self._hosts.get(host.tenant) is host:
            del self._hosts[host.tenant]

    @staticmethod
    def _drop_spares(host: Host) -> None:
        spares, host.spares = host.spares, []
        for spare in spares:
            spare.close()

    def _check(self, source: str) -> PreparedSource:
        """``check_source`` once per source text (an isolate must be entered)."""
        prepared = self._prepared.get(source)
        if prepared is None:
            prepared = check_source(source)
            self._prepared.put(source, prepared)
        return prepared

    def _blank(self) -> Sandbox:
        return self._blanks.popleft() if self._blanks else Sandbox()

    def _sandbox_for(self, tenant: str) -> tuple[Sandbox, bool]:
        """A fresh context for a function of ``tenant``: a spare, or a new context in
        the tenant's isolate while it has room, else a blank isolate (which becomes the
        tenant's, with the contexts made ready in it). The flag tells whether a new
        isolate was taken."""
        host = self._hosts.get(tenant)
        new_isolate = False
        if host is not None and host.alive and host.spares:
            sandbox = host.spares.pop()
        elif host is not None and host.alive and host.contexts < self._per_isolate:
            try:
                sandbox = Sandbox(host, warm_up=False)  # a cold start waits for it
            except PreludeError as exc:
                log.warning("no new context in a tenant isolate: %s", exc)
                self._retire(host)
                return self._sandbox_for(tenant)
        else:
            sandbox = self._blank()
            host = sandbox.host
            host.tenant = tenant
            new_isolate = True
            self._hosts[tenant] = host
        if host.contexts >= self._per_isolate and not host.spares:
            self._retire(host)  # full: the next function opens another isolate
        elif (
            self._hosts.get(tenant) is host
            and not host.spares
            and host.contexts >= 2  # a tenant with one function may never load another
            and not (self._spare_wanted and self._spare_wanted[-1] is host)
        ):
            # A tenant that loaded a second function gets its next context made in idle
            # time. Not after its first: with many tenants of one function each, a spare
            # per isolate was ~0.35 MB per tenant that nobody used (bench/callpath.py)
            self._spare_wanted.append(host)
        return sandbox, new_isolate

    def _invoke(self, msg: Invoke) -> None:
        fn = msg.fn
        key = fn.key
        timeout_ms = fn.timeout_ms
        timeout_s = timeout_ms / 1000.0
        started = time.monotonic()
        evicted: list[str] = []
        cold = False
        load_ms = 0.0
        warm = self._warm.get(key)
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
            loaded = self._load(key, source, fn, timeout_s)
            load_ms = (time.perf_counter() - t0) * 1000
            if isinstance(loaded, InvokeResult):
                self._reply(msg.id, loaded, cold=True, load_ms=load_ms, run_ms=0.0, evicted=[key])
                return
            warm = loaded
            cold = True
            evicted = self._fit(key)
        else:
            self._warm.move_to_end(key)
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
            request = InvokeRequest(method=req.m, url=req.u, headers=req.h, body=req.b)
            script = start_script(flight.id, request)
        self._eval(flight, script)
        if not flight.ended and not flight.responded and not flight.waiting:
            # it awaits a host operation: its CPU place is free for another call
            flight.waiting = True
            self._send(Wait(flight.call, self.index))
        self._calls += 1
        if self._gc_every and self._calls % self._gc_every == 0 and key in self._warm:
            self._collect(self._warm[key].sandbox)

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
            if host.retained > self._recycle_bytes and host not in self._recycle:
                self._recycle.append(host)
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
        """Act on a step: perform the operations it queued, send responses, end flights."""
        flights = self._flights
        for inv, op, kind, args in step.ops:
            flight = flights.get(inv)
            if flight is None:
                continue
            if kind == "timer":
                seq = next(self._seq)
                flight.timers[op] = seq
                due = time.monotonic() + (args if type(args) is int and args > 0 else 0) / 1000.0
                heapq.heappush(self._timers, (due, seq, inv, op))
            elif kind == "clear":
                flight.timers.pop(op, None)
            elif kind == "cancel":
                task = flight.tasks.pop(op, None)
                if task is not None:
                    task.cancel()
            elif kind == "fetch":
                self._fetch(flight, op, args)
            elif kind == "fread" and self._io is not None:  # the next chunk of a body
                self._fread(flight, op, args)
            elif kind == "fclose" and self._io is not None:  # a body it will not read on
                self._io.close_body(args, flight.id)
                flight.tasks[op] = None
                self.complete(inv, op, '{"v":null}')
            elif kind == "kv":
                self._kv(flight, op, args)
            elif kind == "crypto":
                # runs here, in this thread: its CPU counts toward the invocation's limit
                t0 = time.thread_time()
                payload = webcrypto.run(flight.warm.sandbox, args)
                used = time.thread_time() - t0
                flight.cpu_used += used
                flight.cpu_left -= used
                flight.tasks[op] = None
                self.complete(inv, op, payload)
            elif kind == "zlib":  # short and CPU-bound: done here, delivered next eval
                if flight.zlib is None:
                    flight.zlib = ZlibStreams()
                flight.tasks[op] = None
                self.complete(inv, op, flight.zlib.apply(args))
            else:
                flight.tasks[op] = None
                self.complete(inv, op, error_payload("TypeError", f"unknown operation: {kind}"))
        for inv, result in step.done:
            flight = flights.get(inv)
            if flight is not None and not flight.responded:
                self._respond(flight, result, from_step=True)
        for inv, text in step.data:
            outflow = self._outflows.get(inv)
            if outflow is not None and outflow.end is None:
                data = text.encode("latin-1")
                outflow.sent += len(data)
                outflow.out.append(data if outflow.gzip is None else outflow.gzip.chunk(data))
                self._flush(inv, outflow)
        for inv, why in step.eos:
            outflow = self._outflows.get(inv)
            if outflow is not None and why.startswith("splice:") and self._io is not None:
                self._start_splice(inv, outflow, why)
            elif outflow is not None and outflow.end is None:
                outflow.end = why
                if why:  # cut short: what the client has not got is not worth sending
                    self._end_outflow(inv, outflow, why)
                else:
                    self._flush(inv, outflow)
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
            if flight is not None and flight.responded and inv not in self._outflows:
                self._watch(flight)  # still going: ctx.waitUntil()

    def _fetch(self, flight: Flight, op: int, args: Any) -> None:
        flight.subrequests += 1
        flight.tasks[op] = None
        if flight.subrequests > self._max_subrequests:
            if self._io is not None:
                self._io.count(flight.warm.sandbox.tenant or "", "refused")
            self.complete(
                flight.id,
                op,
                error_payload("Error", f"Too many subrequests (limit {self._max_subrequests})."),
            )
            return
        if self._io is None:
            self.complete(flight.id, op, error_payload("TypeError", "fetch() is not available"))
            return
        remaining = max(0.0, flight.deadline - time.monotonic())
        tenant = flight.warm.sandbox.tenant or ""
        flight.tasks[op] = self._io.fetch(
            args,
            remaining,
            lambda payload: self.complete(flight.id, op, payload),
            tenant,
            flight.id,
        )

    def _fread(self, flight: Flight, op: int, args: Any) -> None:
        """The next chunk of a fetched body the function reads in JavaScript. Each one
        enters the isolate as script source, which stpyv8 keeps until the isolate goes
        (isolate.RETAINED_PER_CHAR): past JS_READ_LIMIT bytes in one invocation the read
        fails with a TypeError instead of exhausting the isolate's heap (a body passed on
        untouched is spliced and never counted here)."""
        assert self._io is not None
        if flight.js_read > JS_READ_LIMIT:
            flight.tasks[op] = None
            self.complete(
                flight.id,
                op,
                error_payload(
                    "TypeError",
                    "fetched bodies read in JavaScript are limited to about"
                    f" {JS_READ_LIMIT >> 20} MiB per invocation; return the fetched Response"
                    " (or new Response(response.body)) to stream it on without a limit",
                ),
            )
            return

        def deliver(payload: str) -> None:  # on the I/O thread, the only writer of js_read
            flight.js_read += len(payload)
            self.complete(flight.id, op, payload)

        remaining = max(0.0, flight.deadline - time.monotonic())
        flight.tasks[op] = self._io.read_body(args, flight.id, remaining, deliver)

    def _kv(self, flight: Flight, op: int, args: Any) -> None:
        """A KV operation: the gateway process performs it (this process has no database)
        and answers with :class:`KvReply`; it counts as a subrequest, as in Workers."""
        flight.subrequests += 1
        flight.tasks[op] = None
        if flight.subrequests > self._max_subrequests:
            limit = self._max_subrequests
            self.complete(
                flight.id, op, error_payload("Error", f"Too many subrequests (limit {limit}).")
            )
            return
        self._send(KvCall(flight.call, self.index, op, json.dumps(args)))

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
            self._outflows[flight.id] = Outflow(flight.call, gzip=GzipChunks() if gzip else None)
        elif gzip and result.body:  # workerd encodes what the function marks as gzip
            result = replace(result, body=gzip_whole(result.body))
        evicted, self._evicted = self._evicted, []
        self._reply(
            flight.call,
            result,
            cold=flight.cold,
            load_ms=flight.load_ms,
            run_ms=flight.cpu_used * 1000,
            evicted=evicted,
            waited=flight.waiting,
            streamed=streamed,
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
            if reason == "cpu":
                result = InvokeResult(
                    Outcome.CPU_LIMIT,
                    logs=logs,
                    detail=f"CPU time limit of {flight.cpu_ms} ms exceeded",
                )
            elif reason == "gone":
                result = InvokeResult(Outcome.TIMEOUT, logs=logs, detail="the caller went away")
            elif reason == "wall":
                result = InvokeResult(
                    Outcome.TIMEOUT,
                    logs=logs,
                    detail=f"time limit of {flight.timeout_ms} ms exceeded",
                )
            else:
                result = InvokeResult(
                    Outcome.JS_ERROR,
                    logs=logs,
                    error=JSErrorInfo("Error", "the function was stopped"),
                )
            self._respond(flight, result)
        elif logs or reason in ("cpu", "wall"):
            late = list(logs)
            if flight.id in self._outflows:
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
        outflow = self._outflows.get(flight.id)
        if outflow is not None and outflow.end is None and outflow.splice is None:  # cut
            self._end_outflow(flight.id, outflow, _STOPPED.get(flight.stopped, "error"))
        for task in flight.tasks.values():
            if task is not None:
                with contextlib.suppress(Exception):
                    task.cancel()
        flight.tasks.clear()
        if flight.subrequests and self._io is not None:
            self._io.release(flight.id)  # fetched bodies it left open
        flight.timers.clear()
        # an evicted context whose last flight this was is closed by the run loop
        # (_close_drained): here its context may still be entered (_eval -> _stop)
        flight.warm.flights -= 1
        if not self._flights:
            self._timers.clear()
            self._deadlines.clear()

    def _collect(self, sandbox: Sandbox) -> None:
        """A full V8 GC of ``sandbox``'s isolate (stress runs; needs --expose-gc)."""
        sandbox.enter()
        try:
            # under the watchdog: a tenant may have replaced gc with anything
            ticket = self._watchdog.arm(sandbox.isolate, 1.0)
            try:
                sandbox.eval_str("typeof gc === 'function' && gc(), ''")
            except Exception:  # terminated or thrown: a stress aid, not a duty
                pass
            finally:
                if self._watchdog.disarm(ticket):
                    sandbox.burn_termination()
        finally:
            sandbox.leave()

    def _load(self, key: str, source: str, fn: FnSpec, timeout_s: float) -> Warm | InvokeResult:
        sandbox, new_isolate = self._sandbox_for(fn.tenant)
        sandbox.enter()
        ok = False
        try:
            try:
                prepared = self._check(source)
            except SourceError as exc:
                return InvokeResult(Outcome.LOAD_ERROR, error=exc.info)
            ticket = self._watchdog.arm(sandbox.isolate, timeout_s)
            try:
                result = sandbox.load(prepared, fn.env, self._max_response_body, fn.kv)
            except HostError:  # V8 raised out of the load script: answer, drop the context
                result = InvokeResult(
                    Outcome.LOAD_ERROR,
                    error=JSErrorInfo("Error", "the function's code could not be loaded"),
                )
            finally:
                fired = self._watchdog.disarm(ticket)
            if fired:
                sandbox.burn_termination()
                return InvokeResult(
                    Outcome.TIMEOUT, detail=f"top-level code exceeded {fn.timeout_ms} ms"
                )
            if result.outcome is not Outcome.OK:
                return result
            ok = True
        finally:
            sandbox.leave()
            if not ok:
                self._close(sandbox)  # nothing half-installed: the failed context is dropped
        sandbox.function_key = key
        sandbox.tenant = fn.tenant
        warm = Warm(sandbox, estimate_cost(source, new_isolate=new_isolate), prepared)
        self._warm[key] = warm
        self._used += warm.cost
        return warm

    def _fit(self, keep: str) -> list[str]:
        """Evict least-recently-used functions until the budget holds (never ``keep``)."""
        evicted: list[str] = []
        while self._used > self._budget and len(self._warm) > 1:
            key = next(iter(self._warm))
            if key == keep:
                self._warm.move_to_end(key)
                continue
            self._evict(key)
            evicted.append(key)
        return evicted

    def _reply(
        self,
        call: int,
        r: InvokeResult,
        *,
        cold: bool,
        load_ms: float,
        run_ms: float,
        evicted: list[str],
        waited: bool = False,
        streamed: bool = False,
    ) -> None:
        err = r.error
        info = None
        if err is not None:  # positions as ints: the supervisor's decoder checks types
            line = None if err.line is None else int(err.line)
            column = None if err.column is None else int(err.column)
            info = ErrorInfo(err.name, err.message, err.stack, line, column)
        self._send(
            Result(
                call,
                self.index,
                r.outcome.value,
                r.status,
                r.status_text,
                r.headers,
                r.body,
                r.logs,
                info,
                r.detail,
                cold,
                load_ms,
                run_ms,
                tuple(evicted),
                len(self._blanks),
                Host.live,
                waited,
                r.no_retry,
                streamed,
            )
        )

    # -- streamed response bodies ------------------------------------------------------

    def _flush(self, inv: str, outflow: Outflow) -> None:
        """Send what the credit allows (frames of at most STREAM_FRAME bytes); once all
        is out and the prelude reported the end, the End frame."""
        out = outflow.out
        if outflow.end == "" and outflow.gzip is not None:  # complete: close the member
            out.append(outflow.gzip.end())
            outflow.gzip = None
        while out and outflow.credit > 0:
            data = out.popleft()
            if len(data) > STREAM_FRAME:
                out.appendleft(data[STREAM_FRAME:])
                data = data[:STREAM_FRAME]
            outflow.credit -= len(data)
            self._send(Chunk(outflow.call, self.index, data))
        if not out and outflow.end is not None:
            self._end_outflow(inv, outflow, outflow.end)

    def _end_outflow(self, inv: str, outflow: Outflow, why: str) -> None:
        if self._outflows.pop(inv, None) is outflow:
            outflow.out.clear()
            outflow.end = why
            self._send(End(outflow.call, self.index, why))
            if outflow.splice is not None and self._io is not None:
                self._io.release(outflow.owner)

    def _start_splice(self, inv: str, outflow: Outflow, why: str) -> None:
        try:
            handle = int(why.removeprefix("splice:"))
        except ValueError:
            self._end_outflow(inv, outflow, "error")
            return
        assert self._io is not None
        outflow.splice = handle
        outflow.owner = "s" + inv  # outlives the flight (whose bodies go when it ends)
        self._io.adopt(handle, inv, outflow.owner)
        self._pull(inv, outflow)

    def _pull(self, inv: str, outflow: Outflow) -> None:
        """Read the next chunk of a spliced body once the credit allows it."""
        if outflow.splice is None or outflow.reading or outflow.end is not None:
            return
        if outflow.out or outflow.credit <= 0 or self._io is None:
            return
        outflow.reading = True

        def done(data: bytes | str | None) -> None:  # on the I/O thread
            self._spliced.append((inv, data))
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"\0")

        self._io.read_raw(outflow.splice, outflow.owner, 3600.0, done)

    def _on_spliced(self, inv: str, data: bytes | str | None) -> None:
        outflow = self._outflows.get(inv)
        if outflow is None or outflow.splice is None:
            return  # cancelled meanwhile (its body is closed with it)
        outflow.reading = False
        if data is None:
            outflow.end = ""
        elif isinstance(data, str):
            self._end_outflow(inv, outflow, "error:" + data)
            return
        else:
            outflow.sent += len(data)
            if outflow.sent > self._max_response_body:
                self._end_outflow(inv, outflow, "too_large")
                return
            if data:
                outflow.out.append(data if outflow.gzip is None else outflow.gzip.chunk(data))
        self._flush(inv, outflow)
        self._pull(inv, outflow)

    def _credit(self, inv: str, n: int) -> None:
        """The client took ``n`` more bytes: send what waits, and let the prelude read on."""
        outflow = self._outflows.get(inv)
        if outflow is None or n <= 0:
            return
        outflow.credit += n
        self._flush(inv, outflow)
        if outflow.splice is not None:
            self._pull(inv, outflow)
            return
        flight = self._flights.get(inv)
        if flight is not None and not flight.ended and outflow.end is None:
            self._eval(flight, host_call("credit", inv, str(n)))


#: how a stop reason of a flight cuts its streamed body short (End.err)
_STOPPED = {"wall": "timeout", "cpu": "cpu", "gone": "cancelled", "error": "error"}


class LruCache(Generic[V]):
    """Values by string key, least recently used dropped beyond ``max_bytes`` (as counted
    by ``size``); shared by the executor threads of a worker, so it locks."""

    def __init__(self, max_bytes: int, size: Callable[[str, V], int]) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, V] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._size = size

    def put(self, key: str, value: V) -> None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return
            self._items[key] = value
            self._bytes += self._size(key, value)
            while self._bytes > self._max and len(self._items) > 1:
                old_key, old = self._items.popitem(last=False)
                self._bytes -= self._size(old_key, old)

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value


def source_cache(max_bytes: int) -> LruCache[str]:
    """Sources this worker has been sent, by function key."""
    return LruCache(max_bytes, lambda _key, source: len(source))


def prepared_cache(max_bytes: int) -> LruCache[PreparedSource]:
    """Checked and wrapped sources by source text: a deploy's validation prepares the
    code, and its first load (and every later one) skips V8's compiles of it."""
    return LruCache(max_bytes, lambda source, p: len(source) + len(p.script))
