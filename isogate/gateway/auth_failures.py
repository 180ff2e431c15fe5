"""Per-client-address limit on failed authentication (password, login token, API key).

An ASGI middleware counts every 401 the gateway itself answers to a request that presented
a credential (``Authorization``, ``X-API-Key``, or a login at ``POST /v1/auth/token``)
against the client address (a function's own 401 responses are not counted), in fixed
windows of ``auth_failure_window_seconds``. Once an address has
``auth_failure_limit`` failures in the current window, its requests that present a
credential are answered ``429`` (problem ``auth-rate-limited``, ``Retry-After``) without
being checked, until the window ends; requests without credentials (public functions,
health checks) pass. Counters live in process, or in Redis (shared by every replica) when
``redis_url`` is set, falling back to the process when Redis does not answer. With Redis, a
replica learns that an address is blocked from the shared count its own failures return
(no Redis read before each request), so across N replicas an address gets at most N - 1
more tries than the limit in a window.

The address is the TCP peer (``scope["client"]``): behind a reverse proxy every client
shares the proxy's address, so raise the limit or set it to 0 (off) there.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isogate.config import Settings
from isogate.gateway.errors import AuthRateLimited
from isogate.gateway.problems import Problem

if TYPE_CHECKING:
    # only for the annotation: importing redis loads redis.asyncio, which the embedded
    # default (no Redis) never needs, and on Python < 3.11.3 that needs async_timeout
    from redis.commands.core import AsyncScript

log = logging.getLogger(__name__)

#: Scope key the data plane sets when the response is the function's own: its 401s are
#: the function's business, not a failed gateway credential, and are never counted
#: (else a public function answering 401 locked its callers out of every other tenant).
FUNCTION_ANSWERED = "isogate.function_answered"

#: Addresses tracked in process at most (oldest windows dropped beyond it).
MAX_TRACKED = 100_000

_REDIS_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""


class AuthFailures:
    """Fixed-window failure counters per address (in process, optionally Redis)."""

    def __init__(
        self,
        limit: int,
        window_seconds: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        redis: Any = None,
        prefix: str = "isogate:",
        redis_timeout: float = 0.5,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._local: dict[str, tuple[float, int]] = {}  # address -> (window start, failures)
        self._redis = redis
        self._prefix = prefix + "authfail:"
        self._timeout = redis_timeout
        self._script: AsyncScript | None = (
            redis.register_script(_REDIS_SCRIPT) if redis is not None else None
        )
        self._redis_down_until = 0.0
        # With Redis, blocks are learnt from the shared counter's answer to a failure and
        # kept here until the window ends: checking Redis before every request that
        # presents a credential cost a round trip per request (measured: ~90 µs of the
        # event loop). Another replica learns of the block at its own next failure for
        # that address, so an address gets at most one more try per replica.
        self._blocked: dict[str, float] = {}  # address -> blocked until (clock)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def attach_redis(self, client: Any, prefix: str, timeout: float) -> None:
        """Share the counters through Redis from now on."""
        self._redis = client
        self._prefix = prefix + "authfail:"
        self._timeout = timeout
        self._script = client.register_script(_REDIS_SCRIPT)

    def _local_state(self, address: str) -> tuple[float, int]:
        now = self._clock()
        start, count = self._local.get(address, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        return start, count

    def _use_redis(self) -> bool:
        return self._script is not None and self._clock() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if self._clock() >= self._redis_down_until:
            log.warning("auth failure limiter: Redis unreachable (%s); counting in process", exc)
        self._redis_down_until = self._clock() + 1.0

    async def blocked_for(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or ``None`` if it may now."""
        if not self.enabled:
            return None
        if self._blocked:
            until = self._blocked.get(address)
            if until is not None:
                left = until - self._clock()
                if left > 0:
                    return max(1, math.ceil(left))
                del self._blocked[address]
        if self._script is not None and not self._local:
            return None  # shared counting: nothing counted here (Redis was up)
        start, count = self._local_state(address)
        if count >= self.limit:
            return max(1, math.ceil(start + self.window - self._clock()))
        return None

    async def failed(self, address: str) -> None:
        """Count one failure of ``address``."""
        if not self.enabled:
            return
        script = self._script
        if script is not None and self._use_redis():
            try:
                async with asyncio.timeout(self._timeout):
                    count, ttl = await script(keys=[self._prefix + address], args=[self.window])
                if int(count) >= self.limit:
                    if address not in self._blocked and len(self._blocked) >= MAX_TRACKED:
                        self._blocked.clear()  # all would be forgotten by their windows
                    self._blocked[address] = self._clock() + max(1, int(ttl))
                return
            except Exception as exc:
                self._redis_failed(exc)
        start, count = self._local_state(address)
        if address not in self._local and len(self._local) >= MAX_TRACKED:
            self._evict()
        self._local[address] = (start, count + 1)

    def _evict(self) -> None:
        now = self._clock()
        for addr in [a for a, (s, _) in self._local.items() if now - s >= self.window]:
            del self._local[addr]
        while len(self._local) >= MAX_TRACKED:  # all live: drop the oldest windows
            del self._local[next(iter(self._local))]


#: Paths where every attempt, not only a failed one, counts (``auth_attempt_limit``):
#: each costs an Argon2 hash, so a flood of them is the attack whatever their outcome.
ATTEMPT_PATHS = frozenset({"/v1/tenants", "/v1/auth/token"})


def _presents_credentials(scope: Scope) -> bool:
    if scope["path"] == "/v1/auth/token":
        return True
    return any(k in (b"authorization", b"x-api-key") for k, _ in scope["headers"])


def rate_limited(
    retry_after: int,
    detail: str = "too many failed authentication attempts from this address; try again later",
) -> Problem:
    """The 429 problem of an address with too many failed (or, at registration and
    login, too many) attempts."""
    return AuthRateLimited(detail, {"Retry-After": str(retry_after)})


class AuthFailureLimit:
    """ASGI middleware around the app: refuse blocked addresses, count 401s."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.failures = AuthFailures(
            settings.auth_failure_limit, settings.auth_failure_window_seconds
        )
        # registrations and logins per address: the same fixed-window counter, fed by
        # every attempt (in process: a replica's own hashing is what it protects)
        self.attempts = AuthFailures(
            settings.auth_attempt_limit, settings.auth_failure_window_seconds
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.attempts.enabled
            and scope["method"] == "POST"
            and scope["path"] in ATTEMPT_PATHS
        ):
            client = scope.get("client")
            address = client[0] if client else "unknown"
            wait = await self.attempts.blocked_for(address)
            if wait is not None:
                detail = "too many registrations or logins from this address; try again later"
                await rate_limited(wait, detail).response()(scope, receive, send)
                return
            await self.attempts.failed(address)
        if scope["type"] != "http" or not self.failures.enabled or not _presents_credentials(scope):
            await self.app(scope, receive, send)
            return
        self._maybe_attach_redis(scope)
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = await self.failures.blocked_for(address)
        if wait is not None:
            await rate_limited(wait).response()(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            # Counted before the 401 goes out: a client that sends its next attempt as
            # soon as it reads this answer must already find the failure counted (in
            # Redis too), or one attempt slips past the limit.
            if (
                message["type"] == "http.response.start"
                and message["status"] == 401
                and not scope.get(FUNCTION_ANSWERED)
            ):
                await self.failures.failed(address)
            await send(message)

        await self.app(scope, receive, watch)

    def _maybe_attach_redis(self, scope: Scope) -> None:
        if self.failures._script is not None:
            return
        app = scope.get("app")
        svc = getattr(getattr(app, "state", None), "services", None)
        backend = getattr(svc, "redis", None)
        if backend is not None:
            settings = backend.settings
            self.failures.attach_redis(
                backend.client, settings.redis_prefix, settings.redis_timeout_seconds
            )
