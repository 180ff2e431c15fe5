"""The bounded caches (isogate.caches) and the caches built on them: bounds, expiry,
hit/miss/eviction counts, and invalidation that survives eviction."""

from __future__ import annotations

import gc

from isogate.caches import LRU, TTL, live_caches
from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.key_cache_redis import SharedKeyCache
from isogate.quota.models import ApiKey, KeyPolicy, RateLimit
from isogate.registry.code_cache import InMemoryCodeCache


def _key(i: int) -> ApiKey:
    return ApiKey(
        id=f"k{i}",
        tenant="acme",
        name="",
        prefix="p",
        created_at=0.0,
        expires_at=1e12,
        revoked_at=None,
        functions=(),
        policy=KeyPolicy(rate=RateLimit(10, 1, 10)),
    )


def test_lru_bound_and_counts() -> None:
    c: LRU[str, int] = LRU("t_lru", 2)
    c["a"], c["b"] = 1, 2
    assert c.lookup("a") == 1  # a is now the most recently used: b goes first
    c["c"] = 3
    assert set(c) == {"a", "c"}
    assert c.lookup("b") is None and c.lookup("b", -1) == -1
    assert (c.stats.hits, c.stats.misses, c.stats.evictions) == (1, 2, 1)


def test_lru_weighs_entries() -> None:
    c: LRU[str, str] = LRU("t_weighed", 10, getsizeof=len)
    c["a"] = "12345"
    c["b"] = "123456"
    assert list(c) == ["b"] and c.currsize == 6 and c.stats.evictions == 1


def test_ttl_expires_and_counts() -> None:
    now = [0.0]
    dropped: list[tuple[str, int]] = []
    c: TTL[str, int] = TTL("t_ttl", 10, 5.0, lambda: now[0], on_drop=lambda k, v: dropped.append((k, v)))
    c["a"] = 1
    now[0] = 4.9
    assert c.lookup("a") == 1
    now[0] = 5.0
    assert c.lookup("a") is None
    c["b"] = 2  # a write expires what is due
    assert c.stats.expirations == 1 and dropped == [("a", 1)]
    assert (c.stats.hits, c.stats.misses, c.stats.evictions) == (1, 1, 0)


def test_live_caches_reports_and_forgets() -> None:
    c: LRU[str, int] = LRU("t_live", 3)
    c["x"] = 1
    c.lookup("x")
    found = [(n, s.hits, size, bound) for n, s, size, bound in live_caches() if n == "t_live"]
    assert found == [("t_live", 1, 1, 3)]
    del c
    gc.collect()
    assert not [n for n, *_ in live_caches() if n == "t_live"]


def test_key_cache_is_bounded_and_still_invalidates() -> None:
    now = [0.0]
    cache = InMemoryKeyCache(60, max_entries=3, clock=lambda: now[0])
    for i in range(10):
        cache.put(f"d{i}", _key(i))
    assert len(cache._items) == 3 and len(cache._by_id) == 3  # ids follow their leases
    assert cache.get("d0") == (False, None)
    assert cache.get("d9") == (True, _key(9))
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
    cache.put("d1", _key(1))
    assert cache.get("d1") == (False, None)
    for i in range(5):  # misses are bounded too
        cache.get(f"x{i}")
    assert len(cache._misses) == 2


def test_code_cache_bounded_by_size() -> None:
    cache = InMemoryCodeCache(10)
    cache.put("a", "x" * 6)
    cache.put("huge", "x" * 11)  # larger than the whole cache: not kept
    cache.put("b", "y" * 4)
    assert cache.get("b") == "y" * 4 and cache.get("a") == "x" * 6
    cache.put("c", "z" * 3)  # b is the least recently used
    assert cache.get("b") is None and cache.get("huge") is None
    assert cache.get("a") == "x" * 6 and cache.get("c") == "z" * 3
