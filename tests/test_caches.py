"""The bounded caches (isogate.caches): bounds, expiry, hit/miss/eviction counts."""

from __future__ import annotations

import gc

from isogate.caches import LRU, TTL, live_caches


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
    c: TTL[str, int] = TTL(
        "t_ttl", 10, 5.0, lambda: now[0], on_drop=lambda k, v: dropped.append((k, v))
    )
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
