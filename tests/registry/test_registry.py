"""Names, routes, blobs and function versions on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.registry.blobs import LocalBlobStore, sha256_hex
from isogate.registry.code_cache import InMemoryCodeCache
from isogate.registry.errors import (
    BlobMissing,
    FunctionNotFound,
    InvalidName,
    InvalidRoute,
    NameTaken,
    RouteConflict,
    StoreUnavailable,
    VersionNotFound,
)
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.names import check_function_name, normalize_route, route_matches
from isogate.registry.resolver import CodeLoader, FunctionResolver
from isogate.registry.route_claims import RoutePolicy
from isogate.registry.tables import function_versions


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A",
        "a_b",
        "-a",
        "a-",
        "a" * 64,
        "..",
        "a/b",
        "a.b",
        "\uff48\uff45\uff4c\uff4c\uff4f",
        "hello\n",
        "x" * 10_000,
    ],
)
def test_invalid_function_names(name: str) -> None:
    with pytest.raises(InvalidName):
        check_function_name(name)


def test_routes() -> None:
    assert normalize_route("/api/users/*") == "/api/users/*"
    assert normalize_route("Example.COM/api/*") == "example.com/api/*"
    for bad in [
        "api",
        "/a/../b",
        "/a*",
        "/v1/keys",
        "/fn/x/*",
        "/metrics",
        "/a//b",
        "bad host/x",
        "",
    ]:
        with pytest.raises(InvalidRoute):
            normalize_route(bad)
    assert route_matches("/api/users/*", "h", "/api/users/42")
    assert route_matches("/api/users/*", "h", "/api/users")
    assert not route_matches("/api/users/*", "h", "/api/usersx")
    assert route_matches("example.com/a", "example.com", "/a")
    assert not route_matches("example.com/a", "other.com", "/a")


async def test_blobs_atomic_and_verified(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "b", 5)
    sha = await blobs.put(b"hello")
    assert sha == sha256_hex(b"hello")
    assert await blobs.get(sha) == b"hello"
    assert await blobs.put(b"hello") == sha  # idempotent
    path = tmp_path / "b" / sha[:2] / sha[2:4] / sha
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]
    path.write_bytes(b"tampered")
    with pytest.raises(BlobMissing):
        await blobs.get(sha)
    with pytest.raises(BlobMissing):
        await blobs.get("0" * 64)
    with pytest.raises(BlobMissing):
        await blobs.get("../../etc/passwd")


async def test_versions_rollback_delete(engine: AsyncEngine, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "b", 5)
    store = SqlFunctionStore(engine, blobs, 5, OPEN)
    v1 = await store.deploy("a", "hello", b"one", {"K": "1"}, None, ["/api/*"], False)
    v2 = await store.deploy("a", "hello", b"two", {}, 500, [], True)
    assert (v1.version, v2.version) == (1, 2)
    fn = await store.get("a", "hello")
    assert fn.current_version == 2 and fn.current.public
    assert await store.routes() == {}
    with pytest.raises(NameTaken):
        await store.deploy("b", "hello", b"x", {}, None, [], False)
    with pytest.raises(FunctionNotFound):
        await store.get("b", "hello")
    with pytest.raises(FunctionNotFound):
        await store.rollback("b", "hello", 1)
    with pytest.raises(FunctionNotFound):
        await store.delete("b", "hello")
    await store.rollback("a", "hello", 1)
    assert (await store.get(None, "hello")).current.sha256 == sha256_hex(b"one")
    await store.deploy("b", "bye", b"three", {}, None, [], False)
    many = await store.get_many(["hello", "bye", "nope"])  # one query, any tenant
    assert sorted(many) == ["bye", "hello"]
    assert many["hello"] == await store.get(None, "hello")  # the current version: 1
    assert many["hello"].current == v1 and many["bye"].tenant == "b"
    assert [f.name for f in await store.list("a")] == ["hello"]
    assert (await store.list("a"))[0].current.created_at == v1.created_at
    await store.delete("b", "bye")
    assert await store.routes() == {"/api/*": "hello"}
    with pytest.raises(RouteConflict):
        await store.deploy("b", "other", b"x", {}, None, ["/api/*"], False)
    with pytest.raises(VersionNotFound):
        await store.rollback("a", "hello", 9)
    assert [v.version for v in await store.versions("a", "hello")] == [1, 2]
    await store.delete("a", "hello")
    with pytest.raises(FunctionNotFound):
        await store.get(None, "hello")
    assert await store.routes() == {}
    # the name is free again, versions start over
    assert (await store.deploy("b", "hello", b"x", {}, None, ["/api/*"], False)).version == 1


#: host-less patterns without grants: these tests are about versions, not ownership
#: (tests/security/test_route_ownership.py is)
OPEN = RoutePolicy(open_hostless_routes=True)


class BrokenBlobs:
    async def put(self, data: bytes) -> str:
        raise StoreUnavailable("blob store down")

    async def get(self, sha256: str) -> bytes:
        raise StoreUnavailable("blob store down")

    async def ping(self) -> None:
        raise StoreUnavailable("down")


async def test_no_row_without_blob(engine: AsyncEngine) -> None:
    store = SqlFunctionStore(engine, BrokenBlobs(), 5)
    with pytest.raises(StoreUnavailable):
        await store.deploy("a", "hello", b"code", {}, None, [], False)
    async with engine.connect() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(function_versions))
        ).scalar() == 0


async def test_resolver_and_code_loader(engine: AsyncEngine, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "b", 5)
    store = SqlFunctionStore(engine, blobs, 5, OPEN)
    resolver = FunctionResolver(store, ttl_seconds=60)
    with pytest.raises(FunctionNotFound):
        await resolver.resolve("hello")
    v = await store.deploy("a", "hello", b"src", {}, None, ["/x/*"], False)
    resolver.invalidate("hello")
    assert (await resolver.resolve("hello")).current_version == 1
    assert await resolver.match_route("any", "/x/1") == "hello"
    assert await resolver.match_route("any", "/y") is None
    loader = CodeLoader(blobs, InMemoryCodeCache(1 << 20))
    assert await loader.load(v.sha256) == "src"
    os.remove(tmp_path / "b" / v.sha256[:2] / v.sha256[2:4] / v.sha256)
    assert await loader.load(v.sha256) == "src"  # served from the code cache


async def test_concurrent_deploys_take_turns(engine: AsyncEngine, tmp_path: Path) -> None:
    import asyncio

    store = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5)
    await store.deploy("a", "busy", b"v1", {}, None, [], False)
    made = await asyncio.gather(
        *(store.deploy("a", "busy", f"v{n}".encode(), {}, None, [], False) for n in range(2, 7))
    )
    assert sorted(v.version for v in made) == [2, 3, 4, 5, 6]
    assert (await store.get("a", "busy")).latest_version == 6
