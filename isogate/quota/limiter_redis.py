"""Rate limits, period quotas and remaining uses shared by every replica: one Lua script.

Same semantics as :class:`~isogate.quota.limiter.InMemoryLimiter` (GCRA with burst, calendar
period quota, remaining uses; a rejected request consumes nothing), but the state of a key
lives in one Redis hash and each request is ONE atomic ``EVALSHA`` (check-and-count), so N
replicas together admit exactly what one would. Time comes from Redis (``TIME``), so the
replicas' clocks do not matter for the rate limit; the calendar period bounds are computed
by the caller from its own clock.

Usage counters (uses, period count) are authoritative in Redis and written behind to the
metadata database every second (they seed Redis again if it lost its data). Rate-limit
buckets live only in Redis.

Redis down: every call has a deadline; after a failure Redis is not tried again for
``retry_interval`` seconds (no pile-up of timeouts), then it is, so service recovers by
itself. ``failure_mode="closed"`` answers :class:`LimiterUnavailable` (a 503 problem);
``"open"`` admits through the local ``fallback`` limiter (per replica) and counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Literal

from redis.exceptions import RedisError

from isogate.periodic import Periodic
from isogate.quota.errors import Rejected, StoreUnavailable
from isogate.quota.limiter import Limiter, period_bounds
from isogate.quota.models import Decision, KeyPolicy, Usage
from isogate.quota.usage import UsageStore
from isogate.singleflight import SingleFlight

log = logging.getLogger(__name__)

US = 1_000_000

#: KEYS[1] the key's hash. ARGV: now_us (-1: Redis TIME), interval_us, burst, uses limit
#: (-1: none), quota limit (-1: none), quota period start (s), commit (1/0), seed uses,
#: seed period start, seed period count ("" if not loaded yet), idle ttl of usage (ms).
#: Returns {status, reason, now_us, tat_us, period count, uses}; status -1: seed needed,
#: 0: refused (or peek), 1: admitted and counted.
LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local uses_limit = tonumber(ARGV[4])
local q_limit = tonumber(ARGV[5])
local q_start = tonumber(ARGV[6])
local commit = ARGV[7] == '1'
local usage_ttl = tonumber(ARGV[11])
local needs_usage = uses_limit >= 0 or q_limit >= 0
local st = redis.call('HMGET', key, 'tat', 'uses', 'pstart', 'pcount', 'seeded')
local tat = tonumber(st[1]) or 0
local uses = tonumber(st[2]) or 0
local pstart = tonumber(st[3]) or 0
local pcount = tonumber(st[4]) or 0
if needs_usage and not st[5] then
  if ARGV[8] == '' then
    return {-1, '', now, 0, 0, 0}
  end
  uses = tonumber(ARGV[8])
  pstart = tonumber(ARGV[9])
  pcount = tonumber(ARGV[10])
  redis.call('HSET', key, 'uses', string.format('%.0f', uses),
    'pstart', string.format('%.0f', pstart), 'pcount', string.format('%.0f', pcount),
    'seeded', '1')
  redis.call('PEXPIRE', key, usage_ttl)
end
local q_count = 0
if q_limit >= 0 and pstart == q_start then
  q_count = pcount
end
local t = math.max(tat, now)
local new_tat = t + interval
local reason = ''
if uses_limit >= 0 and uses >= uses_limit then
  reason = 'uses'
elseif q_limit >= 0 and q_count >= q_limit then
  reason = 'quota'
elseif now < new_tat - interval * burst then
  reason = 'rate_limit'
end
if reason ~= '' or not commit then
  return {0, reason, now, t, q_count, uses}
end
redis.call('HSET', key, 'tat', string.format('%.0f', new_tat))
if needs_usage then
  uses = uses + 1
  if q_limit >= 0 then
    q_count = q_count + 1
    redis.call('HSET', key, 'uses', string.format('%.0f', uses),
      'pstart', string.format('%.0f', q_start), 'pcount', string.format('%.0f', q_count))
  else
    redis.call('HSET', key, 'uses', string.format('%.0f', uses))
  end
  redis.call('PEXPIRE', key, usage_ttl)
else
  redis.call('PEXPIRE', key, math.floor((new_tat - now) / 1000) + 1000)
end
return {1, '', now, new_tat, q_count, uses}
"""

#: Idle time after which a key's usage leaves Redis (it is re-seeded from the database).
USAGE_TTL_MS = 2 * 86400 * 1000

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)


class LimiterUnavailable(StoreUnavailable):
    """Redis (the shared rate-limit and quota store) cannot be reached: fail closed."""


class _Down(Exception):
    pass


def interval_us(requests: int, per_seconds: int) -> int:
    """Emission interval in microseconds (what one request costs)."""
    return max(1, per_seconds * US // requests)


def decision_from(
    policy: KeyPolicy,
    now_us: int,
    tat_us: int,
    q_used: int,
    uses_used: int,
    q_bounds: tuple[float, float],
) -> Decision:
    """The RateLimit snapshot for a key whose theoretical arrival time is ``tat_us``."""
    rate = policy.rate
    t_us = interval_us(rate.requests, rate.per_seconds)
    q = policy.quota
    now = now_us / US
    q_start, q_end = q_bounds
    return Decision(
        limit=rate.burst,
        remaining=max(0, (now_us + t_us * rate.burst - tat_us) // t_us),
        reset_seconds=max(0, math.ceil((tat_us - now_us) / US)),
        window_seconds=rate.per_seconds,
        quota_limit=q.invocations if q else None,
        quota_remaining=max(0, q.invocations - q_used) if q else None,
        quota_reset_seconds=max(1, math.ceil(q_end - now)) if q else None,
        quota_window_seconds=round(q_end - q_start) if q else None,
        uses_remaining=max(0, policy.uses - uses_used) if policy.uses is not None else None,
    )


class RedisLimiter:
    """The shared limiter. ``clock`` (epoch seconds) replaces Redis time in tests."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        fallback: Limiter,
        usage_store: UsageStore | None = None,
        failure_mode: Literal["open", "closed"] = "open",
        timeout: float = 0.5,
        retry_interval: float = 1.0,
        flush_interval: float = 1.0,
        clock: Callable[[], float] | None = None,
        on_redis_failure: Callable[[], None] | None = None,
        on_fail_open: Callable[[], None] | None = None,
    ) -> None:
        self._redis = client
        self._prefix = prefix + "rl:"
        self._fallback = fallback
        self._store = usage_store
        self._mode = failure_mode
        self._timeout = timeout
        self._retry_interval = retry_interval
        self._clock = clock
        self._on_failure = on_redis_failure or (lambda: None)
        self._on_fail_open = on_fail_open or (lambda: None)
        self._script = client.register_script(LUA)
        self._down_until = 0.0
        self._down = False
        self._seeds: SingleFlight[str, None] = SingleFlight()
        self._seeds_landed = 0  # seed flights finished (any key): see _decide
        self._dirty: set[str] = set()
        self._flusher = Periodic(
            self.flush,
            flush_interval,
            name="isogate-usage-flush-redis",
            log=log,
            failure="writing key usage failed; will retry",
            quiet=_REDIS_ERRORS,  # Redis down: counters stay there (or are seeded again)
        )

    @property
    def redis_ok(self) -> bool:
        """False while Redis is considered down (after a failed call)."""
        return not self._down

    async def start(self) -> None:
        """Start the write-behind of usage counters (only with a usage store)."""
        await self._fallback.start()
        if self._store is not None:
            self._flusher.start()

    async def close(self) -> None:
        """Stop the flusher and write pending counters (best effort if Redis is down)."""
        await self._flusher.stop()
        try:
            await self.flush()
        except Exception:
            log.warning("could not write key usage at shutdown", exc_info=True)
        await self._fallback.close()

    async def acquire(self, key_id: str, policy: KeyPolicy) -> Decision:
        """Admit and count everywhere, or raise :class:`Rejected` having counted nothing."""
        try:
            return await self._decide(key_id, policy, commit=True)
        except _Down:
            if self._mode == "closed":
                raise LimiterUnavailable(
                    "the shared rate-limit and quota store (Redis) is unreachable; "
                    "try again shortly"
                ) from None
            self._on_fail_open()
            return await self._fallback.acquire(key_id, policy)

    async def peek(self, key_id: str, policy: KeyPolicy) -> Decision:
        """What is left, counting nothing (never fails: local figures if Redis is down)."""
        try:
            return await self._decide(key_id, policy, commit=False)
        except _Down:
            return await self._fallback.peek(key_id, policy)

    # --- internals

    def _now(self) -> tuple[float, int]:
        """(epoch seconds for the period bounds, now_us argument: -1 = Redis TIME)."""
        if self._clock is None:
            return time.time(), -1
        now = self._clock()
        return now, round(now * US)

    async def _call(self, keys: list[str], args: list[Any]) -> Any:
        if self._down and time.monotonic() < self._down_until:
            raise _Down
        try:
            async with asyncio.timeout(self._timeout):
                result = await self._script(keys=keys, args=args)
        except _REDIS_ERRORS as exc:
            self._down_until = time.monotonic() + self._retry_interval
            self._on_failure()
            with contextlib.suppress(Exception):  # drop connections a restart made stale
                await self._redis.connection_pool.disconnect(inuse_connections=False)
            if not self._down:
                log.warning(
                    "Redis unreachable for rate limits and quotas (%s: %s); failing %s",
                    type(exc).__name__,
                    exc,
                    self._mode,
                )
            self._down = True
            raise _Down from exc
        if self._down:
            log.warning("Redis reachable again: shared rate limits and quotas resumed")
            self._down = False
        return result

    async def _decide(self, key_id: str, policy: KeyPolicy, *, commit: bool) -> Decision:
        now_s, now_arg = self._now()
        q = policy.quota
        bounds = period_bounds(q.period, now_s) if q is not None else (0.0, 0.0)
        rate = policy.rate
        key = self._prefix + key_id
        args: list[Any] = [
            now_arg,
            interval_us(rate.requests, rate.per_seconds),
            rate.burst,
            policy.uses if policy.uses is not None else -1,
            q.invocations if q is not None else -1,
            int(bounds[0]),
            1 if commit else 0,
            *self._seed_args(None),
            USAGE_TTL_MS,
        ]
        landed = self._seeds_landed
        status, reason, now_us, tat_us, q_used, uses = await self._call([key], args)
        if status == -1 and not self._seeds.joined(key_id) and self._seeds_landed != landed:
            # A seed may have been written since Redis answered "not seeded": under load
            # the answers of a key's first concurrent requests arrive spread out, long
            # after its seed flight ended. Ask again before reading the database again.
            status, reason, now_us, tat_us, q_used, uses = await self._call([key], args)
        if status == -1:  # usage not in Redis (yet, or lost again): seed it, then ask again
            await self._seed(key_id, args)
            status, reason, now_us, tat_us, q_used, uses = await self._call([key], args)
        if isinstance(reason, bytes):
            reason = reason.decode()
        current = decision_from(policy, now_us, tat_us, q_used, uses, bounds)
        if status == 1:
            if policy.uses is not None or q is not None:
                self._dirty.add(key_id)
            return current
        if not reason:
            return current  # a peek of an admissible state
        if not commit:
            return current
        if reason == "uses":
            raise Rejected("uses", "this key has no uses left", None, current)
        if reason == "quota":
            assert q is not None
            retry = max(1, math.ceil(bounds[1] - now_us / US))
            raise Rejected("quota", f"the {q.period}ly quota is exhausted", retry, current)
        t_us = interval_us(rate.requests, rate.per_seconds)
        allow_at = tat_us + t_us - t_us * rate.burst
        retry = max(1, math.ceil((allow_at - now_us) / US))
        raise Rejected("rate_limit", "rate limit exceeded", retry, current)

    def _seed_args(self, usage: Usage | None) -> list[str]:
        if usage is None:
            if self._store is None:
                return ["0", "0", "0"]
            return ["", "", ""]
        return [str(usage.uses), str(int(usage.period_start)), str(usage.period_count)]

    async def _seed(self, key_id: str, args: list[Any]) -> None:
        """Write the stored usage of ``key_id`` into Redis (if not there yet), once.

        One database read however many requests wait for it, and the flight ends only
        once Redis holds the seed: a request that saw "not seeded" and finds no flight
        in progress may then just ask Redis again. The script keeps an existing seed,
        so a late or repeated seed never overwrites counts made since.
        """
        store = self._store
        assert store is not None
        seed_args = list(args)
        seed_args[6] = 0  # count nothing: only seed

        async def load_and_seed() -> None:
            try:
                usage = await store.load(key_id)
                seed_args[7:10] = self._seed_args(usage)
                await self._call([self._prefix + key_id], seed_args)
            finally:
                self._seeds_landed += 1

        await self._seeds.run(key_id, load_and_seed)

    async def flush(self) -> None:
        """Write the current Redis counters of keys counted here to the database."""
        if self._store is None or not self._dirty:
            return
        dirty = list(self._dirty)
        self._dirty.clear()
        try:
            async with asyncio.timeout(self._timeout * 4):
                pipe = self._redis.pipeline(transaction=False)
                for k in dirty:
                    pipe.hmget(self._prefix + k, "uses", "pstart", "pcount")
                rows = await pipe.execute()
            usage = {
                k: Usage(uses=int(u), period_start=float(p or 0), period_count=int(c or 0))
                for k, (u, p, c) in zip(dirty, rows, strict=True)
                if u is not None
            }
            await self._store.save(usage)
        except BaseException:  # cancelled too: the counts must be written by someone
            self._dirty.update(dirty)  # retry on the next round
            raise

    async def ping(self) -> None:
        """Raise if Redis does not answer within the deadline."""
        async with asyncio.timeout(self._timeout):
            await self._redis.ping()
