"""Verification of a presented API key for one function: cache, then store, then checks."""

from __future__ import annotations

import time
from collections.abc import Callable

from isogate.quota.errors import KeyExpired, KeyOutOfScope, KeyRevoked, KeyUnknown
from isogate.quota.key_cache import KeyCache
from isogate.quota.keys import KeyStore, hash_secret
from isogate.quota.models import ApiKey
from isogate.singleflight import SingleFlight


class KeyVerifier:
    """Turns a presented secret into a lease that may invoke a function, or raises."""

    def __init__(
        self, store: KeyStore, cache: KeyCache, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._cache = cache
        self._clock = clock
        # Lookups in flight by secret hash and cache generation: a lookup begun before a
        # revoke or renew (a new generation) is never joined.
        self._lookups: SingleFlight[tuple[str, int], ApiKey | None] = SingleFlight()

    async def lookup(self, secret: str) -> ApiKey:
        """The lease of ``secret`` whatever its state; :class:`KeyUnknown` if none."""
        if not secret:
            raise KeyUnknown("an API key is required")
        digest = hash_secret(secret)
        hit, key = self._cache.get(digest)
        if not hit:
            generation = self._cache.generation
            key = await self._lookups.run(
                (digest, generation), lambda: self._find(digest, secret, generation)
            )
        if key is None:
            raise KeyUnknown("unknown API key")
        return key

    async def _find(self, digest: str, secret: str, generation: int) -> ApiKey | None:
        key = await self._store.find(secret)
        if self._cache.generation == generation:  # else revoked or renewed meanwhile
            self._cache.put(digest, key)
        return key

    async def verify(self, secret: str, function: str) -> ApiKey:
        """A live lease allowed to call ``function``; 401/403-class errors otherwise."""
        key = await self.lookup(secret)
        self.check(key, function)
        return key

    def check(self, key: ApiKey, function: str) -> None:
        """Raise unless ``key`` is live and may call ``function``."""
        state = key.state(self._clock())
        if state == "revoked":
            raise KeyRevoked("this API key was revoked")
        if state == "expired":
            raise KeyExpired("this API key has expired")
        if not key.allows(function):
            raise KeyOutOfScope(f"this API key may not invoke {function!r}")

    def invalidate(self, key_id: str) -> None:
        """Forget a cached lease (revoked or renewed)."""
        self._cache.invalidate(key_id)
