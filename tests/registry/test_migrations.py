"""The migration runner on PostgreSQL: concurrent replicas migrate once; outages are 503s."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from isogate.config import Settings
from isogate.gateway.database import (
    COMPONENTS,
    create_engine,
    is_outage,
    migrate,
    schema_migrations,
)


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
            assert tables == 8  # 7 tables + schema_migrations
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
