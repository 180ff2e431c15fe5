"""Cache of verified leases, by secret hash. In process now; Redis (shared, with
cross-replica invalidation) next. Revocations and renewals invalidate at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from isogate.caches import TTL
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
    """A bounded LRU with a time-to-live per entry (the ``key_leases`` cache)."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        #: lease (or None: "no such key") by secret hash
        self._items: TTL[str, ApiKey | None] = TTL(
            "key_leases", max_entries, ttl_seconds, clock, on_drop=self._dropped
        )
        #: key id -> the secret hash its cached lease is under (for invalidate); kept in
        #: step with ``_items``, so no larger than it
        self._by_id: dict[str, str] = {}
        self.generation = 0

    def get(self, digest: str) -> tuple[bool, ApiKey | None]:
        """``(hit, lease)``; a hit with ``None`` means "known not to exist"."""
        key = self._items.lookup(digest, _MISSING)
        if key is _MISSING:
            return False, None
        assert not isinstance(key, _Missing)
        return True, key

    def put(self, digest: str, key: ApiKey | None) -> None:
        """Remember a lookup result for ``ttl_seconds``."""
        if self._ttl <= 0:
            return
        self._items[digest] = key
        if key is not None:
            self._by_id[key.id] = digest

    def invalidate(self, key_id: str) -> None:
        """Forget a lease (after revoke or renew)."""
        self.generation += 1
        digest = self._by_id.pop(key_id, None)
        if digest is not None:
            self._items.pop(digest, None)

    def _dropped(self, digest: str, key: ApiKey | None) -> None:
        if key is not None and self._by_id.get(key.id) == digest:
            del self._by_id[key.id]


class _Missing:
    """The answer of a lookup that found nothing (``None`` is a cached answer)."""


_MISSING = _Missing()
