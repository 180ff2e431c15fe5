"""The executor's bounded caches (sources by key, prepared sources by text)."""

from __future__ import annotations

from isogate.runtime.executor import LruCache, prepared_cache, source_cache
from isogate.runtime.source import PreparedSource


def test_least_recently_used_goes_first_when_over_budget() -> None:
    cache: LruCache[str] = source_cache(max_bytes=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # now b is the least recently used
    cache.put("c", "cccc")  # 12 bytes > 10: b goes
    assert cache.get("b") is None
    assert cache.get("a") == "aaaa" and cache.get("c") == "cccc"


def test_an_item_larger_than_the_budget_is_still_kept_alone() -> None:
    cache = source_cache(max_bytes=4)
    cache.put("a", "aa")
    cache.put("big", "x" * 100)
    assert cache.get("a") is None and cache.get("big") == "x" * 100


def test_prepared_sources_count_key_and_script() -> None:
    cache = prepared_cache(max_bytes=30)
    one = PreparedSource(script="s" * 10, module=True)
    cache.put("k" * 10, one)  # 20 bytes
    cache.put("j" * 5, PreparedSource(script="t" * 5, module=False))  # 10 bytes: 30, fits
    assert cache.get("k" * 10) is one
    cache.put("i", PreparedSource(script="u", module=False))  # 32: the oldest unused goes
    assert cache.get("j" * 5) is None and cache.get("k" * 10) is one
