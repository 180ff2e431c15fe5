"""Redis, when ``redis_url`` is set: shared limits, key cache, code cache, invalidation.

:func:`attach_redis` takes the embedded :class:`~isogate.gateway.services.Services` and
swaps in the shared parts, keeping the in-process ones as fallbacks:

* ``limiter``: :class:`~isogate.quota.limiter_redis.RedisLimiter` (one Lua script per
  request), falling back to the in-process limiter when Redis is down and
  ``redis_failure_mode`` is ``open`` (the default), or answering 503 when ``closed``;
* ``verifier``: leases through Redis before SQL; revocations and renewals drop them on
  every replica (:mod:`isogate.backends.invalidation`);
* ``resolver``: deploys, rollbacks and deletes drop the function (and route table) on
  every replica, and lift a crash quarantine there too;
* ``code``: sources shared through Redis before the blob store.

Every Redis call has a deadline (``redis_timeout_seconds``) and no client-side retries
beyond one immediate reconnect. Metrics: ``isogate_redis_failures_total{component}``,
``isogate_quota_fail_open_total``, ``isogate_code_loads_total{source}``,
``isogate_redis_up``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from isogate.backends.invalidation import InvalidationBus
from isogate.quota.key_cache_redis import RedisLeaseStore, SharedKeyCache
from isogate.quota.leases import KeyVerifier
from isogate.quota.limiter_redis import RedisLimiter
from isogate.quota.usage import SqlUsageStore
from isogate.registry.code_cache_redis import RedisCodeCache

if TYPE_CHECKING:
    from isogate.gateway.services import Services

log = logging.getLogger(__name__)


def redis_client(url: str, timeout: float, *, pubsub: bool = False) -> Any:
    """A ``redis.asyncio`` client with short socket deadlines and no retry storms."""
    if pubsub:  # long-lived subscription: no read deadline, no silent resubscribe
        return aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            health_check_interval=5,
            retry=Retry(NoBackoff(), 0),
        )
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        socket_keepalive=True,
        retry=Retry(NoBackoff(), 1),  # one immediate retry: a pooled connection gone stale
        max_connections=256,
    )


class RedisBackend:
    """The Redis clients and background tasks of one gateway process."""

    def __init__(self, svc: Services) -> None:
        settings = svc.settings
        self.settings = settings
        url = settings.redis_url
        assert url is not None
        timeout = settings.redis_timeout_seconds
        prefix = settings.redis_prefix
        self.client = redis_client(url, timeout)
        self.sub_client = redis_client(url, timeout, pubsub=True)

        registry = svc.metrics.registry
        failures = Counter(
            "isogate_redis_failures",
            "Redis calls that failed or missed their deadline, by component",
            ["component"],
            registry=registry,
        )
        fail_open = Counter(
            "isogate_quota_fail_open",
            "keyed requests limited in process because Redis was unreachable (fail-open)",
            registry=registry,
        )
        code_loads = Counter(
            "isogate_code_loads",
            "function source loads by where they came from (memory, shared, blob)",
            ["source"],
            registry=registry,
        )
        for component in ("limiter", "key_cache", "code_cache", "invalidation"):
            failures.labels(component)
        for source in ("memory", "shared", "blob"):
            code_loads.labels(source)

        self.limiter = RedisLimiter(
            self.client,
            prefix,
            fallback=svc.limiter,
            usage_store=SqlUsageStore(svc.engine, settings.store_timeout_seconds),
            failure_mode=settings.redis_failure_mode,
            timeout=timeout,
            on_redis_failure=failures.labels("limiter").inc,
            on_fail_open=fail_open.inc,
        )
        self.bus = InvalidationBus(
            self.client,
            self.sub_client,
            prefix + "invalidate",
            timeout,
            on_redis_failure=failures.labels("invalidation").inc,
        )
        leases = RedisLeaseStore(
            svc.keys,
            self.client,
            prefix,
            settings.key_cache_ttl_seconds,
            timeout,
            on_redis_failure=failures.labels("key_cache").inc,
        )
        self.key_cache = SharedKeyCache(
            settings.key_cache_ttl_seconds, max_entries=settings.key_cache_entries
        )
        self.key_cache.on_invalidate = lambda key_id: self.bus.publish(
            "key", key_id, before=lambda: leases.forget(key_id)
        )
        verifier = KeyVerifier(leases, self.key_cache)

        resolver = svc.resolver
        resolver.on_invalidate = lambda name: self.bus.publish("function", name)
        runtime = svc.runtime

        def function_changed(name: str) -> None:
            resolver.forget(name)
            runtime.unquarantine(name)

        self.bus.on("key", self.key_cache.drop)
        self.bus.on("function", function_changed)
        self.bus.on_reset(self.key_cache.clear)
        self.bus.on_reset(resolver.clear)
        secret_cache = svc.secret_cache
        if secret_cache is not None:  # a secret set or deleted: the next call sees it
            secret_cache.on_invalidate = lambda name: self.bus.publish("secrets", name)
            self.bus.on("secrets", secret_cache.forget)
            self.bus.on_reset(secret_cache.clear)

        svc.code.shared = RedisCodeCache(
            self.client, prefix, timeout, on_redis_failure=failures.labels("code_cache").inc
        )
        svc.code.on_load = lambda source: code_loads.labels(source).inc()

        Gauge(
            "isogate_redis_up",
            "1 while the invalidation subscription to Redis is live (it reconnects by itself)",
            registry=registry,
        ).set_function(lambda: float(self.bus.subscribed.is_set()))

        svc.limiter = self.limiter
        svc.verifier = verifier

    async def start(self) -> None:
        await self.limiter.start()
        await self.bus.start()
        try:
            await self.limiter.ping()
        except Exception as exc:
            log.warning(
                "Redis at %s does not answer (%s); starting anyway (failure mode: %s)",
                _safe_url(self.settings.redis_url or ""),
                exc,
                self.settings.redis_failure_mode,
            )

    async def close(self) -> None:
        for closer in (self.bus.close, self.limiter.close):
            try:
                await closer()
            except Exception:
                log.exception("error while closing the Redis backend")
        for client in (self.client, self.sub_client):
            with contextlib.suppress(Exception):
                await client.aclose()


def _safe_url(url: str) -> str:
    """``url`` without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return scheme + sep + rest


async def attach_redis(svc: Services) -> RedisBackend:
    """Swap the shared Redis parts into ``svc`` and start them."""
    backend = RedisBackend(svc)
    await backend.start()
    svc.redis = backend
    return backend
