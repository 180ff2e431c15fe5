"""Function sources shared by replicas in Redis (``{prefix}code:{sha256}``).

Content-addressed and immutable, so nothing ever needs invalidating: entries simply expire
a day after they were last written. A replica cold-starting code deployed elsewhere reads
it here before going to the blob store. Errors and deadlines turn into misses (the blob
store answers), never into failed invocations.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)

#: Sources larger than this stay out of Redis.
MAX_ENTRY_BYTES = 8 << 20
TTL_SECONDS = 86400


class RedisCodeCache:
    """Async get/put of sources by SHA-256; failures are logged (rarely) and counted."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        timeout: float,
        on_redis_failure: Callable[[], None] | None = None,
    ) -> None:
        self._redis = client
        self._prefix = prefix + "code:"
        self._timeout = timeout
        self._on_failure = on_redis_failure or (lambda: None)
        self._quiet_until = 0.0

    def _failed(self, what: str, exc: BaseException) -> None:
        self._on_failure()
        now = time.monotonic()
        if now >= self._quiet_until:
            self._quiet_until = now + 10
            log.warning("Redis code cache %s failed (%s); using the blob store", what, exc)

    async def get(self, sha256: str) -> str | None:
        """The cached source, or ``None`` (also when Redis fails)."""
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._redis.get(self._prefix + sha256)
        except _REDIS_ERRORS as exc:
            self._failed("read", exc)
            return None
        if raw is None:
            return None
        try:
            return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            return None

    async def put(self, sha256: str, source: str) -> None:
        """Share ``source`` (best effort)."""
        data = source.encode("utf-8")
        if len(data) > MAX_ENTRY_BYTES:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self._prefix + sha256, data, ex=TTL_SECONDS)
        except _REDIS_ERRORS as exc:
            self._failed("write", exc)
