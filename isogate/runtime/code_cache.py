"""The caches a worker process's executor threads share: sources by function key, and
prepared (checked, wrapped) sources by source text.

Both are :class:`isogate.caches.LRU` weighed in bytes (``getsizeof``), named for the
``isogate_cache_*`` metrics; shared by the executor threads of one worker, so each is
behind a lock (cachetools is not thread-safe). Their counts live in the worker process;
its periodic report (the ``Egress`` frame, worker.py) carries them to the supervisor, and
so to the gateway's ``/metrics`` (docs/architecture.md, "Caches").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ..caches import LRU, CacheStats
from .source import PreparedSource

V = TypeVar("V")


class SharedLRU(Generic[V]):
    """Values by string key, least recently used dropped beyond ``max_bytes`` (as
    weighed by ``size(key, value)``); locked, for the executor threads of a worker.

    A value heavier than the whole budget is not kept (the caller has it already and
    asks again, e.g. with ``NeedCode``)."""

    def __init__(self, name: str, max_bytes: int, size: Callable[[str, V], int]) -> None:
        self._lock = threading.Lock()
        # the weight rides with the value: cachetools weighs values, ours weigh the key too
        self._lru: LRU[str, tuple[V, int]] = LRU(name, max_bytes, getsizeof=lambda e: e[1])
        self._size = size

    @property
    def name(self) -> str:
        """The ``cache`` label of its metrics."""
        return self._lru.name

    @property
    def maxsize(self) -> int:
        """Its bound, in bytes."""
        return int(self._lru.maxsize)

    @property
    def stats(self) -> CacheStats:
        """Hits, misses and evictions so far."""
        return self._lru.stats

    @property
    def currsize(self) -> float:
        """Bytes held now."""
        return self._lru.currsize

    def put(self, key: str, value: V) -> None:
        """Keep ``value`` under ``key`` (a key already held stays as it is, now the most
        recently used)."""
        with self._lock:
            if self._lru.lookup(key) is not None:
                return
            weight = self._size(key, value)
            if weight <= self._lru.maxsize:
                self._lru[key] = (value, weight)

    def get(self, key: str) -> V | None:
        """The value of ``key`` (now the most recently used), or ``None``."""
        with self._lock:
            entry = self._lru.lookup(key)
            return None if entry is None else entry[0]


def source_cache(max_bytes: int) -> SharedLRU[str]:
    """Sources this worker has been sent, by function key."""
    return SharedLRU("worker_sources", max_bytes, lambda _key, source: len(source))


def prepared_cache(max_bytes: int) -> SharedLRU[PreparedSource]:
    """Checked and wrapped sources by source text: a deploy's validation prepares the
    code, and its first load (and every later one) skips V8's compiles of it."""
    return SharedLRU("worker_prepared", max_bytes, lambda source, p: len(source) + len(p.script))
