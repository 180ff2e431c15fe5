"""The migration runner on PostgreSQL: concurrent replicas migrate once; outages are 503s."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from isogate.backends.database import (
    COMPONENTS,
    create_engine,
    is_outage,
    migrate,
    schema_migrations,
)
from isogate.config import Settings


async def test_concurrent_migrate_on_fresh_database(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    engines = [create_engine(settings) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(e) for e in engines))
        total = sum(len(steps) for steps in COMPONENTS.values())
        # exactly one runner applied every step; the others waited and found nothing to do
        assert sorted(len(r) for r in results) == [0, 0, total]
        async with engines[0].connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(schema_migrations))).scalar()
            assert n == total
            tables = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'"
                    )
                )
            ).scalar()
            # 12 + 4 of state 2 (kv_*, function_bindings) + 1 of state 3 (async_invocations)
            # + 2 of state 4 (function_crons, cron_runs) + 1 of state 5 (kv_blobs)
            # + schema_migrations
            assert tables == 21
        assert await migrate(engines[1]) == []
    finally:
        for e in engines:
            await e.dispose()


async def test_unreachable_postgres_is_an_outage(tmp_path: Path) -> None:
    from tests.fixtures.seaweedfs import free_port

    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    engine = create_engine(Settings(data_dir=tmp_path, database_url=url, store_timeout_seconds=2))
    try:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            assert is_outage(exc), repr(exc)
        else:
            raise AssertionError("connected to nothing")
    finally:
        await engine.dispose()
    assert is_outage(OperationalError("x", {}, Exception("down")))
    assert not is_outage(ValueError("bug"))


def test_migrate_command(tmp_path: Path, pg_url: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env["ISOGATE_DATABASE_URL"] = pg_url
    cmd = [sys.executable, "-m", "isogate.cli", "migrate", "--data-dir", str(tmp_path)]
    procs = [subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60) for _ in "ab"]
    assert [p.returncode for p in procs] == [0, 0], procs
    assert "quota 1:" in procs[0].stdout and "registry 1:" in procs[0].stdout
    assert procs[1].stdout.strip() == "schema is up to date"
    # an unreachable database: a one-line error naming it (password hidden), exit code 1
    from tests.fixtures.seaweedfs import free_port

    env["ISOGATE_DATABASE_URL"] = f"postgresql://u:hunter2@127.0.0.1:{free_port()}/x"
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "cannot reach the database" in p.stderr, p.stderr
    assert "hunter2" not in p.stderr and "Traceback" not in p.stderr


async def test_hanging_database_meets_the_deadline(tmp_path: Path) -> None:
    """A server that accepts TCP and never answers: calls end at the deadline."""
    import socket

    import pytest

    from isogate.backends.database import DatabaseUnavailable, ping

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        url = f"postgresql://postgres@127.0.0.1:{port}/x"
        engine = create_engine(
            Settings(data_dir=tmp_path, database_url=url, store_timeout_seconds=1)
        )
        try:
            with pytest.raises(TimeoutError):
                await ping(engine, 1)
            with pytest.raises(DatabaseUnavailable):
                await migrate(engine, timeout=1)
        finally:
            await engine.dispose()


async def test_sql_calls_keep_their_deadline(tmp_path: Path, pg_url: str) -> None:
    """A blocked statement ends at store_timeout_seconds (503), and the pool stays usable."""

    import asyncpg
    import pytest

    from isogate.quota.errors import StoreUnavailable
    from isogate.quota.tenants import SqlTenantStore

    settings = Settings(data_dir=tmp_path, database_url=pg_url, store_timeout_seconds=1)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        store = SqlTenantStore(engine, settings.store_timeout_seconds)
        await store.create("acme", "password1")
        blocker = await asyncpg.connect(pg_url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE")
            for _ in range(3):
                with pytest.raises(StoreUnavailable):
                    await store.exists("acme")
            await tx.rollback()
        finally:
            await blocker.close()
        for _ in range(5):  # connections cancelled mid-statement were not returned broken
            assert await store.exists("acme")
    finally:
        await engine.dispose()
