"""KeyVerifier's concurrency logic, over a fake store that counts and holds its queries
(the SQL stores themselves are tested against real databases in test_stores.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from isogate.quota.errors import KeyRevoked
from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.leases import KeyVerifier
from isogate.quota.models import ApiKey, KeyPolicy, RateLimit

SECRET = "isg_" + "x" * 43
LEASE = ApiKey(
    id="key_1",
    tenant="t",
    name="k",
    prefix=SECRET[:8],
    created_at=time.time(),
    expires_at=time.time() + 3600,
    revoked_at=None,
    functions=("*",),
    policy=KeyPolicy(rate=RateLimit(10, 60, 10)),
)


class HeldStore:
    """``find`` answers the current lease, but only once the test opens the gate."""

    def __init__(self) -> None:
        self.lease = LEASE
        self.calls = 0
        self.gate = asyncio.Event()

    async def find(self, secret: str) -> ApiKey | None:
        self.calls += 1
        lease = self.lease  # read now, as a database would
        await self.gate.wait()
        return lease


async def test_concurrent_misses_share_one_query() -> None:
    store = HeldStore()
    verifier = KeyVerifier(store, InMemoryKeyCache(60))  # type: ignore[arg-type]
    waiters = [asyncio.create_task(verifier.lookup(SECRET)) for _ in range(50)]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert {k.id for k in await asyncio.gather(*waiters)} == {"key_1"}
    assert store.calls == 1
    await verifier.lookup(SECRET)  # cached now
    assert store.calls == 1


async def test_a_caller_going_away_does_not_cancel_the_others() -> None:
    store = HeldStore()
    verifier = KeyVerifier(store, InMemoryKeyCache(60))  # type: ignore[arg-type]
    first = asyncio.create_task(verifier.lookup(SECRET))
    second = asyncio.create_task(verifier.lookup(SECRET))
    await asyncio.sleep(0.01)
    first.cancel()
    store.gate.set()
    assert (await second).id == "key_1"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_lookup_begun_before_a_revocation_is_neither_joined_nor_cached() -> None:
    store = HeldStore()
    verifier = KeyVerifier(store, InMemoryKeyCache(60))  # type: ignore[arg-type]
    stale = asyncio.create_task(verifier.lookup(SECRET))  # reads the active lease
    await asyncio.sleep(0.01)
    store.lease = dataclasses.replace(LEASE, revoked_at=time.time())
    verifier.invalidate("key_1")
    fresh = asyncio.create_task(verifier.lookup(SECRET))  # must not join the stale read
    await asyncio.sleep(0.01)
    store.gate.set()
    assert (await stale).revoked_at is None  # it began before: it may answer the old state
    assert (await fresh).revoked_at is not None
    assert store.calls == 2
    with pytest.raises(KeyRevoked):  # and what is cached is the revoked lease
        await verifier.verify(SECRET, "fn")
    assert store.calls == 2
