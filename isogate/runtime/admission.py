"""Admission and placement: which executor runs a call, or where it waits.

Each invocation goes:

1. to an idle executor where the function is already warm;
2. else, while fewer than ``max_concurrency_per_function`` executors hold it, to an
   idle executor that cold-loads it (spill-over);
3. else into its tenant's queue. Tenants' queues are served in turn (round-robin), each
   FIFO, as executors free up, so one tenant's backlog delays another tenant's call by
   at most one dispatch per other waiting tenant, whatever the backlog's length. A full
   queue, or a wait longer than ``queue_timeout_ms``, answers "overloaded"; a tenant
   over ``max_queue_per_tenant`` waiting calls is answered "busy" (that tenant only).

A call that awaits host operations (timers, fetch) gives its CPU place back at its
"wait" frame and holds only a waiting place (``max_waiting_per_executor``,
``max_waiting_per_tenant``). Deadlines (queue waits, and each exchange with a worker:
an isolate past its own limit plus a grace is presumed wedged) are enforced by one
periodic sweep, and CPU and wall limits per function are computed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

from ..caches import LRU
from .pool import Gone, _Call, _Executor, _Pending, _Worker
from .types import FunctionRef, InvokeResult, Outcome

if TYPE_CHECKING:
    from isogate.config.runtime import RuntimeSettings

log = logging.getLogger("isogate.runtime")

# How long past its own limit an invocation may stay unanswered before the worker
# is presumed wedged and killed (a deadline on every call to the isolate).
HANG_GRACE_S = 5.0
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


def overloaded(outcome: Outcome, detail: str) -> InvokeResult:
    return InvokeResult(outcome=outcome, detail=detail)


class Admission:
    """The placement half of :class:`~isogate.runtime.supervisor.Runtime` (a mixin: the
    runtime's state is one object; this part routes, queues and times calls)."""

    # The runtime's state this half uses, set by Runtime.__init__ (supervisor.py); declared
    # for the type checker (annotations only, no class attributes).
    settings: RuntimeSettings
    _workers: list[_Worker]
    _suspects: set[str]
    _queues: dict[str, deque[_Pending]]
    _queued: int
    _waiting: dict[str, int]
    _run_ms: LRU[str, float]

    if TYPE_CHECKING:  # the worker half's (pool.py)

        def _executors(self) -> list[_Executor]: ...

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
        run_ms = self._run_ms.lookup(key)
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

    def _release_if_current(self, ex: _Executor, pending: _Pending) -> None:
        """Free ``pending``'s place on ``ex`` and hand out queued calls. After a crash the
        worker has new executors; the old one is gone for good."""
        if ex.worker.alive and ex in ex.worker.executors:
            ex.inflight -= 1
            ex.slow -= pending.slow
            self._drain_queue()

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
                            overloaded(Outcome.OVERLOADED, "no executor became free in time")
                        )
                if not q:
                    del self._queues[tenant]
        for w in self._workers:
            for call in [c for c in w.calls.values() if now >= c.deadline]:
                if call.abandoned or call.future.done():
                    # nobody waits for it, but the executor is still held: free it
                    self._kill_wedged(w, call)
                else:
                    call.future.set_result(Gone.WEDGED)  # _exchange kills the worker

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
