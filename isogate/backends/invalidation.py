"""Cross-replica cache invalidation over Redis pub/sub.

A replica that revokes or renews a key, or deploys, rolls back or deletes a function,
drops its own cached copy at once and publishes ``{"r": replica, "k": kind, "i": id}`` on
``{prefix}invalidate``; every other replica drops its copy when the message arrives
(milliseconds). Publishing happens in a background task (handlers stay synchronous), with
retries for up to :data:`GIVE_UP_SECONDS`.

Pub/sub loses what is sent while a subscriber is disconnected, so whenever the subscriber
(re)connects it clears every local cache it feeds (``on_reset``). While it is disconnected,
the local caches' short TTLs bound how stale they can be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)

#: An invalidation that could not be published for this long is dropped (TTLs take over).
GIVE_UP_SECONDS = 10.0


@dataclass(slots=True)
class _Message:
    queued: float
    kind: str
    ident: str
    before: Callable[[], Awaitable[None]] | None


class InvalidationBus:
    """Publish local changes; apply other replicas' changes through registered handlers."""

    def __init__(
        self,
        client: Any,
        sub_client: Any,
        channel: str,
        timeout: float,
        on_redis_failure: Callable[[], None] | None = None,
    ) -> None:
        self.replica = secrets.token_hex(8)
        self._redis = client
        self._sub_redis = sub_client
        self._channel = channel
        self._timeout = timeout
        self._on_failure = on_redis_failure or (lambda: None)
        self._handlers: dict[str, Callable[[str], None]] = {}
        self._resets: list[Callable[[], None]] = []
        self._queue: asyncio.Queue[_Message] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()
        self.received = 0

    def on(self, kind: str, handler: Callable[[str], None]) -> None:
        """Call ``handler(ident)`` for each ``kind`` message from another replica."""
        self._handlers[kind] = handler

    def on_reset(self, handler: Callable[[], None]) -> None:
        """Call ``handler()`` whenever messages may have been missed (each (re)subscribe)."""
        self._resets.append(handler)

    def publish(
        self, kind: str, ident: str, before: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Tell the other replicas (``before`` runs first, e.g. to drop a shared entry)."""
        self._queue.put_nowait(_Message(time.monotonic(), kind, ident, before))

    async def start(self) -> None:
        """Start publishing and listening; waits briefly for the subscription, not longer."""
        self._tasks = [
            asyncio.create_task(self._publisher(), name="isogate-invalidation-pub"),
            asyncio.create_task(self._subscriber(), name="isogate-invalidation-sub"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(1.0, self._timeout * 4)):
                await self.subscribed.wait()

    async def close(self) -> None:
        """Send what is queued (for a moment), then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while not self._queue.empty():
                    await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _publisher(self) -> None:
        while True:
            msg = await self._queue.get()
            payload = json.dumps({"r": self.replica, "k": msg.kind, "i": msg.ident})
            while True:
                try:
                    async with asyncio.timeout(self._timeout):
                        if msg.before is not None:
                            await msg.before()
                        await self._redis.publish(self._channel, payload)
                    break
                except _REDIS_ERRORS as exc:
                    self._on_failure()
                    if time.monotonic() - msg.queued > GIVE_UP_SECONDS:
                        log.warning(
                            "could not tell other replicas that %s %s changed (%s); their "
                            "caches expire by themselves",
                            msg.kind,
                            msg.ident,
                            exc,
                        )
                        break
                    await asyncio.sleep(0.2)

    async def _subscriber(self) -> None:
        down_since: float | None = None
        while True:
            pubsub = self._sub_redis.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(max(1.0, self._timeout * 4)):
                    await pubsub.subscribe(self._channel)
                self._reset()
                self.subscribed.set()
                if down_since is not None:
                    log.warning(
                        "Redis reachable again: cross-replica invalidation resumed "
                        "(local caches cleared)"
                    )
                    down_since = None
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.subscribed.clear()
                self._on_failure()
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning(
                        "cross-replica invalidation lost its Redis subscription (%s); retrying",
                        exc,
                    )
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await pubsub.aclose()

    def _reset(self) -> None:
        for handler in self._resets:
            try:
                handler()
            except Exception:
                log.exception("clearing a local cache failed")

    def _dispatch(self, data: Any) -> None:
        try:
            msg = json.loads(data)
            replica, kind, ident = msg["r"], msg["k"], msg["i"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed invalidation message")
            return
        if replica == self.replica:
            return
        self.received += 1
        handler = self._handlers.get(kind)
        if handler is None:
            return
        try:
            handler(str(ident))
        except Exception:
            log.exception("applying an invalidation of %s %s failed", kind, ident)
