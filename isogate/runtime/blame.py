"""Who is to blame when a runtime worker dies: the crash-attribution rule.

A worker process can die because of a tenant (its heap over the limit aborts the
process; it ignored its watchdog and was killed; its buffers pushed the worker past
its RSS cap) or because of the runtime itself (a native fault in V8 or stpyv8:
SIGSEGV, SIGBUS, an abort that is not an out-of-memory). Quarantine exists to stop a
tenant that keeps crashing shared workers, so only the first kind may count against a
function directly; a runtime fault must never walk healthy functions toward
quarantine (docs/reliability.md, "Crash attribution").

The rule, applied to each crash:

* ``oom``, ``killed`` (the supervisor killed a wedged worker) and ``exit`` (the RSS
  cap): the tenant kind. One function running: a strike for it. Several: each becomes
  a suspect whose next call runs alone on a worker, where a crash is unambiguous.
* ``signal`` (any other death by signal): a runtime fault. Nobody is struck for it
  alone. Each function that was running is *implicated*; a function implicated in
  crashes of two or more different worker processes within the quarantine window is
  no bystander, and each further such crash is a strike for it.
"""

from __future__ import annotations

import signal
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..caches import LRU

#: lines of a worker's stderr that mean V8 ran out of heap (the tenant's doing)
OOM_MARKERS = ("out of memory", "heap limit", "allocation failed")

REASONS = ("signal", "oom", "killed", "exit")

#: functions whose fault history is kept (a few hundred bytes each); the least recently
#: implicated go first: only those at faults within the window matter, and a crash that
#: forgets one only delays its strike to the next two faults
IMPLICATED_ENTRIES = 10_000


def crash_reason(returncode: int | None, killed: bool, stderr_tail: Iterable[str]) -> str:
    """Classify a worker's death (one of :data:`REASONS`)."""
    if killed:
        return "killed"
    if any(m in line.lower() for line in stderr_tail for m in OOM_MARKERS):
        return "oom"
    if returncode is not None and returncode < 0:
        return "signal"
    return "exit"


def signal_name(returncode: int | None) -> str:
    if returncode is None or returncode >= 0:
        return f"exit {returncode}"
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


@dataclass
class Verdict:
    """What one crash means: functions to strike, functions to run alone next."""

    strike: set[str] = field(default_factory=set)
    suspects: set[str] = field(default_factory=set)


class Attribution:
    """Remembers which functions were running at runtime faults, per worker process."""

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        #: function key -> (time, worker pid) of the runtime faults it was running at
        #: (least recently implicated forgotten first, beyond IMPLICATED_ENTRIES)
        self._implicated: LRU[str, deque[tuple[float, int]]] = LRU(
            "runtime_implicated", IMPLICATED_ENTRIES
        )

    def judge(self, reason: str, running: set[str], pid: int, now: float) -> Verdict:
        verdict = Verdict()
        if reason != "signal":
            if len(running) == 1:
                verdict.strike = set(running)
            else:
                verdict.suspects = set(running)
            return verdict
        for key in running:
            seen = self._implicated.lookup(key)
            if seen is None:
                seen = self._implicated[key] = deque()
            seen.append((now, pid))
            while seen and now - seen[0][0] > self._window:
                seen.popleft()
            if len({p for _, p in seen}) >= 2:
                verdict.strike.add(key)
        return verdict

    def forget(self, prefix: str) -> None:
        """A function was redeployed or deleted: its history goes with it."""
        for key in [k for k in self._implicated if k.startswith(prefix)]:
            del self._implicated[key]
