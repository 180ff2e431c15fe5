"""Per-version CPU limits (``cpu_ms``) in the store, and the migration that adds their
column to an existing database, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import migrate, schema_migrations
from isogate.registry.blobs import LocalBlobStore
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.tables import blob_pins, functions


async def test_cpu_ms_is_kept_per_version(engine: AsyncEngine, tmp_path: Path) -> None:
    store = SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5)
    v1 = await store.deploy("a", "f", b"one", {}, 800, [], False, cpu_ms=250)
    assert (v1.timeout_ms, v1.cpu_ms) == (800, 250)
    v2 = await store.deploy("a", "f", b"two", {}, None, [], False)
    assert v2.cpu_ms is None
    assert [(v.version, v.cpu_ms) for v in await store.versions("a", "f")] == [
        (1, 250),
        (2, None),
    ]
    assert (await store.get("a", "f")).current.cpu_ms is None
    await store.rollback("a", "f", 1)
    # every read path carries it: the resolver's batch query, the list, one version
    assert (await store.get_many(["f"]))["f"].current.cpu_ms == 250
    assert (await store.list("a"))[0].current.cpu_ms == 250
    assert (await store.version("a", "f", None)).cpu_ms == 250
    assert (await store.get(None, "f")).current == v1


async def test_migration_adds_cpu_ms_to_an_existing_database(engine: AsyncEngine) -> None:
    """A database migrated before step 4: its versions keep working, with no CPU limit."""
    async with engine.begin() as conn:
        # back to the schema of step 3: no cpu_ms column, step 4 not recorded
        await conn.execute(text("ALTER TABLE function_versions DROP COLUMN cpu_ms"))
        await conn.execute(
            delete(schema_migrations).where(
                (schema_migrations.c.component == "registry") & (schema_migrations.c.version >= 4)
            )
        )
        now = time.time()
        await conn.execute(
            insert(functions).values(
                name="old",
                tenant="a",
                current_version=1,
                latest_version=1,
                created_at=now,
                updated_at=now,
            )
        )
        true = "true" if engine.dialect.name == "postgresql" else "1"
        await conn.exec_driver_sql(
            "INSERT INTO function_versions (name, version, sha256, size, env, timeout_ms,"
            f" routes, public, created_at) VALUES ('old', 1, '{'ab' * 32}', 3, '{{}}', 100,"
            f" '[]', {true}, 0)"
        )
    applied = await migrate(engine)
    assert any(step.startswith("registry 4:") for step in applied), applied
    assert await migrate(engine) == []
    store = SqlFunctionStore(engine, LocalBlobStore(Path("/nonexistent"), 5), 5)
    old = await store.get("a", "old")
    # step 5 pinned the blob of the version it found (collected only once unreferenced)
    async with engine.connect() as conn:
        pins = (await conn.execute(select(blob_pins.c.sha256))).scalars().all()
    assert pins == ["ab" * 32]
    assert (old.current.timeout_ms, old.current.cpu_ms) == (100, None)
