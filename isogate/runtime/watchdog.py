"""Time limits: one thread that terminates scripts running past their wall-clock
deadline or their CPU-time budget.

``JSEngine.terminateAllThreads()`` stops only the isolate current on the calling
thread, so the watchdog enters the victim's isolate, terminates, and leaves
(DESIGN.md). A per-invocation lock makes "finished" and "terminated" mutually
exclusive: the watchdog never terminates an isolate whose invocation already ended.
The ticket's ``fired`` flag is the only reliable sign that a termination happened.

CPU time is read from the executor thread's own clock (``pthread_getcpuclockid``,
DESIGN.md "Host operations"). A thread cannot use more CPU than wall time passes, so a
ticket with ``cpu_left`` seconds is first looked at ``cpu_left`` seconds after arming,
and again after whatever budget is left then: no polling.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any

import STPyV8


class Ticket:
    """One armed deadline. ``done`` and ``fired`` are only changed under ``lock``."""

    __slots__ = (
        "cpu_clock",
        "cpu_left",
        "cpu_start",
        "deadline",
        "done",
        "fired",
        "isolate",
        "lock",
        "reason",
    )

    def __init__(
        self,
        isolate: Any,
        deadline: float,
        cpu_left: float | None = None,
        cpu_clock: int | None = None,
    ) -> None:
        self.isolate = isolate
        self.deadline = deadline  # monotonic
        self.cpu_left = cpu_left  # seconds of CPU the script may still use
        self.cpu_clock = cpu_clock
        self.cpu_start = time.clock_gettime(cpu_clock) if cpu_clock is not None else 0.0
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        #: why it fired: "wall" (deadline) or "cpu" (budget)
        self.reason = ""

    def next_check(self, now: float) -> float | None:
        """When to look at this ticket again; None when it is due now (``reason`` set)."""
        if now >= self.deadline:
            self.reason = "wall"
            return None
        if self.cpu_left is None or self.cpu_clock is None:
            return self.deadline
        try:
            used = time.clock_gettime(self.cpu_clock) - self.cpu_start
        except OSError:  # the thread is gone: nothing left to stop
            return self.deadline
        left = self.cpu_left - used
        if left <= 0:
            self.reason = "cpu"
            return None
        return min(self.deadline, now + left)


class Watchdog:
    """Terminates scripts whose deadline passed. Start once per process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Ticket]] = []
        self._seq = itertools.count()
        self._stopped = False
        self.fired_total = 0
        self._thread = threading.Thread(target=self._run, name="isogate-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def arm(self, isolate: Any, timeout_s: float) -> Ticket:
        """Watch ``isolate`` until :meth:`disarm`; terminate it after ``timeout_s``."""
        return self.arm_until(isolate, time.monotonic() + timeout_s)

    def arm_until(
        self,
        isolate: Any,
        deadline: float,
        cpu_left: float | None = None,
        cpu_clock: int | None = None,
    ) -> Ticket:
        """Watch ``isolate`` until :meth:`disarm`; terminate it at ``deadline``
        (monotonic) or once the calling thread (``cpu_clock``, its CPU-time clock) used
        ``cpu_left`` more seconds of CPU, whichever comes first."""
        ticket = Ticket(isolate, deadline, cpu_left, cpu_clock)
        check = deadline if cpu_left is None else min(deadline, time.monotonic() + cpu_left)
        self._push(check, ticket)
        return ticket

    def _push(self, when: float, ticket: Ticket) -> None:
        with self._cond:
            first = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._seq), ticket))
            if first:
                self._cond.notify()

    @staticmethod
    def disarm(ticket: Ticket) -> bool:
        """Mark the invocation finished; return whether the watchdog terminated it."""
        with ticket.lock:
            ticket.done = True
            ticket.isolate = None
            return ticket.fired

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    # Drop finished tickets from the top; they need no action.
                    while self._heap and self._heap[0][2].done:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, ticket = heapq.heappop(self._heap)
            later = ticket.next_check(time.monotonic())
            if later is not None:
                self._push(later, ticket)  # budget left: look again when it could be spent
                continue
            self._fire(ticket)

    def _fire(self, ticket: Ticket) -> None:
        with ticket.lock:
            if ticket.done or ticket.isolate is None:
                return
            iso = ticket.isolate
            iso.enter()
            try:
                STPyV8.JSEngine.terminateAllThreads()
            finally:
                iso.leave()
            ticket.fired = True
            self.fired_total += 1
