"""Shared key verification: the local cache refuses to cache a lookup that raced with an
invalidation; the Redis lease cache serves other replicas and a tombstone keeps a stale
lease out after a revocation; the code loader fetches once under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import replace
from typing import Any

import pytest

from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.key_cache_redis import (
    RedisLeaseStore,
    SharedKeyCache,
    key_from_json,
    key_to_json,
)
from isogate.quota.models import ApiKey, KeyPolicy, PeriodQuota, RateLimit
from isogate.registry.code_cache import InMemoryCodeCache
from isogate.registry.resolver import CodeLoader

SECRET = "isg_" + "x" * 43


def lease(revoked: float | None = None) -> ApiKey:
    return ApiKey(
        id="key_1",
        tenant="acme",
        name="k",
        prefix="isg_xxxx",
        created_at=1.0,
        expires_at=9e9,
        revoked_at=revoked,
        functions=("*",),
        policy=KeyPolicy(RateLimit(5, 60, 5), PeriodQuota(10, "day"), 3),
    )


def test_json_round_trip() -> None:
    assert key_from_json(key_to_json(lease())) == lease()


def test_lookup_racing_an_invalidation_is_not_cached() -> None:
    announced: list[str] = []
    cache = SharedKeyCache(60, on_invalidate=announced.append)
    assert cache.get("d") == (False, None)  # miss: the verifier reads the store...
    cache.invalidate("key_1")  # ...while the key is revoked
    cache.put("d", lease())  # the stale read must not stick
    assert cache.get("d") == (False, None)
    cache.put("d", lease())  # an ordinary miss-then-put is cached
    assert cache.get("d") == (True, lease())
    cache.drop("key_1")  # a remote invalidation: dropped, not announced again
    assert cache.get("d") == (False, None)
    assert announced == ["key_1"]


class Store:
    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.finds = 0

    async def find(self, secret: str) -> ApiKey | None:
        self.finds += 1
        return self.key


async def test_redis_lease_cache_and_tombstone(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(redis_url, socket_timeout=2)
    prefix = f"{redis_prefix}{uuid.uuid4().hex[:8]}:"
    store_a, store_b = Store(lease()), Store(lease())
    a = RedisLeaseStore(store_a, client, prefix, 30, 2.0)
    b = RedisLeaseStore(store_b, client, prefix, 30, 2.0)
    assert await a.find(SECRET) == lease()
    assert await b.find(SECRET) == lease() and store_b.finds == 0  # served by Redis
    # revoke: the store changes, the shared entry goes, and a replica that read the old
    # lease just before cannot write it back
    store_a.key = store_b.key = lease(revoked=2.0)
    await a.forget("key_1")
    stale = RedisLeaseStore(Store(lease()), client, prefix, 30, 2.0)
    assert (await stale.find(SECRET)).revoked_at is None  # its own (stale) read...
    assert (await b.find(SECRET)).revoked_at == 2.0  # ...did not reach the others
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class Blobs:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.gets = 0

    async def get(self, sha256: str) -> bytes:
        self.gets += 1
        await asyncio.sleep(0.02)
        return self.data


class Shared:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    async def get(self, sha256: str) -> str | None:
        return self.items.get(sha256)

    async def put(self, sha256: str, source: str) -> None:
        self.items[sha256] = source


@pytest.mark.parametrize("with_shared", [False, True])
async def test_code_loader_fetches_once(with_shared: bool) -> None:
    src = "export default {}"
    sha = hashlib.sha256(src.encode()).hexdigest()
    blobs, shared = Blobs(src.encode()), Shared()
    loader = CodeLoader(blobs, InMemoryCodeCache(1 << 20), shared if with_shared else None)  # type: ignore[arg-type]
    sources: list[str] = []
    loader.on_load = sources.append
    assert await asyncio.gather(*(loader.load(sha) for _ in range(10))) == [src] * 10
    assert blobs.gets == 1 and sources.count("blob") == 1
    if with_shared:  # another replica finds it in the shared cache
        other = CodeLoader(Blobs(b""), InMemoryCodeCache(1 << 20), shared)  # type: ignore[arg-type]
        assert await other.load(sha) == src
        shared.items[sha] = "tampered"  # a copy that does not match its hash is ignored
        third_blobs = Blobs(src.encode())
        third = CodeLoader(third_blobs, InMemoryCodeCache(1 << 20), shared)  # type: ignore[arg-type]
        assert await third.load(sha) == src and third_blobs.gets == 1


def test_key_cache_is_bounded_and_still_invalidates() -> None:
    now = [0.0]
    cache = InMemoryKeyCache(60, max_entries=3, clock=lambda: now[0])
    for i in range(10):
        cache.put(f"d{i}", replace(lease(), id=f"k{i}"))
    assert len(cache._items) == 3 and len(cache._by_id) == 3  # ids follow their leases
    assert cache.get("d0") == (False, None)
    assert cache.get("d9") == (True, replace(lease(), id="k9"))
    cache.invalidate("k9")  # a revocation is seen at once
    assert cache.get("d9") == (False, None)
    cache.put("d1", None)  # "no such key" is cached too
    assert cache.get("d1") == (True, None)
    now[0] = 61.0
    assert cache.get("d8") == (False, None)  # expired
    cache.put("d20", None)  # a write purges what expired, and their ids with them
    assert not cache._by_id


def test_shared_key_cache_refuses_a_lookup_raced_by_invalidation() -> None:
    cache = SharedKeyCache(60, max_entries=2)
    hit, _ = cache.get("d1")
    assert not hit
    cache.drop("k1")  # a change arrives while d1 is being read
    cache.put("d1", replace(lease(), id="k1"))
    assert cache.get("d1") == (False, None)
    for i in range(5):  # misses are bounded too
        cache.get(f"x{i}")
    assert len(cache._misses) == 2
