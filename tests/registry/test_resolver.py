"""FunctionResolver's caching logic over a fake store that counts and holds its reads
(the SQL store is tested against real databases in test_registry.py)."""

from __future__ import annotations

import asyncio
import dataclasses

from isogate.registry.models import Function, Version
from isogate.registry.resolver import FunctionResolver


def function(version: int) -> Function:
    ver = Version("hello", version, "ab" * 32, 10, {}, None, (), False, 0.0)
    return Function("hello", "t", version, version, 0.0, 0.0, ver)


class HeldStore:
    def __init__(self) -> None:
        self.current = function(1)
        self.calls = 0
        self.gate = asyncio.Event()

    async def get(self, tenant: str | None, name: str) -> Function:
        self.calls += 1
        fn = self.current  # read now, as a database would
        await self.gate.wait()
        return fn


async def test_concurrent_misses_share_one_read() -> None:
    store = HeldStore()
    resolver = FunctionResolver(store, ttl_seconds=60)  # type: ignore[arg-type]
    waiters = [asyncio.create_task(resolver.resolve("hello")) for _ in range(64)]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert {fn.current_version for fn in await asyncio.gather(*waiters)} == {1}
    assert store.calls == 1


async def test_expiry_under_load_costs_one_read() -> None:
    now = [0.0]
    store = HeldStore()
    store.gate.set()
    resolver = FunctionResolver(store, ttl_seconds=2, clock=lambda: now[0])  # type: ignore[arg-type]
    await resolver.resolve("hello")
    now[0] = 2.5  # expired: everyone in flight misses at once
    await asyncio.gather(*(resolver.resolve("hello") for _ in range(64)))
    assert store.calls == 2


async def test_a_read_begun_before_a_deploy_is_not_joined() -> None:
    store = HeldStore()
    resolver = FunctionResolver(store, ttl_seconds=60)  # type: ignore[arg-type]
    stale = asyncio.create_task(resolver.resolve("hello"))
    await asyncio.sleep(0.01)
    store.current = dataclasses.replace(function(2))
    resolver.invalidate("hello")  # what the deploy endpoint does
    fresh = asyncio.create_task(resolver.resolve("hello"))
    await asyncio.sleep(0.01)
    store.gate.set()
    assert (await stale).current_version == 1
    assert (await fresh).current_version == 2
    assert (await resolver.resolve("hello")).current_version == 2  # and 2 is what is cached
    assert store.calls == 2
