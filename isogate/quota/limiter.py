"""Rate limits (GCRA with burst), period quotas and remaining uses, checked as one unit.

:class:`Limiter` is the seam: the in-process :class:`InMemoryLimiter` here, a Redis Lua
script next. ``acquire`` either admits the request and counts it against every limit, or
rejects it and counts nothing. In-process atomicity comes from the event loop: the
check-and-count section contains no ``await``. Usage counters (uses, period count) are
loaded from a :class:`UsageStore` on a key's first request and written behind.
"""

from __future__ import annotations

import calendar
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from isogate.periodic import Periodic
from isogate.quota.errors import Rejected
from isogate.quota.models import Decision, KeyPolicy, PeriodQuota, Usage
from isogate.quota.usage import UsageStore
from isogate.singleflight import SingleFlight

log = logging.getLogger(__name__)

NS = 1_000_000_000


class Limiter(Protocol):
    """One atomic check-and-count per request."""

    async def acquire(self, key_id: str, policy: KeyPolicy) -> Decision: ...
    async def peek(self, key_id: str, policy: KeyPolicy) -> Decision: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


def period_bounds(period: str, now: float) -> tuple[float, float]:
    """Start and end (UTC epoch seconds) of the calendar day or month containing ``now``."""
    dt = datetime.fromtimestamp(now, UTC)
    if period == "day":
        start = datetime(dt.year, dt.month, dt.day, tzinfo=UTC).timestamp()
        return start, start + 86400
    start = datetime(dt.year, dt.month, 1, tzinfo=UTC).timestamp()
    days = calendar.monthrange(dt.year, dt.month)[1]
    return start, start + days * 86400


@dataclass(slots=True)
class _KeyState:
    tat_ns: int = 0
    usage: Usage = field(default_factory=Usage)
    dirty: bool = False


class InMemoryLimiter:
    """Limits for one process. ``clock`` returns epoch seconds (injectable for tests)."""

    def __init__(
        self,
        usage_store: UsageStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        flush_interval: float = 1.0,
    ) -> None:
        self._store = usage_store
        self._clock = clock
        self._state: dict[str, _KeyState] = {}
        self._seeds: SingleFlight[str, Usage] = SingleFlight()  # one usage load per key
        self._flusher = Periodic(
            self.flush,
            flush_interval,
            name="isogate-usage-flush",
            log=log,
            failure="writing key usage failed; will retry",
        )

    async def start(self) -> None:
        """Start the write-behind flusher (only with a usage store)."""
        if self._store is not None:
            self._flusher.start()

    async def close(self) -> None:
        """Stop the flusher and write every pending counter."""
        await self._flusher.stop()
        await self.flush()

    async def flush(self) -> None:
        """Persist dirty usage counters now."""
        if self._store is None:
            return
        dirty = {k: s.usage for k, s in self._state.items() if s.dirty}
        if not dirty:
            return
        for k in dirty:
            self._state[k].dirty = False
        try:
            await self._store.save(dirty)
        except BaseException:  # cancelled too: the counts must be written by someone
            for k in dirty:  # retry on the next round
                self._state[k].dirty = True
            raise

    async def _state_for(self, key_id: str, policy: KeyPolicy) -> _KeyState:
        state = self._state.get(key_id)
        if state is not None:
            return state
        if self._store is None or (policy.uses is None and policy.quota is None):
            return self._state.setdefault(key_id, _KeyState())
        store = self._store
        usage = await self._seeds.run(key_id, lambda: store.load(key_id))
        return self._state.setdefault(key_id, _KeyState(usage=usage))

    def forget(self, key_id: str) -> None:
        """Drop a key's in-process state (e.g. after it is deleted)."""
        self._state.pop(key_id, None)

    async def acquire(self, key_id: str, policy: KeyPolicy) -> Decision:
        """Admit and count, or raise :class:`Rejected` having counted nothing."""
        state = await self._state_for(key_id, policy)
        return self._decide(state, policy, commit=True)

    async def peek(self, key_id: str, policy: KeyPolicy) -> Decision:
        """What is left right now, counting nothing (headers of refused requests)."""
        state = await self._state_for(key_id, policy)
        try:
            return self._decide(state, policy, commit=False)
        except Rejected as exc:
            assert exc.decision is not None
            return exc.decision

    def _decide(self, state: _KeyState, policy: KeyPolicy, *, commit: bool) -> Decision:
        # atomic: no await in here
        now = self._clock()
        now_ns = int(now * NS)
        rate = policy.rate
        t_ns = rate.interval_ns
        burst_ns = t_ns * rate.burst
        tat = max(state.tat_ns, now_ns)
        new_tat = tat + t_ns
        allow_at = new_tat - burst_ns
        window = rate.per_seconds

        usage = state.usage
        q: PeriodQuota | None = policy.quota
        q_start = q_end = 0.0
        q_count = 0
        if q is not None:
            q_start, q_end = period_bounds(q.period, now)
            q_count = usage.period_count if usage.period_start == q_start else 0

        def snapshot(remaining: int, reset_ns: int, q_used: int, uses_used: int) -> Decision:
            return Decision(
                limit=rate.burst,
                remaining=max(0, remaining),
                reset_seconds=max(0, math.ceil(reset_ns / NS)),
                window_seconds=window,
                quota_limit=q.invocations if q else None,
                quota_remaining=max(0, q.invocations - q_used) if q else None,
                quota_reset_seconds=max(1, math.ceil(q_end - now)) if q else None,
                quota_window_seconds=round(q_end - q_start) if q else None,
                uses_remaining=max(0, policy.uses - uses_used) if policy.uses is not None else None,
            )

        def current() -> Decision:  # what is left before this request (built only if needed)
            remaining = (now_ns + burst_ns - tat) // t_ns
            return snapshot(remaining, tat - now_ns, q_count, usage.uses)

        if policy.uses is not None and usage.uses >= policy.uses:
            raise Rejected("uses", "this key has no uses left", None, current())
        if q is not None and q_count >= q.invocations:
            retry = max(1, math.ceil(q_end - now))
            raise Rejected("quota", f"the {q.period}ly quota is exhausted", retry, current())
        if now_ns < allow_at:
            retry = max(1, math.ceil((allow_at - now_ns) / NS))
            raise Rejected("rate_limit", "rate limit exceeded", retry, current())
        if not commit:
            return current()

        # admitted: count against every limit
        state.tat_ns = new_tat
        if q is not None or policy.uses is not None:
            state.usage = replace(
                usage,
                uses=usage.uses + 1,
                period_start=q_start if q is not None else usage.period_start,
                period_count=q_count + 1 if q is not None else usage.period_count,
            )
            state.dirty = True
        remaining = (now_ns + burst_ns - new_tat) // t_ns
        return snapshot(remaining, new_tat - now_ns, q_count + 1, usage.uses + 1)
