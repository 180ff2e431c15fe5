"""The per-replica secrets cache: concurrent misses share one read (of one function or of
many), a write meanwhile is never hidden by a read that started before it, and one
function's unreadable secrets fail only its own calls. The logic runs over a counting
store; the batched read itself over the real SQL store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.registry.blobs import LocalBlobStore
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.route_claims import RoutePolicy
from isogate.state.crypto import Keyring, new_key_entry, parse_keyring
from isogate.state.secrets import (
    FunctionSecrets,
    SecretCache,
    SecretsUnavailable,
    SqlSecretStore,
)


class SlowStore:
    """Answers after the test lets it, counting reads; the answer names the read.
    Secrets of a function named ``broken`` cannot be opened."""

    def __init__(self) -> None:
        self.reads = 0
        self.batches: list[int] = []
        self.gate = asyncio.Event()

    async def load_many(
        self, wanted: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], FunctionSecrets | SecretsUnavailable]:
        self.reads += 1
        self.batches.append(len(wanted))
        n = self.reads
        await self.gate.wait()
        return {
            (f, t): SecretsUnavailable("no key")
            if f == "broken"
            else FunctionSecrets(t, f"rev{n}", ())
            for f, t in wanted
        }


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


async def test_a_burst_of_distinct_functions_is_one_read() -> None:
    store = SlowStore()
    cache = SecretCache(store, ttl=60.0)  # type: ignore[arg-type]
    names = [f"f{i}" for i in range(200)]
    calls = [asyncio.create_task(cache.get(n, "t", 1.0)) for n in names]
    await asyncio.sleep(0)
    store.gate.set()
    got = await asyncio.gather(*calls)
    assert store.batches == [200] and {s.revision for s in got} == {"rev1"}


async def test_unreadable_secrets_fail_only_their_own_function() -> None:
    store = SlowStore()
    cache = SecretCache(store, ttl=60.0)  # type: ignore[arg-type]
    calls = [asyncio.create_task(cache.get(n, "t", 1.0)) for n in ("ok", "broken", "ok2")]
    await asyncio.sleep(0)
    store.gate.set()
    ok, broken, ok2 = await asyncio.gather(*calls, return_exceptions=True)
    assert store.batches == [3]
    assert isinstance(broken, SecretsUnavailable)
    assert isinstance(ok, FunctionSecrets) and isinstance(ok2, FunctionSecrets)
    with pytest.raises(SecretsUnavailable):  # not cached: asked again, read again
        await cache.get("broken", "t", 1.0)
    assert store.reads == 2


async def test_load_many_reads_each_function_for_its_owner_only(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    functions = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5, RoutePolicy())
    for tenant, name in (("alice", "a1"), ("alice", "a2"), ("bob", "b1")):
        await functions.deploy(tenant, name, b"x", {}, None, [], False)
    store = SqlSecretStore(engine, 5.0, Keyring(parse_keyring(new_key_entry())), 1024, 64)
    await store.put("alice", "a1", "TOKEN", "one")
    await store.put("alice", "a1", "API", "two")
    await store.put("bob", "b1", "TOKEN", "bobs")
    got = await store.load_many([("a1", "alice"), ("a2", "alice"), ("b1", "bob"), ("b1", "alice")])
    a1 = got["a1", "alice"]
    assert isinstance(a1, FunctionSecrets)
    assert a1.values == (("API", "two"), ("TOKEN", "one")) and a1.revision
    assert got["a2", "alice"] == FunctionSecrets("alice", "", ())
    b1 = got["b1", "bob"]
    assert isinstance(b1, FunctionSecrets) and b1.values == (("TOKEN", "bobs"),)
    # asked as another tenant (a name deleted and deployed again): none of bob's rows
    assert got["b1", "alice"] == FunctionSecrets("alice", "", ())
    # a key that cannot open bob's rows fails bob's function only
    store.keyring = Keyring(parse_keyring(new_key_entry()))
    await store.put("alice", "a2", "NEW", "fresh")
    got = await store.load_many([("b1", "bob"), ("a2", "alice")])
    assert isinstance(got["b1", "bob"], SecretsUnavailable)
    a2 = got["a2", "alice"]
    assert isinstance(a2, FunctionSecrets) and a2.values == (("NEW", "fresh"),)
