"""Garbage collection of code blobs (issue 24, item 10): blobs of dropped versions and
deleted functions go once nothing references them, never under a concurrent deploy of the
same code; local folder and S3 (SeaweedFS), SQLite and PostgreSQL."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.config import Settings
from isogate.registry.blobs import BlobStore, open_blob_store, sha256_hex
from isogate.registry.errors import BlobMissing
from isogate.registry.functions import DeployLimits, SqlFunctionStore
from isogate.registry.tables import blob_pins
from tests.fixtures.seaweedfs import SeaweedFS

GRACE = 100.0


@asynccontextmanager
async def blob_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest):
    if kind == "local":
        settings = Settings(data_dir=tmp_path)
    else:
        server: SeaweedFS = request.getfixturevalue("s3_server")
        settings = Settings(data_dir=tmp_path, blob_timeout_seconds=5, **server.settings())
    async with open_blob_store(settings) as blobs:
        yield blobs


async def exists(blobs: BlobStore, sha: str) -> bool:
    try:
        await blobs.get(sha)
        return True
    except BlobMissing:
        return False


async def age_pins(engine: AsyncEngine) -> None:
    """Every pin older than the grace: as if the deploys were long ago."""
    async with engine.begin() as conn:
        await conn.execute(update(blob_pins).values(pinned_at=time.time() - 2 * GRACE))


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_dropped_and_deleted_blobs_are_collected(
    engine: AsyncEngine, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    async with blob_store(kind, tmp_path, request) as blobs:
        store = SqlFunctionStore(engine, blobs, 5, gc_grace_seconds=GRACE)
        limits = DeployLimits(versions=2)
        codes = [f"v{n}-{kind}".encode() for n in range(4)]
        shared = b"shared-" + kind.encode()
        await store.deploy("a", "f", codes[0], {}, None, [], False, limits)
        await store.deploy("b", "g", codes[0], {}, None, [], False, limits)  # same code
        await store.deploy("a", "f", codes[1], {}, None, [], False, limits)
        await store.deploy("a", "h", shared, {}, None, [], False, limits)
        await age_pins(engine)
        # v3 drops v1 of f: its code is still g's, so it stays
        await store.deploy("a", "f", codes[2], {}, None, [], False, limits)
        assert await exists(blobs, sha256_hex(codes[0]))
        await age_pins(engine)
        # v4 drops v2 (codes[1]): referenced by nothing, pinned long ago → deleted now
        await store.deploy("a", "f", codes[3], {}, None, [], False, limits)
        assert not await exists(blobs, sha256_hex(codes[1]))
        assert await exists(blobs, sha256_hex(codes[2]))
        await store.delete("b", "g")  # the last reference of codes[0]
        assert not await exists(blobs, sha256_hex(codes[0]))
        # deleted within the grace of its deploy: kept until a later pass
        # v5 (pin refreshed) drops v3: codes[2], pinned long ago, goes at once
        await store.deploy("a", "f", shared, {}, None, [], False, limits)
        assert not await exists(blobs, sha256_hex(codes[2]))
        await store.delete("a", "h")
        assert await exists(blobs, sha256_hex(shared))  # f v5 uses it
        await store.delete("a", "f")
        assert await store.collect() == 0  # pins fresh: within the grace
        assert all([await exists(blobs, sha256_hex(c)) for c in (codes[3], shared)])
        await age_pins(engine)
        assert await store.collect() == 2
        for c in (*codes, shared):
            assert not await exists(blobs, sha256_hex(c))
        # the name and the code can come back: the blob is written again
        v = await store.deploy("a", "f", codes[1], {}, None, [], False, limits)
        assert await blobs.get(v.sha256) == codes[1]


async def test_collection_never_deletes_what_a_concurrent_deploy_uses(
    engine: AsyncEngine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The race: the same code deployed again while its orphaned blob is collected. The
    deploy pins before it uploads; the collection deletes a blob only with its pin row."""
    async with blob_store("local", tmp_path, request) as blobs:
        store = SqlFunctionStore(engine, blobs, 5, gc_grace_seconds=GRACE)
        code = b"raced"
        await store.deploy("a", "f", code, {}, None, [], False)
        await store.delete("a", "f")
        await age_pins(engine)
        # 1) the deploy pins between the collection's read and its delete: kept
        real_put = blobs.put
        collected: list[int] = []

        async def put_then_collect(data: bytes) -> str:
            sha = await real_put(data)  # uploaded (a no-op: the orphan is still there)
            collected.append(await store.collect())  # the collector runs before the row
            return sha

        blobs.put = put_then_collect  # type: ignore[method-assign]
        v = await store.deploy("a", "f", code, {}, None, [], False)
        blobs.put = real_put  # type: ignore[method-assign]
        assert collected == [0]
        assert await blobs.get(v.sha256) == code
        # 2) the collection deleted it just before the deploy pinned: put writes it anew
        await store.delete("a", "f")
        await age_pins(engine)
        assert await store.collect() == 1 and not await exists(blobs, v.sha256)
        v = await store.deploy("a", "f", code, {}, None, [], False)
        assert await blobs.get(v.sha256) == code
