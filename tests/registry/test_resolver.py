"""FunctionResolver's caching logic over a fake store that counts and holds its reads
(the SQL store is tested against real databases in test_registry.py)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from isogate.registry.errors import FunctionNotFound, StoreUnavailable
from isogate.registry.models import Function, Version
from isogate.registry.resolver import FunctionResolver


def function(version: int) -> Function:
    ver = Version("hello", version, "ab" * 32, 10, {}, None, (), False, 0.0)
    return Function("hello", "t", version, version, 0.0, 0.0, ver)


class HeldStore:
    """Knows ``hello`` and ``f0``..``f999``; answers once the test opens the gate."""

    def __init__(self) -> None:
        self.current = function(1)
        self.calls = 0
        self.batches: list[int] = []
        self.gate = asyncio.Event()

    async def get_many(self, names: list[str]) -> dict[str, Function]:
        self.calls += 1
        self.batches.append(len(names))
        fn = self.current  # read now, as a database would
        await self.gate.wait()
        return {
            n: dataclasses.replace(fn, name=n)
            for n in names
            if n == "hello" or (n.startswith("f") and n[1:].isdigit())
        }


async def test_concurrent_misses_share_one_read() -> None:
    store = HeldStore()
    resolver = FunctionResolver(store, ttl_seconds=60)  # type: ignore[arg-type]
    waiters = [asyncio.create_task(resolver.resolve("hello")) for _ in range(64)]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert {fn.current_version for fn in await asyncio.gather(*waiters)} == {1}
    assert store.calls == 1


async def test_a_burst_of_distinct_functions_is_resolved_in_batches() -> None:
    store = HeldStore()
    resolver = FunctionResolver(store, ttl_seconds=60)  # type: ignore[arg-type]
    names = [f"f{i}" for i in range(200)] + ["nope"]
    waiters = [asyncio.create_task(resolver.resolve(n)) for n in names]
    await asyncio.sleep(0.01)
    store.gate.set()
    got = await asyncio.gather(*waiters, return_exceptions=True)
    assert [fn.name for fn in got[:200]] == names[:200]  # type: ignore[union-attr]
    assert isinstance(got[200], FunctionNotFound)
    assert store.batches == [201]  # one query for the whole burst
    await resolver.resolve("f7")  # and every answer is cached, the miss too
    with pytest.raises(FunctionNotFound):
        await resolver.resolve("nope")
    assert store.calls == 1


async def test_a_failed_batch_fails_its_waiters_and_the_next_one_retries() -> None:
    store = HeldStore()
    store.gate.set()
    resolver = FunctionResolver(store, ttl_seconds=60)  # type: ignore[arg-type]
    real = store.get_many

    async def down(names: list[str]) -> dict[str, Function]:
        raise StoreUnavailable("metadata store timed out")

    store.get_many = down  # type: ignore[method-assign]
    results = await asyncio.gather(
        *(resolver.resolve(n) for n in ("f1", "f2")), return_exceptions=True
    )
    assert all(isinstance(r, StoreUnavailable) for r in results)
    store.get_many = real  # type: ignore[method-assign]
    assert (await resolver.resolve("f1")).name == "f1"


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
