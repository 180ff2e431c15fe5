"""The auth-failure counter shared through a real Redis by two replicas."""

from __future__ import annotations

import redis.asyncio as aioredis

from isogate.gateway.auth_failures import AuthFailures


async def test_replicas_share_the_count_and_learn_blocks_from_their_own_failures(
    redis_url: str, redis_prefix: str
) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        a, b = (AuthFailures(3, 60, redis=c, prefix=redis_prefix) for c in clients)
        await a.failed("9.9.9.9")
        await b.failed("9.9.9.9")
        assert await a.blocked_for("9.9.9.9") is None
        await a.failed("9.9.9.9")  # the third, counted in Redis: A now refuses
        assert 1 <= (await a.blocked_for("9.9.9.9") or 0) <= 60
        assert await b.blocked_for("9.9.9.9") is None  # B has not seen it yet...
        await b.failed("9.9.9.9")  # ...until its own next failure returns the count
        assert 1 <= (await b.blocked_for("9.9.9.9") or 0) <= 60
        assert await a.blocked_for("1.1.1.1") is None  # other addresses pass
        assert int(await clients[0].get(redis_prefix + "authfail:9.9.9.9")) == 4
    finally:
        for c in clients:
            await c.aclose()
