"""Wall-clock limits: one thread that terminates scripts running past their deadline.

``JSEngine.terminateAllThreads()`` stops only the isolate current on the calling
thread, so the watchdog enters the victim's isolate, terminates, and leaves
(DESIGN.md). A per-invocation lock makes "finished" and "terminated" mutually
exclusive: the watchdog never terminates an isolate whose invocation already ended.
The ticket's ``fired`` flag is the only reliable sign that a termination happened.
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

    __slots__ = ("deadline", "done", "fired", "isolate", "lock")

    def __init__(self, isolate: Any, deadline: float) -> None:
        self.isolate = isolate
        self.deadline = deadline
        self.lock = threading.Lock()
        self.done = False
        self.fired = False


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
        ticket = Ticket(isolate, time.monotonic() + timeout_s)
        with self._cond:
            first = not self._heap or ticket.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (ticket.deadline, next(self._seq), ticket))
            if first:
                self._cond.notify()
        return ticket

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
