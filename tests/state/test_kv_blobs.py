"""Large KV values in the object store (issue 23, item 2), on the embedded layout (SQLite and
a local folder) and the production one (PostgreSQL and S3 on SeaweedFS): values above the
threshold are objects the row points at; overwrite, delete, expiry and a namespace's
deletion remove them; what a crash or an outage leaves (an upload without its row, a dead
blob whose delete failed, a put slower than the grace) is removed by the sweep; a read
racing an overwrite gets a whole value. Every test ends with no object and no blob row
left: nothing leaks."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
from isogate.registry.blobs import BlobStore, LocalBlobStore, open_blob_store
from isogate.registry.errors import StoreUnavailable
from isogate.state.kv import KvLimits, KvQuotaExceeded, SqlKvStore
from isogate.state.kv_blobs import NONCE_BYTES
from isogate.state.tables import kv_blobs, kv_entries

INLINE = 100
GRACE = 600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def layout(kind: str, tmp_path: Path, request: pytest.FixtureRequest):
    """(engine, the KV scope of the blob store) of the embedded or the production layout."""
    if kind == "embedded":
        settings = Settings(data_dir=tmp_path)
    else:
        url = request.getfixturevalue("pg_url")
        s3 = request.getfixturevalue("s3_server")
        settings = Settings(
            data_dir=tmp_path, database_url=url, blob_timeout_seconds=5, **s3.settings()
        )
    engine = create_engine(settings)
    await migrate(engine)
    try:
        async with open_blob_store(settings) as blobs:
            yield engine, blobs.scoped("kv")
    finally:
        await engine.dispose()


@pytest.fixture(params=["embedded", "production"])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with layout(request.param, tmp_path, request) as pair:
        yield pair


async def objects(blobs: BlobStore) -> set[str]:
    """The addresses of every object in the KV scope of the store."""
    blobs = getattr(blobs, "inner", blobs)  # under a FlakyBlobs
    if isinstance(blobs, LocalBlobStore):
        root = blobs._root
        return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    client, bucket, prefix = blobs._client, blobs._bucket, blobs._prefix  # type: ignore[attr-defined]
    found: set[str] = set()
    token: dict[str, str] = {}
    while True:
        page = await client.list_objects_v2(Bucket=bucket, Prefix=prefix, **token)
        found |= {o["Key"].rsplit("/", 1)[-1] for o in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return found
        token = {"ContinuationToken": page["NextContinuationToken"]}


async def blob_rows(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        return dict((await conn.execute(select(kv_blobs.c.address, kv_blobs.c.state))).all())


async def assert_clean(store: SqlKvStore, engine: AsyncEngine, live: int = 0) -> None:
    """Only the ``live`` blobs entries name: as many objects as rows, all named."""
    assert store.blobs is not None
    rows = await blob_rows(engine)
    async with engine.connect() as conn:
        named = set(
            (await conn.execute(select(kv_entries.c.blob).where(kv_entries.c.blob.is_not(None))))
            .scalars()
            .all()
        )
    assert set(rows) == named and set(rows.values()) <= {"live"}, rows
    assert len(rows) == live
    assert await objects(store.blobs) == set(rows)


def new_store(engine: AsyncEngine, blobs: BlobStore, clock: Clock, **limits: Any) -> SqlKvStore:
    return SqlKvStore(
        engine,
        10,
        KvLimits(inline_max_bytes=INLINE, **limits),
        clock,
        blobs=blobs,
        blob_grace=GRACE,
    )


async def test_threshold_overwrite_delete_expiry_namespace(env: Any) -> None:
    engine, blobs = env
    clock = Clock()
    ops: list[tuple[str, str]] = []
    store = new_store(engine, blobs, clock)
    store.on_op = lambda op, outcome: ops.append((op, outcome))
    ns = (await store.create_namespace("t", "big")).id
    small, big = b"s" * INLINE, os.urandom(50_000)

    await store.put("t", ns, "small", small)
    await store.put("t", ns, "big", big, metadata={"m": 1})
    async with engine.connect() as conn:
        rows = {
            r.key: r
            for r in await conn.execute(
                select(kv_entries.c.key, kv_entries.c.value, kv_entries.c.blob)
            )
        }
    assert rows["small"].blob is None and bytes(rows["small"].value) == small  # at the limit
    assert rows["big"].blob is not None and bytes(rows["big"].value) == b""  # above it
    stored = await blobs.get(rows["big"].blob)
    assert stored[NONCE_BYTES:] == big  # the value after its nonce, verified by address
    entry = await store.get("t", ns, "big")
    assert entry is not None and entry.value == big and entry.metadata == {"m": 1}
    await assert_clean(store, engine, live=1)

    # the same bytes under two keys are two blobs: deleting one leaves the other whole
    await store.put("t", ns, "twin", big)
    await assert_clean(store, engine, live=2)
    await store.delete("t", ns, "twin")
    await assert_clean(store, engine, live=1)
    assert (await store.get("t", ns, "big")).value == big  # type: ignore[union-attr]

    # overwrite: big → another big → small; each old object is gone when put returns
    first = rows["big"].blob
    other = os.urandom(70_000)
    await store.put("t", ns, "big", other)
    assert first not in await objects(blobs)
    assert (await store.get("t", ns, "big")).value == other  # type: ignore[union-attr]
    await assert_clean(store, engine, live=1)
    await store.put("t", ns, "big", b"now small")
    assert (await store.get("t", ns, "big")).value == b"now small"  # type: ignore[union-attr]
    await assert_clean(store, engine, live=0)

    # delete
    await store.put("t", ns, "gone", big)
    await assert_clean(store, engine, live=1)
    await store.delete("t", ns, "gone")
    assert await store.get("t", ns, "gone") is None
    await assert_clean(store, engine, live=0)

    # expiry: unreadable at once, removed (row and object) by the sweep
    await store.put("t", ns, "ttl", big, expiration_ttl=60)
    await store.put("t", ns, "ttl-small", b"x", expiration_ttl=60)
    await store.put("t", ns, "later", big, expiration_ttl=3600)
    clock.now += 61
    assert await store.get("t", ns, "ttl") is None
    assert (await store.sweep())["expired"] == 2
    async with engine.connect() as conn:
        keys = set((await conn.execute(select(kv_entries.c.key))).scalars().all())
    assert keys == {"small", "big", "later"}
    await assert_clean(store, engine, live=1)
    assert (await store.get("t", ns, "later")).value == big  # type: ignore[union-attr]

    # a namespace's deletion: its blobs are dead at once, the sweep deletes them
    for i in range(3):
        await store.put("t", ns, f"many{i}", big)
    await store.delete_namespace("t", "big")
    assert set((await blob_rows(engine)).values()) == {"dead"}
    await store.sweep()
    await assert_clean(store, engine, live=0)
    assert ("get", "ok") in ops and ("get", "miss") in ops and ("put", "ok") in ops


class FlakyBlobs:
    """A blob store that fails deletes while ``down``, and runs ``before_put`` and
    ``before_get`` hooks (a slow upload, an overwrite racing a read)."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.down = False
        self.before_put: Any = None
        self.before_get: Any = None

    async def put(self, data: bytes) -> str:
        sha = await self.inner.put(data)
        if self.before_put is not None:
            hook, self.before_put = self.before_put, None
            await hook()
        return sha

    async def get(self, sha256: str) -> bytes:
        if self.before_get is not None:
            hook, self.before_get = self.before_get, None
            await hook()
        return await self.inner.get(sha256)

    async def delete(self, sha256: str) -> None:
        if self.down:
            raise StoreUnavailable("blob store unreachable (delete)")
        await self.inner.delete(sha256)

    async def ping(self) -> None:
        await self.inner.ping()

    def scoped(self, name: str) -> BlobStore:
        raise NotImplementedError


async def test_crash_and_outage_leftovers_are_swept(env: Any) -> None:
    engine, inner = env
    clock = Clock()
    blobs = FlakyBlobs(inner)
    store = new_store(engine, blobs, clock, ops_per_day=1000)  # type: ignore[arg-type]
    ns = (await store.create_namespace("t", "c")).id
    big = os.urandom(20_000)

    # a crash between the upload and the entry's commit: a pending blob with no entry
    address = await store._upload(big)
    assert address in await objects(inner)
    assert (await store.sweep())["deleted"] == 0  # within the grace: maybe a put in flight
    assert address in await objects(inner)
    clock.now += GRACE + 1
    assert (await store.sweep())["abandoned"] == 1
    await assert_clean(store, engine)

    # the object store down when the old value's blob should go: the put still succeeds,
    # the blob stays dead until the sweep (with the store back) deletes it
    await store.put("t", ns, "k", big)
    blobs.down = True
    await store.put("t", ns, "k", big + b"2")
    await store.delete("t", ns, "k")
    assert sorted((await blob_rows(engine)).values()) == ["dead", "dead"]
    assert (await store.sweep())["deleted"] == 0
    blobs.down = False
    assert (await store.sweep())["deleted"] == 2
    await assert_clean(store, engine)

    # a put slower than the grace: the sweep took its blob, so the put fails (the old
    # value stays) and the blob goes
    await store.put("t", ns, "slow", b"old")

    async def slow() -> None:
        clock.now += GRACE + 1
        await store.sweep()

    blobs.before_put = slow
    with pytest.raises(StoreUnavailable):
        await store.put("t", ns, "slow", big)
    assert (await store.get("t", ns, "slow")).value == b"old"  # type: ignore[union-attr]
    await store.sweep()
    await assert_clean(store, engine)

    # a put refused after its upload (the quota) discards its blob at once
    tight = new_store(engine, blobs, clock, ops_per_day=1)  # type: ignore[arg-type]
    tight_ns = (await tight.create_namespace("u", "c")).id
    await tight.put("u", tight_ns, "a", b"1")
    with pytest.raises(KvQuotaExceeded):
        await tight.put("u", tight_ns, "b", big)
    await assert_clean(store, engine)

    # a read whose blob is replaced (and deleted) under it returns the new value whole
    await store.put("t", ns, "race", big)
    newer = os.urandom(30_000)

    async def overwrite() -> None:
        await store.put("t", ns, "race", newer)

    blobs.before_get = overwrite
    assert (await store.get("t", ns, "race")).value == newer  # type: ignore[union-attr]
    blobs.before_get = lambda: store.delete("t", ns, "race")
    assert await store.get("t", ns, "race") is None
    await assert_clean(store, engine)


async def test_concurrent_overwrites_leave_one_blob(env: Any) -> None:
    """Writers of one key at once (PostgreSQL: truly concurrent): the last one wins, every
    other's blob is gone, none is left half-referenced."""
    engine, blobs = env
    store = new_store(engine, blobs, Clock(), ops_per_day=1000)
    ns = (await store.create_namespace("t", "c")).id
    values = [bytes([i]) * (INLINE + 1 + i) for i in range(12)]
    await asyncio.gather(*(store.put("t", ns, "k", v) for v in values))
    entry = await store.get("t", ns, "k")
    assert entry is not None and entry.value in values
    await assert_clean(store, engine, live=1)
    await asyncio.gather(*(store.delete("t", ns, "k") for _ in range(3)))
    await assert_clean(store, engine, live=0)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(kv_entries))).scalar() == 0


async def test_step_5_upgrades_an_older_database(tmp_path: Path, database_url: str | None) -> None:
    """A database migrated before step 5 (no ``kv_entries.blob``, no ``kv_blobs``) keeps
    its entries and gains both."""
    from sqlalchemy import delete, insert, text

    from isogate.backends.database import schema_migrations

    engine = create_engine(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        await migrate(engine)
        async with engine.begin() as conn:  # back to before step 5
            await conn.execute(text("DROP TABLE kv_blobs"))
            await conn.execute(text("DROP INDEX ix_kv_entries_blob"))
            await conn.execute(text("DROP INDEX ix_kv_entries_expiration"))
            await conn.execute(text("ALTER TABLE kv_entries DROP COLUMN blob"))
            await conn.execute(
                delete(schema_migrations).where(
                    schema_migrations.c.component == "state", schema_migrations.c.version == 5
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO kv_namespaces (id, tenant, name, created_at) "
                    "VALUES ('kv_1', 't', 'n', 0)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO kv_entries (namespace, key, value, updated_at) "
                    "VALUES ('kv_1', 'k', :v, 0)"
                ),
                {"v": b"old"},
            )
        assert [s for s in await migrate(engine) if "kv_blobs" in str(s)]
        async with engine.begin() as conn:
            await conn.execute(
                insert(kv_blobs).values(address="a" * 64, state="dead", size=1, created_at=0)
            )
        store = SqlKvStore(engine, 10, KvLimits(), Clock())
        assert (await store.get("t", "kv_1", "k")).value == b"old"  # type: ignore[union-attr]
    finally:
        await engine.dispose()
