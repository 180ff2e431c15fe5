"""Function source by SHA-256: in-process LRU bounded by size (Redis next)."""

from __future__ import annotations

from typing import Protocol

from isogate.caches import LRU


class CodeCache(Protocol):
    """Cache in front of the blob store."""

    def get(self, sha256: str) -> str | None: ...
    def put(self, sha256: str, source: str) -> None: ...


class InMemoryCodeCache:
    """LRU of sources (the ``code`` cache), at most ``max_bytes`` of them (counted in
    characters, as before: a source is content-addressed, so it never goes stale)."""

    def __init__(self, max_bytes: int) -> None:
        self._items: LRU[str, str] = LRU("code", max_bytes, getsizeof=len)

    def get(self, sha256: str) -> str | None:
        """The cached source or ``None``."""
        return self._items.lookup(sha256)

    def put(self, sha256: str, source: str) -> None:
        """Cache ``source`` (skipped if larger than the whole cache)."""
        if len(source) > self._items.maxsize or sha256 in self._items:
            return
        self._items[sha256] = source
