"""Cache of verified leases, by secret hash. In process now; Redis (shared, with
cross-replica invalidation) next. Revocations and renewals invalidate at once."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from isogate.quota.models import ApiKey


class KeyCache(Protocol):
    """Lease lookups by secret hash."""

    #: incremented by every invalidation: a lookup begun in an older generation may have
    #: read a lease that has changed since, and must not be cached or shared
    generation: int

    def get(self, digest: str) -> tuple[bool, ApiKey | None]: ...
    def put(self, digest: str, key: ApiKey | None) -> None: ...
    def invalidate(self, key_id: str) -> None: ...


class InMemoryKeyCache:
    """A bounded LRU with a time-to-live per entry."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, ApiKey | None]] = OrderedDict()
        self._by_id: dict[str, str] = {}
        self.generation = 0

    def get(self, digest: str) -> tuple[bool, ApiKey | None]:
        """``(hit, lease)``; a hit with ``None`` means "known not to exist"."""
        item = self._items.get(digest)
        if item is None:
            return False, None
        expires, key = item
        if self._clock() >= expires:
            self._drop(digest)
            return False, None
        self._items.move_to_end(digest)
        return True, key

    def put(self, digest: str, key: ApiKey | None) -> None:
        """Remember a lookup result for ``ttl_seconds``."""
        if self._ttl <= 0:
            return
        self._items[digest] = (self._clock() + self._ttl, key)
        self._items.move_to_end(digest)
        if key is not None:
            self._by_id[key.id] = digest
        while len(self._items) > self._max:
            oldest = next(iter(self._items))
            self._drop(oldest)

    def invalidate(self, key_id: str) -> None:
        """Forget a lease (after revoke or renew)."""
        self.generation += 1
        digest = self._by_id.pop(key_id, None)
        if digest is not None:
            self._items.pop(digest, None)

    def _drop(self, digest: str) -> None:
        _, key = self._items.pop(digest, (0.0, None))
        if key is not None:
            self._by_id.pop(key.id, None)
