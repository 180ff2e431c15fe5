"""A version's bindings commit with the version (SQLite and PostgreSQL): a deploy whose
bindings cannot be written stores no version, and the per-replica cache keeps any
answer, empty or not, from the first call after the deploy."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.blobs import LocalBlobStore
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.route_claims import RoutePolicy
from isogate.registry.tables import function_versions
from isogate.state.bindings import Binding, BindingCache, SqlBindingStore


async def test_bindings_commit_with_their_version(engine: AsyncEngine, tmp_path: Path) -> None:
    functions = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5, RoutePolicy())
    bindings = SqlBindingStore(engine, 5.0)
    cache_kv = [Binding("CACHE", "kv", "cache")]

    async def write(conn: AsyncConnection, name: str, version: int) -> None:
        await bindings.write(conn, name, version, cache_kv)

    v1 = await functions.deploy("t", "f", b"one", {}, None, [], False, with_version=write)
    assert [(b.name, b.target) for b in await bindings.load("f", v1.version)] == [
        ("CACHE", "cache")
    ]

    async def broken(conn: AsyncConnection, name: str, version: int) -> None:
        await bindings.write(conn, name, version, cache_kv)
        raise RuntimeError("the gateway stopped here")

    with pytest.raises(RuntimeError):
        await functions.deploy("t", "f", b"two", {}, None, [], False, with_version=broken)
    # neither the version nor its bindings: the current version is still the first
    assert (await functions.get("t", "f")).current_version == v1.version
    assert await bindings.load("f", v1.version + 1) == []
    async with engine.connect() as conn:
        count = select(func.count()).select_from(function_versions)
        assert (await conn.execute(count)).scalar() == 1


async def test_cache_keeps_an_empty_answer_for_a_new_version(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    functions = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5, RoutePolicy())
    store = SqlBindingStore(engine, 5.0)

    def writer(bound: list[Binding]):  # type: ignore[no-untyped-def]
        async def write(conn: AsyncConnection, name: str, version: int) -> None:
            await store.write(conn, name, version, bound)

        return write

    f = await functions.deploy("t", "f", b"f", {}, None, [], False, with_version=writer([]))
    g = await functions.deploy(
        "t", "g", b"g", {}, None, [], False, with_version=writer([Binding("KV", "kv", "ns")])
    )
    loads: list[tuple[str, int]] = []
    load = store.load

    async def counted(function: str, version: int) -> list[Binding]:
        loads.append((function, version))
        return await load(function, version)

    store.load = counted  # type: ignore[method-assign]
    cache = BindingCache(store)
    # versions deployed just now: each asked once, then answered from memory
    for _ in range(3):
        assert await cache.kv_of("f", f.version, f.created_at) == ()
        assert await cache.kv_of("g", g.version, g.created_at) == (("KV", "ns"),)
    assert loads == [("f", f.version), ("g", g.version)]
    # what a deploy on this replica committed is kept without asking
    cache.remember("h", 1, 2.0, [Binding("KV", "kv", "other")])
    assert await cache.kv_of("h", 1, 2.0) == (("KV", "other"),)
    assert len(loads) == 2
