"""Bounded in-process caches (``cachetools``) that count their hits, misses, evictions.

Every cache of the gateway process is one of these, built with a ``name`` (the ``cache``
label of the ``isogate_cache_*`` metrics, see :mod:`isogate.gateway.metrics`) and a bound
from the settings. What each cache holds, its bound and how it is invalidated across
replicas: docs/architecture.md, "Caches".

They are not thread-safe (``cachetools`` is not): each is used by the event loop only.
A utility layer like :mod:`isogate.periodic`: any package may use it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import cachetools

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


@dataclass(slots=True)
class CacheStats:
    """Counts since the cache was made (Prometheus counters read them)."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0  #: dropped to stay within the bound (least recently used first)
    expirations: int = 0  #: dropped because their time to live ran out


#: every live cache by id, for the metrics (weak: a cache dropped with its owner leaves;
#: by id, as a mapping is not hashable)
_LIVE: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def live_caches() -> Iterator[tuple[str, CacheStats, float, float]]:
    """``(name, stats, size, bound)`` of every live cache of this process (size and
    bound in entries, or in the cache's own unit when it weighs them, e.g. bytes)."""
    for cache in list(_LIVE.values()):
        yield cache.name, cache.stats, cache.currsize, cache.maxsize


class _Counted(Generic[K, V]):
    """What :class:`LRU` and :class:`TLRU` add alike: ``name``, ``stats``, :meth:`lookup`."""

    name: str
    stats: CacheStats

    if TYPE_CHECKING:  # the cachetools cache's (the class this is mixed into)

        def __getitem__(self, key: K) -> V: ...

    @overload
    def lookup(self, key: K) -> V | None: ...
    @overload
    def lookup(self, key: K, default: D) -> V | D: ...
    def lookup(self, key: K, default: object = None) -> object:
        """The value of ``key`` if present and not expired (now the most recently used),
        else ``default``; counts a hit or a miss."""
        try:
            value = self[key]
        except KeyError:
            self.stats.misses += 1
            return default
        self.stats.hits += 1
        return value


class LRU(_Counted[K, V], cachetools.LRUCache[K, V]):
    """A least-recently-used cache of at most ``maxsize`` entries (or of total
    ``getsizeof`` at most ``maxsize``); :meth:`lookup` counts a hit or a miss."""

    def __init__(
        self, name: str, maxsize: int, getsizeof: Callable[[V], float] | None = None
    ) -> None:
        super().__init__(maxsize, getsizeof)
        self.name = name
        self.stats = CacheStats()
        _LIVE[id(self)] = self

    def popitem(self) -> tuple[K, V]:
        item = super().popitem()
        self.stats.evictions += 1
        return item


class TLRU(_Counted[K, V], cachetools.TLRUCache[K, V]):
    """An LRU whose entries also expire: ``ttu(key, value, now)`` is the time (of
    ``timer``) when an entry added at ``now`` stops being served. ``on_drop(key, value)``
    is called for each entry evicted or expired (not for ``pop``/``del``/``clear``)."""

    def __init__(
        self,
        name: str,
        maxsize: int,
        ttu: Callable[[K, V, float], float],
        timer: Callable[[], float],
        getsizeof: Callable[[V], float] | None = None,
        on_drop: Callable[[K, V], None] | None = None,
    ) -> None:
        super().__init__(maxsize, ttu, timer, getsizeof)
        self.name = name
        self.stats = CacheStats()
        self._on_drop = on_drop
        _LIVE[id(self)] = self

    def popitem(self) -> tuple[K, V]:
        item = super().popitem()
        self.stats.evictions += 1
        if self._on_drop is not None:
            self._on_drop(*item)
        return item

    def expire(self, time: float | None = None) -> list[tuple[K, V]]:
        expired = list(super().expire(time))
        self.stats.expirations += len(expired)
        if self._on_drop is not None:
            for item in expired:
                self._on_drop(*item)
        return expired


class TTL(TLRU[K, V]):
    """An LRU whose entries expire ``ttl`` (of ``timer``) after they were added."""

    def __init__(
        self,
        name: str,
        maxsize: int,
        ttl: float,
        timer: Callable[[], float],
        getsizeof: Callable[[V], float] | None = None,
        on_drop: Callable[[K, V], None] | None = None,
    ) -> None:
        super().__init__(name, maxsize, lambda _k, _v, now: now + ttl, timer, getsizeof, on_drop)
        self.ttl = ttl
