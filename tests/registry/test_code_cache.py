"""The in-process code cache (registry/code_cache.py): bounded by the size of sources."""

from __future__ import annotations

from isogate.registry.code_cache import InMemoryCodeCache


def test_code_cache_bounded_by_size() -> None:
    cache = InMemoryCodeCache(10)
    cache.put("a", "x" * 6)
    cache.put("huge", "x" * 11)  # larger than the whole cache: not kept
    cache.put("b", "y" * 4)
    assert cache.get("b") == "y" * 4 and cache.get("a") == "x" * 6
    cache.put("c", "z" * 3)  # b is the least recently used
    assert cache.get("b") is None and cache.get("huge") is None
    assert cache.get("a") == "x" * 6 and cache.get("c") == "z" * 3
