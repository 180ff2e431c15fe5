"""The KV operation quota on SQLite and PostgreSQL: two stores on two engines (two replicas
of one database) spending one tenant's day at once get exactly ``ops_per_day`` operations
between them, the first of the day included (the insert race of the day's row)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isogate.config import Settings
from isogate.gateway.database import create_engine, migrate
from isogate.state.kv import KvLimits, KvQuotaExceeded, SqlKvStore


async def test_two_replicas_share_the_daily_quota(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    engines = [create_engine(settings), create_engine(settings)]
    try:
        await migrate(engines[0])
        limits = KvLimits(ops_per_day=25)
        stores = [SqlKvStore(e, 10, limits) for e in engines]
        ns = (await stores[0].create_namespace("t", "n")).id
        other = (await stores[1].create_namespace("u", "n")).id

        async def one(i: int) -> bool:
            try:
                await stores[i % 2].put("t", ns, f"k{i}", b"v")
                return True
            except KvQuotaExceeded:
                return False

        done = await asyncio.gather(*(one(i) for i in range(40)))
        assert sum(done) == 25
        assert await stores[1].usage("t") == 25
        assert len((await stores[0].list("u", other)).keys) == 0  # another tenant: its own day
        assert await stores[0].usage("u") == 1
    finally:
        for e in engines:
            await e.dispose()
