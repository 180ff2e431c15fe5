"""Key verification shared by replicas: a Redis cache of leases, and a local cache that
other replicas can invalidate.

Lookups go local LRU → Redis (``{prefix}kc:d:{sha256 of the secret}``) → the metadata
store, and a lease read from the store is written to Redis for the others. Revocations and
renewals call :meth:`RedisLeaseStore.forget`: one Lua script deletes the cached lease and
leaves a short tombstone for its id, and a replica that read the old lease from the store
just before cannot write it back while the tombstone lives (the write is a Lua script that
checks it). Redis errors never fail a lookup: the store answers instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from redis.exceptions import RedisError

from isogate.caches import LRU
from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.keys import SECRET_PREFIX, KeyStore, hash_secret
from isogate.quota.models import ApiKey, KeyPolicy, PeriodQuota, RateLimit

log = logging.getLogger(__name__)

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)

#: KEYS: lease entry, id → digest entry, tombstone. ARGV: lease JSON, digest, ttl (ms).
_PUT = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
"""

#: KEYS: id → digest entry, tombstone. ARGV: prefix of lease entries, tombstone ttl (ms).
_FORGET = """
local digest = redis.call('GET', KEYS[1])
if digest then redis.call('DEL', ARGV[1] .. digest) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
"""


def key_to_json(key: ApiKey) -> str:
    """A lease as JSON (for the shared cache)."""
    return json.dumps(asdict(key), separators=(",", ":"))


def key_from_json(raw: str | bytes) -> ApiKey:
    """The lease :func:`key_to_json` wrote."""
    d = json.loads(raw)
    p = d["policy"]
    quota = PeriodQuota(**p["quota"]) if p.get("quota") else None
    return ApiKey(
        id=d["id"],
        tenant=d["tenant"],
        name=d["name"],
        prefix=d["prefix"],
        created_at=d["created_at"],
        expires_at=d["expires_at"],
        revoked_at=d["revoked_at"],
        functions=tuple(d["functions"]),
        policy=KeyPolicy(rate=RateLimit(**p["rate"]), quota=quota, uses=p.get("uses")),
    )


class SharedKeyCache(InMemoryKeyCache):
    """The local LRU, plus: a lookup that raced with an invalidation is not cached, local
    invalidations are announced through ``on_invalidate``, and remote ones :meth:`drop`."""

    def __init__(
        self,
        ttl_seconds: float,
        on_invalidate: Callable[[str], None] | None = None,
        max_entries: int = 10_000,
    ) -> None:
        super().__init__(ttl_seconds, max_entries)
        self.on_invalidate = on_invalidate
        #: the generation each lookup that missed began in (its put is refused if an
        #: invalidation came meanwhile; one evicted here is simply not cached)
        self._misses: LRU[str, int] = LRU("key_lookups", max_entries)

    def get(self, digest: str) -> tuple[bool, ApiKey | None]:
        hit, key = super().get(digest)
        if not hit:
            self._misses[digest] = self.generation
        return hit, key

    def put(self, digest: str, key: ApiKey | None) -> None:
        if self._misses.pop(digest, None) != self.generation:
            return  # an invalidation happened while this lease was being read
        super().put(digest, key)

    def invalidate(self, key_id: str) -> None:
        self.drop(key_id)
        if self.on_invalidate is not None:
            self.on_invalidate(key_id)

    def drop(self, key_id: str) -> None:
        """Forget a lease here only (it changed on another replica)."""
        super().invalidate(key_id)  # a new generation

    def clear(self) -> None:
        """Forget every lease here (invalidations may have been missed)."""
        self.generation += 1
        self._items.clear()
        self._by_id.clear()


class RedisLeaseStore:
    """``find`` through Redis in front of a :class:`KeyStore` (other calls go straight)."""

    def __init__(
        self,
        store: KeyStore,
        client: Any,
        prefix: str,
        ttl_seconds: float,
        timeout: float,
        on_redis_failure: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._redis = client
        self._lease = prefix + "kc:d:"
        self._by_id = prefix + "kc:i:"
        self._tomb = prefix + "kc:t:"
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._timeout = timeout
        self._on_failure = on_redis_failure or (lambda: None)
        self._put = client.register_script(_PUT)
        self._forget = client.register_script(_FORGET)
        self._quiet_until = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _failed(self, what: str, exc: BaseException) -> None:
        self._on_failure()
        now = time.monotonic()
        if now >= self._quiet_until:  # at most one line every 10 s
            self._quiet_until = now + 10
            log.warning("Redis key cache %s failed (%s); using the store", what, exc)

    async def find(self, secret: str) -> ApiKey | None:
        """The lease of ``secret`` (shared cache, then the store)."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200 or self._ttl_ms <= 1:
            return await self._store.find(secret)
        digest = hash_secret(secret)
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._redis.get(self._lease + digest)
            if raw is not None:
                return key_from_json(raw)
        except _REDIS_ERRORS as exc:
            self._failed("read", exc)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable lease in the Redis key cache; reading the store")
        key = await self._store.find(secret)
        if key is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._put(
                        keys=[self._lease + digest, self._by_id + key.id, self._tomb + key.id],
                        args=[key_to_json(key), digest, self._ttl_ms],
                    )
            except _REDIS_ERRORS as exc:
                self._failed("write", exc)
        return key

    async def forget(self, key_id: str) -> None:
        """Drop a lease from the shared cache and keep it out for a while (tombstone)."""
        async with asyncio.timeout(self._timeout):
            await self._forget(
                keys=[self._by_id + key_id, self._tomb + key_id],
                args=[self._lease, max(self._ttl_ms * 2, 10_000)],
            )
