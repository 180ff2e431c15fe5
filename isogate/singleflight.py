"""Concurrent requests for the same missing value share one fetch ("single flight")."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one fetch per key in flight; callers that arrive meanwhile await it.

    Why: when a cached entry expires under load, every concurrent request misses at
    once; without this they would queue dozens of identical queries on a database (a
    stall measured at ~250 ms every TTL with 64 clients). The fetch runs in a task of
    its own and callers await it shielded, so a caller that goes away cancels nothing
    for the others. A key is forgotten as soon as its fetch ends (success or error):
    the next miss fetches again.
    """

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        """The result of ``fetch()``, shared with every concurrent call for ``key``."""
        fut = self._flights.get(key)
        if fut is None:
            fut = asyncio.ensure_future(fetch())
            self._flights[key] = fut
            fut.add_done_callback(lambda f: self._landed(key, f))
        return await asyncio.shield(fut)

    def joined(self, key: K) -> bool:
        """Whether a fetch for ``key`` is in flight (callers would share it)."""
        return key in self._flights

    def _landed(self, key: K, fut: asyncio.Future[V]) -> None:
        if self._flights.get(key) is fut:
            del self._flights[key]


#: keys answered by one ``fetch_many`` call at most
MAX_BATCH = 500


class BatchFlight(Generic[K, V]):
    """Like :class:`SingleFlight`, and misses of *different* keys share one fetch too.

    Why: a burst of distinct cold keys (200 functions called at once after their cache
    entries expired) would otherwise cost one query each; here the first miss starts a
    loader task, and every key missed before it runs (up to ``MAX_BATCH``) goes in its
    query. ``fetch_many`` answers a list of keys with a value for each; its failure
    fails that batch's callers only, and the next miss tries again.
    """

    def __init__(self, fetch_many: Callable[[list[K]], Awaitable[dict[K, V]]]) -> None:
        self._fetch_many = fetch_many
        self._inflight: dict[K, asyncio.Future[V]] = {}
        self._wanted: dict[K, asyncio.Future[V]] = {}  # not in a query yet
        self._loader: asyncio.Task[None] | None = None

    async def run(self, key: K) -> V:
        """The value for ``key``, from a batch it shares with every concurrent miss."""
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            fut.add_done_callback(lambda f: self._landed(key, f))
            self._inflight[key] = self._wanted[key] = fut
            if self._loader is None or self._loader.done():
                self._loader = asyncio.create_task(self._load())
        # shielded: a caller going away cancels nothing for the others
        return await asyncio.shield(fut)

    def forget(self, key: K) -> None:
        """A change to ``key``'s value: later misses do not join a query already begun
        (one not begun yet will read after the change and may still be joined)."""
        if key not in self._wanted:
            self._inflight.pop(key, None)

    def forget_all(self) -> None:
        """:meth:`forget` for every key."""
        self._inflight = {k: f for k, f in self._inflight.items() if k in self._wanted}

    def _landed(self, key: K, fut: asyncio.Future[V]) -> None:
        if self._inflight.get(key) is fut:
            del self._inflight[key]

    async def _load(self) -> None:
        """Answer waiting keys, up to ``MAX_BATCH`` per fetch, until none wait."""
        while self._wanted:
            keys = list(itertools.islice(self._wanted, MAX_BATCH))
            batch = {key: self._wanted.pop(key) for key in keys}
            try:
                found = await self._fetch_many(keys)
                for key, fut in batch.items():
                    if not fut.done():
                        fut.set_result(found[key])
            except Exception as exc:
                for fut in batch.values():
                    if not fut.done():
                        fut.set_exception(exc)
