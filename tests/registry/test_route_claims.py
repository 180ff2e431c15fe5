"""Route ownership in the store (SQLite and PostgreSQL), the indexed lookup against the
linear scan it replaced, and the resolver's per-function patches."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
from isogate.registry.blobs import LocalBlobStore
from isogate.registry.errors import RouteConflict, RouteForbidden, RouteLimit
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.names import (
    is_operator_path,
    route_matches,
    route_rank,
    routes_overlap,
)
from isogate.registry.resolver import FunctionResolver
from isogate.registry.route_claims import RoutePolicy
from isogate.registry.route_grants import SqlRouteGrants
from isogate.registry.route_index import RouteIndex


async def _granted(engine: AsyncEngine, *tenants: str) -> SqlRouteGrants:
    grants = SqlRouteGrants(engine, 5)
    for t in tenants:
        await grants.grant_hostless(t)
    return grants


async def test_concurrent_overlapping_claims_never_both_get_in(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Two tenants deploy overlapping patterns at the same moment, many times over: the
    claim lock makes one of each pair wait and then see the other's routes."""
    await _granted(engine, "a", "b")
    store = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5)
    for n in range(12):
        results = await asyncio.gather(
            store.deploy("a", f"a{n}", b"x", {}, None, [f"/r{n}/*"], False),
            store.deploy("b", f"b{n}", b"x", {}, None, [f"/r{n}/x"], False),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], RouteConflict), results
    table = await store.routes()
    for n in range(12):
        holders = {f[0] for p, f in table.items() if p.startswith(f"/r{n}/")}
        assert len(holders) == 1, table  # one tenant per contested prefix


async def test_ownership_rules(engine: AsyncEngine, tmp_path: Path) -> None:
    grants = await _granted(engine, "a")
    policy = RoutePolicy(max_routes_per_tenant=4)
    store = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5, policy)
    with pytest.raises(RouteForbidden):  # no grant
        await store.deploy("b", "bf", b"x", {}, None, ["/b/*"], False)
    with pytest.raises(RouteForbidden):  # hostname not assigned
        await store.deploy("a", "af", b"x", {}, None, ["a.example/*"], False)
    assert await grants.assign_host("A.example", "a")
    await store.deploy("a", "af", b"x", {}, None, ["a.example/*", "/a/*"], False)
    # within the tenant: nesting, and moving a pattern to another function
    await store.deploy("a", "ag", b"x", {}, None, ["/a/*", "a.example/x"], False)
    assert await store.routes() == {"a.example/*": "af", "/a/*": "ag", "a.example/x": "ag"}
    with pytest.raises(RouteLimit):
        await store.deploy("a", "ah", b"x", {}, None, ["/h1", "/h2"], False)
    await store.deploy("a", "ah", b"x", {}, None, ["/h1"], False)
    # the conflict names patterns only
    await grants.grant_hostless("b")
    with pytest.raises(RouteConflict) as err:
        await store.deploy("b", "bf", b"x", {}, None, ["/x/y"], False)  # a.example/* ∩
    assert err.value.extra == {"pattern": "/x/y", "conflicts_with": "a.example/*"}
    assert "af" not in str(err.value) and "'a'" not in str(err.value)
    # withdrawing a grant drops what depended on it
    assert await grants.unassign_host("a.example") == ["af", "ag"]
    assert await store.routes() == {"/a/*": "ag", "/h1": "ah"}
    await store.deploy("b", "bf", b"x", {}, None, ["/x/y"], False)
    assert [h.tenant for h in await grants.holders("/a/b")] == ["a"]
    assert await grants.revoke_hostless("a") == ["ag", "ah"]
    assert await store.routes() == {"/x/y": "bf"}


def test_overlap() -> None:
    yes = [
        ("/a/*", "/a"),
        ("/a/*", "/a/b/*"),
        ("/a", "/a"),
        ("h.example/a/*", "/a/b"),
        ("/a/*", "h.example/a"),
        ("h.example/*", "/z"),
    ]
    no = [("/a/*", "/ab"), ("/a/*", "/ab/*"), ("h.example/a", "i.example/a"), ("/a", "/a/")]
    for a, b in yes:
        assert routes_overlap(a, b) and routes_overlap(b, a), (a, b)
    for a, b in no:
        assert not routes_overlap(a, b) and not routes_overlap(b, a), (a, b)


def _scan(table: dict[str, str], host: str, path: str) -> str | None:
    """The linear scan the index replaced (resolver before issue 24 item 11)."""
    if is_operator_path(path):
        return None
    for pattern, fn in sorted(table.items(), key=lambda kv: route_rank(kv[0])):
        if route_matches(pattern, host, path):
            return fn
    return None


def test_index_answers_as_the_scan() -> None:
    rng = random.Random(24)
    segs = ["a", "b", "ab", "c"]
    hosts = ["", "h.example", "i.example"]

    def path(n: int) -> str:
        return "/" + "/".join(rng.choice(segs) for _ in range(n))

    for _round in range(40):
        table: dict[str, str] = {}
        for i in range(rng.randint(1, 30)):
            p = path(rng.randint(1, 3))
            if rng.random() < 0.5:
                p = p + "/*"
            table[rng.choice(hosts) + p] = f"f{i}"
        index = RouteIndex(table)
        for _ in range(200):
            host = rng.choice([*hosts[1:], "other.example", ""])
            p = path(rng.randint(1, 4)) + rng.choice(["", "/", "//x"])
            assert index.match(host, p) == _scan(table, host, p), (table, host, p)
        # incremental changes answer as a rebuild
        for fn in list(set(table.values()))[:5]:
            index.replace_function(fn, [])
            table = {k: v for k, v in table.items() if v != fn}
        assert len(index) == len(table)
        for _ in range(50):
            host, p = rng.choice(hosts), path(rng.randint(1, 4))
            assert index.match(host, p) == _scan(table, host, p)


class CountingStore:
    """A real store that counts whole-table reads."""

    def __init__(self, store: SqlFunctionStore) -> None:
        self.store = store
        self.full_reads = 0

    async def routes(self) -> dict[str, str]:
        self.full_reads += 1
        return await self.store.routes()

    async def routes_of(self, names: list[str]) -> dict[str, str]:
        return await self.store.routes_of(names)


async def test_deploy_patches_the_index(engine: AsyncEngine, tmp_path: Path) -> None:
    await _granted(engine, "a")
    store = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5)
    counting = CountingStore(store)
    resolver = FunctionResolver(counting, ttl_seconds=3600)  # type: ignore[arg-type]
    await store.deploy("a", "f", b"x", {}, None, ["/x/*"], False)
    assert await resolver.match_route("h", "/x/1") == "f"
    await store.deploy("a", "g", b"x", {}, None, ["/x/*", "/y"], False)  # moves /x/*
    resolver.invalidate("g")
    assert await resolver.match_route("h", "/x/1") == "g"
    assert await resolver.match_route("h", "/y") == "g"
    await store.delete("a", "g")
    resolver.forget("g")  # as a change made on another replica
    assert await resolver.match_route("h", "/x/1") is None
    assert counting.full_reads == 1  # deploys re-read one function's routes, not the table
    resolver.clear()
    assert await resolver.match_route("h", "/y") is None
    assert counting.full_reads == 2


async def test_migration_carries_claims_over(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registry migration 2 on a database with routes from before ownership."""
    from sqlalchemy import insert, select

    from isogate.backends import database
    from isogate.registry import tables as t

    eng = create_engine(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        before = {k: [s for s in v if s[0] == 1] for k, v in database.COMPONENTS.items()}
        monkeypatch.setattr(database, "COMPONENTS", before)
        await migrate(eng)
        monkeypatch.undo()
        rows = {
            "a1": ("a", ["/a/*", "a.example/x", "/.well-known/acme-challenge/*"]),
            "b1": ("b", ["shared.example/b", "b.example/*", "/*"]),
            "c1": ("c", ["shared.example/c"]),
        }
        async with eng.begin() as conn:
            for fn, (tenant, patterns) in rows.items():
                await conn.execute(
                    insert(t.functions).values(
                        name=fn,
                        tenant=tenant,
                        current_version=1,
                        latest_version=1,
                        created_at=0.0,
                        updated_at=0.0,
                    )
                )
                for p in patterns:
                    await conn.execute(insert(t.routes).values(pattern=p, function=fn))
        assert any("registry 2" in step for step in await migrate(eng))
        async with eng.connect() as conn:
            hostless = {r.tenant for r in await conn.execute(select(t.hostless_route_grants))}
            hosts = {r.host: r.tenant for r in await conn.execute(select(t.route_hosts))}
            left = {r.pattern for r in await conn.execute(select(t.routes))}
        assert hostless == {"a"}  # b's only host-less route was the root: dropped
        assert hosts == {"a.example": "a", "b.example": "b"}  # shared.example: undecided
        assert left == {
            "/a/*",
            "a.example/x",
            "shared.example/b",
            "b.example/*",
            "shared.example/c",
        }
    finally:
        await eng.dispose()
