"""The KV operation quota on SQLite and PostgreSQL: two stores on two engines (two replicas
of one database) spending one tenant's day at once get exactly ``ops_per_day`` operations
between them, the first of the day included (the insert race of the day's row), and
racers for the day's first row within the quota are never refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
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

        # well within the quota, racing for the day's first row: none is refused (one
        # that found the row only after its update had failed took it for a spent quota)
        for round_ in range(10):
            tenant = f"fresh{round_}"
            spot = (await stores[0].create_namespace(tenant, "n")).id
            await asyncio.gather(
                *(stores[i % 2].put(tenant, spot, f"k{i}", b"v") for i in range(16))
            )
            assert await stores[0].usage(tenant) == 16
    finally:
        for e in engines:
            await e.dispose()
