"""Hot-path lookups: a function's current version by name or by claimed route.

Cached in process for a short TTL and invalidated at once by local deploys, rollbacks and
deletes; with Redis, ``on_invalidate`` tells the other replicas, which call :meth:`forget`.
A lookup that raced with an invalidation is not cached. Code is loaded by SHA-256 through
the in-process code cache, then the shared one (Redis) if any, then the blob store; one
fetch per SHA-256 however many cold starts wait for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from isogate.caches import TLRU
from isogate.registry.blobs import BlobStore
from isogate.registry.code_cache import CodeCache
from isogate.registry.errors import BlobMissing, FunctionNotFound
from isogate.registry.functions import FunctionStore
from isogate.registry.models import Function
from isogate.registry.route_index import RouteIndex
from isogate.singleflight import BatchFlight, SingleFlight

log = logging.getLogger(__name__)


class FunctionResolver:
    """Name or route → :class:`Function` (with its current version)."""

    def __init__(
        self,
        store: FunctionStore,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        #: name -> (expires, its function or None: "no such function"); an entry expires
        #: ``ttl_seconds`` after the query that read it began
        self._functions: TLRU[str, tuple[float, Function | None]] = TLRU(
            "functions", max_entries, lambda _name, item, _now: item[0], clock
        )
        # The route index: loaded whole once, then patched per changed function (a deploy
        # re-reads that function's routes only); reloaded whole in the background when
        # older than the TTL (changes made where no invalidation reaches us), and after
        # clear(). ``_changed`` numbers every change so a reload that raced with one
        # does not undo it.
        self._index: RouteIndex | None = None
        self._index_expires = 0.0
        self._dirty: set[str] = set()
        self._change_seq = 0
        self._changed: dict[str, int] = {}
        self._index_flight: SingleFlight[str, RouteIndex] = SingleFlight()
        self._refresh: asyncio.Task[Any] | None = None
        self._epoch = 0  # bumped by clear(): a read begun before it is not installed
        self._generation = 0
        # Misses are batched: however many requests miss at once, for one function (its
        # entry expired under load) or for many (a burst of cold functions), they cost
        # one query per batch.
        self._lookups: BatchFlight[str, Function | None] = BatchFlight(self._load_batch)
        #: called with the name after a local :meth:`invalidate` (cross-replica hook)
        self.on_invalidate: Callable[[str], None] | None = None

    async def resolve(self, name: str) -> Function:
        """The function called ``name``; :class:`FunctionNotFound` if none."""
        item = self._functions.lookup(name)
        fn = item[1] if item is not None else await self._lookups.run(name)
        if fn is None:
            raise FunctionNotFound(f"no function {name!r}")
        return fn

    async def _load_batch(self, names: list[str]) -> dict[str, Function | None]:
        """Read ``names`` in one query and cache what was found (and what was not)."""
        generation = self._generation
        now = self._clock()
        found = await self._store.get_many(names)
        # not cached if anything changed meanwhile: the answer may predate it
        keep = self._ttl > 0 and generation == self._generation
        answers = {name: found.get(name) for name in names}
        if keep:
            for name, fn in answers.items():
                self._functions[name] = (now + self._ttl, fn)
        return answers

    async def match_route(self, host: str, path: str) -> str | None:
        """The function whose claimed route matches, most specific first."""
        index = self._index
        if index is None or self._ttl <= 0:
            index = await self._index_flight.run("all", self._load_index)
        else:
            if self._dirty:
                await self._index_flight.run("patch", self._patch_index)
                index = self._index or index
            if self._index_expires <= self._clock() and (
                self._refresh is None or self._refresh.done()
            ):
                self._refresh = asyncio.create_task(self._refresh_index())
        return index.match(host, path)

    async def _load_index(self) -> RouteIndex:
        """Read the whole route table into a new index and install it."""
        start, epoch = self._change_seq, self._epoch
        now = self._clock()
        index = RouteIndex(await self._store.routes())
        if self._ttl > 0 and epoch == self._epoch:
            self._index = index
            self._index_expires = now + self._ttl
            # changes after the read began are not in it: patch those
            self._dirty = {n for n in self._dirty if self._changed.get(n, 0) > start}
            self._dirty.update(n for n, seq in self._changed.items() if seq > start)
            self._changed = {n: seq for n, seq in self._changed.items() if seq > start}
        return index

    async def _refresh_index(self) -> None:
        try:
            await self._index_flight.run("all", self._load_index)
        except Exception as exc:  # the old index keeps serving; the next lookup retries
            log.warning("route table refresh failed: %s", exc.__class__.__name__)

    async def _patch_index(self) -> RouteIndex:
        """Re-read the routes of the functions changed since the index was built."""
        index = self._index
        names = set(self._dirty)
        self._dirty.clear()
        try:
            table = await self._store.routes_of(sorted(names))
        except BaseException:
            self._dirty |= names
            raise
        if index is None or index is not self._index:  # replaced meanwhile: patch that
            self._dirty |= names
            return self._index or index or RouteIndex()
        owned: dict[str, list[str]] = {n: [] for n in names}
        for pattern, function in table.items():
            owned.setdefault(function, []).append(pattern)
        for function, patterns in owned.items():
            index.replace_function(function, patterns)
        return index

    def invalidate(self, name: str) -> None:
        """Forget a function and the route table (after deploy, rollback, delete)."""
        self.forget(name)
        if self.on_invalidate is not None:
            self.on_invalidate(name)

    def forget(self, name: str) -> None:
        """Drop ``name`` and the route table here only (a change made elsewhere)."""
        self._generation += 1
        self._functions.pop(name, None)
        self._lookups.forget(name)  # a query begun before the change must not be joined
        if self._ttl > 0:
            self._change_seq += 1
            self._changed[name] = self._change_seq
            self._dirty.add(name)

    def clear(self) -> None:
        """Drop everything cached here (invalidations may have been missed)."""
        self._generation += 1
        self._functions.clear()
        self._lookups.forget_all()
        self._index = None
        self._epoch += 1
        self._dirty.clear()
        self._changed.clear()


class SharedCodeCache(Protocol):
    """A cache shared by replicas (Redis): async, and allowed to fail (then skipped)."""

    async def get(self, sha256: str) -> str | None: ...
    async def put(self, sha256: str, source: str) -> None: ...


class CodeLoader:
    """Source text by SHA-256: cache, then blob store (verified), then cache it."""

    def __init__(
        self, blobs: BlobStore, cache: CodeCache, shared: SharedCodeCache | None = None
    ) -> None:
        self._blobs = blobs
        self._cache = cache
        self.shared = shared
        #: called with where code came from: ``memory``, ``shared`` or ``blob``
        self.on_load: Callable[[str], None] | None = None
        self._fetches: SingleFlight[str, str] = SingleFlight()

    def _count(self, source: str) -> None:
        if self.on_load is not None:
            self.on_load(source)

    async def load(self, sha256: str) -> str:
        """The function source stored under ``sha256``."""
        src = self._cache.get(sha256)
        if src is not None:
            self._count("memory")
            return src
        if self._fetches.joined(sha256):
            self._count("memory")  # served by a fetch already under way
        # concurrent cold starts share one fetch
        return await self._fetches.run(sha256, lambda: self._fetch(sha256))

    async def remember(self, sha256: str, source: str) -> None:
        """Keep freshly deployed code at hand: its first invocation reads no blob."""
        self._cache.put(sha256, source)
        if self.shared is not None:
            await self.shared.put(sha256, source)

    async def _fetch(self, sha256: str) -> str:
        shared = self.shared
        src = await shared.get(sha256) if shared is not None else None
        if src is not None and hashlib.sha256(src.encode("utf-8")).hexdigest() != sha256:
            src = None  # never trust a shared copy that does not match its address
        if src is not None:
            self._count("shared")
        else:
            data = await self._blobs.get(sha256)
            try:
                src = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BlobMissing(f"blob {sha256[:12]} is not UTF-8") from None
            self._count("blob")
            if shared is not None:
                await shared.put(sha256, src)
        self._cache.put(sha256, src)
        return src
