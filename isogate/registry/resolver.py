"""Hot-path lookups: a function's current version by name or by claimed route.

Cached in process for a short TTL and invalidated at once by local deploys, rollbacks and
deletes (cross-replica invalidation comes with Redis). Code is loaded by SHA-256 through
the code cache, then the blob store.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from isogate.registry.blobs import BlobStore
from isogate.registry.code_cache import CodeCache
from isogate.registry.errors import BlobMissing, FunctionNotFound
from isogate.registry.functions import FunctionStore
from isogate.registry.models import Function
from isogate.registry.names import route_matches, route_rank


class FunctionResolver:
    """Name or route → :class:`Function` (with its current version)."""

    def __init__(
        self,
        store: FunctionStore,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._functions: dict[str, tuple[float, Function | None]] = {}
        self._routes: tuple[float, list[tuple[str, str]]] | None = None

    async def resolve(self, name: str) -> Function:
        """The function called ``name``; :class:`FunctionNotFound` if none."""
        now = self._clock()
        item = self._functions.get(name)
        if item is not None and item[0] > now:
            fn = item[1]
        else:
            try:
                fn = await self._store.get(None, name)
            except FunctionNotFound:
                fn = None
            if self._ttl > 0:
                if len(self._functions) > 10_000:
                    self._functions.clear()
                self._functions[name] = (now + self._ttl, fn)
        if fn is None:
            raise FunctionNotFound(f"no function {name!r}")
        return fn

    async def match_route(self, host: str, path: str) -> str | None:
        """The function whose claimed route matches, most specific first."""
        now = self._clock()
        if self._routes is None or self._routes[0] <= now:
            table = await self._store.routes()
            ordered = sorted(table.items(), key=lambda kv: route_rank(kv[0]))
            self._routes = (now + self._ttl, ordered)
        for pattern, function in self._routes[1]:
            if route_matches(pattern, host, path):
                return function
        return None

    def invalidate(self, name: str) -> None:
        """Forget a function and the route table (after deploy, rollback, delete)."""
        self._functions.pop(name, None)
        self._routes = None


class CodeLoader:
    """Source text by SHA-256: cache, then blob store (verified), then cache it."""

    def __init__(self, blobs: BlobStore, cache: CodeCache) -> None:
        self._blobs = blobs
        self._cache = cache

    async def load(self, sha256: str) -> str:
        """The function source stored under ``sha256``."""
        src = self._cache.get(sha256)
        if src is None:
            data = await self._blobs.get(sha256)
            try:
                src = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BlobMissing(f"blob {sha256[:12]} is not UTF-8") from None
            self._cache.put(sha256, src)
        return src
