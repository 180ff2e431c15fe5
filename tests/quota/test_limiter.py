"""The in-process limiter: GCRA with burst, period quotas, uses; atomic under concurrency;
rejections consume nothing; usage survives a restart through the usage store."""

from __future__ import annotations

import asyncio

import pytest

from isogate.quota.errors import Rejected
from isogate.quota.limiter import InMemoryLimiter, period_bounds
from isogate.quota.models import KeyPolicy, PeriodQuota, RateLimit, Usage


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class MemoryUsage:
    """A usage store in a dict, slow on purpose to widen race windows."""

    def __init__(self) -> None:
        self.data: dict[str, Usage] = {}
        self.loads = 0

    async def load(self, key_id: str) -> Usage:
        self.loads += 1
        await asyncio.sleep(0.01)
        return self.data.get(key_id, Usage())

    async def save(self, usage: dict[str, Usage]) -> None:
        self.data.update(usage)


def policy(requests=10, per=60, burst=None, quota=None, uses=None) -> KeyPolicy:
    return KeyPolicy(rate=RateLimit(requests, per, burst or requests), quota=quota, uses=uses)


async def admit_all(lim: InMemoryLimiter, key: str, p: KeyPolicy, n: int) -> tuple[int, int]:
    async def one() -> bool:
        try:
            await lim.acquire(key, p)
            return True
        except Rejected:
            return False

    results = await asyncio.gather(*(one() for _ in range(n)))
    return sum(results), n - sum(results)


async def test_burst_then_reject_exact_under_concurrency() -> None:
    lim = InMemoryLimiter(clock=Clock())
    ok, rejected = await admit_all(lim, "k", policy(10, 60), 50)
    assert (ok, rejected) == (10, 40)


async def test_refill_rate() -> None:
    clock = Clock()
    lim = InMemoryLimiter(clock=clock)
    p = policy(requests=6, per=60, burst=2)  # one every 10 s, bucket of 2
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    clock.t += 9.9
    assert (await admit_all(lim, "k", p, 1)) == (0, 1)
    clock.t += 0.1
    assert (await admit_all(lim, "k", p, 3)) == (1, 2)
    clock.t += 1000
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)


async def test_headers_snapshot_and_retry_after() -> None:
    clock = Clock()
    lim = InMemoryLimiter(clock=clock)
    p = policy(requests=3, per=30)
    d = await lim.acquire("k", p)
    assert (d.limit, d.remaining, d.window_seconds) == (3, 2, 30)
    await lim.acquire("k", p)
    d = await lim.acquire("k", p)
    assert d.remaining == 0
    with pytest.raises(Rejected) as info:
        await lim.acquire("k", p)
    assert info.value.reason == "rate_limit"
    assert info.value.retry_after == 10
    assert info.value.decision is not None and info.value.decision.remaining == 0


async def test_rejections_do_not_consume() -> None:
    clock = Clock()
    lim = InMemoryLimiter(clock=clock)
    # quota of 5/day but a rate limit of 2 per 10 s: rate rejections must not use quota
    p = policy(requests=2, per=10, quota=PeriodQuota(5, "day"))
    assert (await admit_all(lim, "k", p, 20)) == (2, 18)
    clock.t += 10
    assert (await admit_all(lim, "k", p, 20)) == (2, 18)
    clock.t += 10
    assert (await admit_all(lim, "k", p, 20)) == (1, 19)  # quota 5 reached
    clock.t += 10
    with pytest.raises(Rejected) as info:
        await lim.acquire("k", p)
    assert info.value.reason == "quota"
    assert info.value.retry_after and info.value.retry_after <= 86400


async def test_quota_rejection_does_not_consume_rate() -> None:
    clock = Clock()
    lim = InMemoryLimiter(clock=clock)
    p = policy(requests=100, per=60, uses=3)
    assert (await admit_all(lim, "k", p, 10)) == (3, 7)
    with pytest.raises(Rejected) as info:
        await lim.acquire("k", p)
    assert info.value.reason == "uses" and info.value.retry_after is None
    # the rejections above left the rate bucket as after 3 requests
    other = policy(requests=100, per=60)
    d = await lim.acquire("k", other)
    assert d.remaining == 100 - 4


async def test_period_resets_at_calendar_boundary() -> None:
    start, end = period_bounds("day", 1_700_000_000.0)
    clock = Clock(end - 1)
    lim = InMemoryLimiter(clock=clock)
    p = policy(requests=1000, per=1, quota=PeriodQuota(2, "day"))
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    clock.t = end + 1
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    m_start, m_end = period_bounds("month", 1_700_000_000.0)
    assert m_start <= 1_700_000_000.0 < m_end and 28 * 86400 <= m_end - m_start <= 31 * 86400
    assert end - start == 86400


async def test_usage_persists_and_loads_once_under_concurrency() -> None:
    store = MemoryUsage()
    lim = InMemoryLimiter(store, clock=Clock())
    p = policy(requests=1000, per=1, uses=7)
    assert (await admit_all(lim, "k", p, 50)) == (7, 43)
    assert store.loads == 1
    await lim.close()
    assert store.data["k"].uses == 7
    # a "restarted" limiter reads the counters back: no uses left
    lim2 = InMemoryLimiter(store, clock=Clock())
    assert (await admit_all(lim2, "k", p, 5)) == (0, 5)


async def test_keys_are_independent() -> None:
    lim = InMemoryLimiter(clock=Clock())
    p = policy(2, 60)
    assert (await admit_all(lim, "a", p, 5)) == (2, 3)
    assert (await admit_all(lim, "b", p, 5)) == (2, 3)


async def test_peek_counts_nothing() -> None:
    lim = InMemoryLimiter(clock=Clock())
    p = policy(requests=2, per=60, uses=5)
    for _ in range(10):
        d = await lim.peek("k", p)
    assert (d.remaining, d.uses_remaining) == (2, 5)
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    d = await lim.peek("k", p)  # a refused state is reported, not raised
    assert (d.remaining, d.uses_remaining) == (0, 3)
