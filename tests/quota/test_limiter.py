"""Both limiters (in-process and Redis Lua): GCRA with burst, period quotas, uses; atomic
under concurrency; rejections consume nothing; usage survives a restart through the usage
store. Every test runs against both implementations (``make`` fixture)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from isogate.quota.errors import Rejected
from isogate.quota.limiter import InMemoryLimiter, Limiter, period_bounds
from isogate.quota.limiter_redis import RedisLimiter
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


MakeLimiter = Callable[..., Limiter]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[MakeLimiter]:
    """Build limiters of one implementation; Redis ones share a prefix of this test's own."""
    if request.param == "memory":
        yield lambda store=None, clock=None: InMemoryLimiter(store, clock=clock or Clock())
        return
    import redis.asyncio as aioredis

    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix") + uuid.uuid4().hex[:8] + ":"
    client: Any = aioredis.Redis.from_url(url, socket_timeout=2)

    def build(store=None, clock=None) -> Limiter:
        return RedisLimiter(
            client,
            prefix,
            fallback=InMemoryLimiter(store, clock=clock or Clock()),
            usage_store=store,
            failure_mode="closed",
            timeout=2.0,
            clock=clock or Clock(),
        )

    yield build
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def admit_all(lim: Limiter, key: str, p: KeyPolicy, n: int) -> tuple[int, int]:
    async def one() -> bool:
        try:
            await lim.acquire(key, p)
            return True
        except Rejected:
            return False

    results = await asyncio.gather(*(one() for _ in range(n)))
    return sum(results), n - sum(results)


async def test_burst_then_reject_exact_under_concurrency(make: MakeLimiter) -> None:
    lim = make()
    ok, rejected = await admit_all(lim, "k", policy(10, 60), 50)
    assert (ok, rejected) == (10, 40)


async def test_refill_rate(make: MakeLimiter) -> None:
    clock = Clock()
    lim = make(clock=clock)
    p = policy(requests=6, per=60, burst=2)  # one every 10 s, bucket of 2
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    clock.t += 9.9
    assert (await admit_all(lim, "k", p, 1)) == (0, 1)
    clock.t += 0.1
    assert (await admit_all(lim, "k", p, 3)) == (1, 2)
    clock.t += 1000
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)


async def test_headers_snapshot_and_retry_after(make: MakeLimiter) -> None:
    clock = Clock()
    lim = make(clock=clock)
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


async def test_rejections_do_not_consume(make: MakeLimiter) -> None:
    clock = Clock()
    lim = make(clock=clock)
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


async def test_quota_rejection_does_not_consume_rate(make: MakeLimiter) -> None:
    clock = Clock()
    lim = make(clock=clock)
    p = policy(requests=100, per=60, uses=3)
    assert (await admit_all(lim, "k", p, 10)) == (3, 7)
    with pytest.raises(Rejected) as info:
        await lim.acquire("k", p)
    assert info.value.reason == "uses" and info.value.retry_after is None
    # the rejections above left the rate bucket as after 3 requests
    other = policy(requests=100, per=60)
    d = await lim.acquire("k", other)
    assert d.remaining == 100 - 4


async def test_period_resets_at_calendar_boundary(make: MakeLimiter) -> None:
    start, end = period_bounds("day", 1_700_000_000.0)
    clock = Clock(end - 1)
    lim = make(clock=clock)
    p = policy(requests=1000, per=1, quota=PeriodQuota(2, "day"))
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    clock.t = end + 1
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    m_start, m_end = period_bounds("month", 1_700_000_000.0)
    assert m_start <= 1_700_000_000.0 < m_end and 28 * 86400 <= m_end - m_start <= 31 * 86400
    assert end - start == 86400


async def test_usage_persists_and_loads_once_under_concurrency(make: MakeLimiter) -> None:
    store = MemoryUsage()
    lim = make(store)
    p = policy(requests=1000, per=1, uses=7)
    assert (await admit_all(lim, "k", p, 50)) == (7, 43)
    assert store.loads == 1
    await lim.close()
    assert store.data["k"].uses == 7
    # a "restarted" limiter reads the counters back: no uses left
    lim2 = make(store)
    assert (await admit_all(lim2, "k", p, 5)) == (0, 5)


async def test_keys_are_independent(make: MakeLimiter) -> None:
    lim = make()
    p = policy(2, 60)
    assert (await admit_all(lim, "a", p, 5)) == (2, 3)
    assert (await admit_all(lim, "b", p, 5)) == (2, 3)


async def test_peek_counts_nothing(make: MakeLimiter) -> None:
    lim = make()
    p = policy(requests=2, per=60, uses=5)
    for _ in range(10):
        d = await lim.peek("k", p)
    assert (d.remaining, d.uses_remaining) == (2, 5)
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)
    d = await lim.peek("k", p)  # a refused state is reported, not raised
    assert (d.remaining, d.uses_remaining) == (0, 3)


# --- Redis only: seeding from the database, failure modes, recovery


async def test_redis_reseeds_usage_from_store_after_losing_its_data(
    redis_url: str, redis_prefix: str
) -> None:
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(redis_url, socket_timeout=2)
    prefix = redis_prefix + uuid.uuid4().hex[:8] + ":"
    store = MemoryUsage()
    p = policy(requests=1000, per=1, uses=4, quota=PeriodQuota(100, "month"))

    def build() -> RedisLimiter:
        return RedisLimiter(
            client, prefix, fallback=InMemoryLimiter(store), usage_store=store, timeout=2.0
        )

    lim = build()
    assert (await admit_all(lim, "k", p, 3)) == (3, 0)
    await lim.close()
    assert store.data["k"].uses == 3 and store.data["k"].period_count == 3
    await client.delete(prefix + "rl:k")  # Redis restarted without persistence
    lim2 = build()
    assert (await admit_all(lim2, "k", p, 5)) == (1, 4)
    d = await lim2.peek("k", p)
    assert (d.uses_remaining, d.quota_remaining) == (0, 96)
    await lim2.close()
    await client.delete(prefix + "rl:k")
    await client.aclose()


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> None:
        self.n += 1


def _redis_limiter(url: str, mode: str, failures: Counter, fail_open: Counter) -> RedisLimiter:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client: Any = aioredis.Redis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )
    return RedisLimiter(
        client,
        "isogate-fault:",
        fallback=InMemoryLimiter(),
        failure_mode=mode,  # type: ignore[arg-type]
        timeout=0.5,
        retry_interval=0.2,
        on_redis_failure=failures,
        on_fail_open=fail_open,
    )


async def test_redis_down_fail_closed_then_recovers(redis_server_factory) -> None:
    from isogate.quota.limiter_redis import LimiterUnavailable

    server = redis_server_factory()
    failures, fail_open = Counter(), Counter()
    lim = _redis_limiter(server.url, "closed", failures, fail_open)
    p = policy(requests=3, per=60)
    assert (await admit_all(lim, "k", p, 2)) == (2, 0)
    server.stop()
    with pytest.raises(LimiterUnavailable) as info:
        await lim.acquire("k", p)
    assert "Redis" in str(info.value)
    assert failures.n >= 1 and fail_open.n == 0
    assert not lim.redis_ok
    d = await lim.peek("k", p)  # peek never fails (local figures)
    assert d.limit == 3
    server.start()  # same port, empty data
    for _ in range(50):
        await asyncio.sleep(0.1)
        try:
            await lim.acquire("k", p)
            break
        except LimiterUnavailable:
            continue
    else:
        pytest.fail("the limiter did not recover after Redis came back")
    assert lim.redis_ok
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)  # fresh Redis: 3 in all


async def test_redis_down_fail_open_uses_local_limiter(redis_server_factory) -> None:
    server = redis_server_factory()
    failures, fail_open = Counter(), Counter()
    lim = _redis_limiter(server.url, "open", failures, fail_open)
    p = policy(requests=2, per=60)
    server.stop()
    assert (await admit_all(lim, "k", p, 5)) == (2, 3)  # the local limiter still limits
    assert fail_open.n == 5 and failures.n >= 1
    server.start()
    await asyncio.sleep(0.3)  # past the retry interval
    assert (await admit_all(lim, "k2", p, 3)) == (2, 1)
    assert fail_open.n == 5  # served by Redis again
    assert lim.redis_ok


class StalledUsage(MemoryUsage):
    """A store whose first save never returns (a flush cancelled in the middle)."""

    def __init__(self) -> None:
        super().__init__()
        self.stall = True

    async def save(self, usage: dict[str, Usage]) -> None:
        if self.stall:
            await asyncio.Event().wait()
        await super().save(usage)


async def test_a_cancelled_flush_keeps_its_counts_for_the_next(make: MakeLimiter) -> None:
    # Issue 16: uses counted before a graceful restart were sometimes missing after it
    # (a flush cancelled mid-save had already marked its counts written).
    store = StalledUsage()
    lim = make(store)
    p = policy(uses=5)
    await lim.acquire("k", p)
    await lim.acquire("k", p)
    flush = asyncio.create_task(lim.flush())
    await asyncio.sleep(0.05)  # the save is stalled
    flush.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flush
    store.stall = False
    await lim.close()
    assert store.data["k"].uses == 2
