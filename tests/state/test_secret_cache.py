"""The per-replica secrets cache (logic above the SQL store, with a counting store):
concurrent misses share one read, and a write meanwhile is never hidden by a read that
started before it."""

from __future__ import annotations

import asyncio

from isogate.state.secrets import FunctionSecrets, SecretCache


class SlowStore:
    """Answers after the test lets it, counting reads; the answer names the read."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = asyncio.Event()

    async def load(self, function: str, tenant: str) -> FunctionSecrets:
        self.reads += 1
        n = self.reads
        await self.gate.wait()
        return FunctionSecrets(tenant, f"rev{n}", ())


async def test_concurrent_misses_share_one_read() -> None:
    store = SlowStore()
    cache = SecretCache(store, ttl=60.0)  # type: ignore[arg-type]
    calls = [asyncio.create_task(cache.get("f", "t", 1.0)) for _ in range(50)]
    await asyncio.sleep(0)
    store.gate.set()
    got = await asyncio.gather(*calls)
    assert store.reads == 1 and {s.revision for s in got} == {"rev1"}
    assert (await cache.get("f", "t", 1.0)).revision == "rev1"  # kept
    assert store.reads == 1


async def test_a_write_meanwhile_starts_a_new_read() -> None:
    store = SlowStore()
    cache = SecretCache(store, ttl=60.0)  # type: ignore[arg-type]
    before = asyncio.create_task(cache.get("f", "t", 1.0))
    await asyncio.sleep(0)
    cache.forget("f")  # a secret written while the first read is in flight
    after = asyncio.create_task(cache.get("f", "t", 1.0))
    await asyncio.sleep(0)
    store.gate.set()
    assert (await before).revision == "rev1"
    assert (await after).revision == "rev2"  # its own read, not the older one
    assert store.reads == 2
