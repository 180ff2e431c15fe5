"""Function source by SHA-256: in-process LRU bounded by bytes (Redis next)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class CodeCache(Protocol):
    """Cache in front of the blob store."""

    def get(self, sha256: str) -> str | None: ...
    def put(self, sha256: str, source: str) -> None: ...


class InMemoryCodeCache:
    """LRU of sources, at most ``max_bytes`` of UTF-8 text."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        """The cached source or ``None``."""
        src = self._items.get(sha256)
        if src is not None:
            self._items.move_to_end(sha256)
        return src

    def put(self, sha256: str, source: str) -> None:
        """Cache ``source`` (skipped if larger than the whole cache)."""
        size = len(source)
        if size > self._max or sha256 in self._items:
            return
        self._items[sha256] = source
        self._size += size
        while self._size > self._max:
            _, old = self._items.popitem(last=False)
            self._size -= len(old)
