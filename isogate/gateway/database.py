"""The metadata database: engine creation and the versioned migration runner.

Each package (``quota``, ``registry``) owns its tables and an append-only list of
migration steps; this runner applies the missing ones in order and records them in
``schema_migrations``. Embedded SQLite uses one pooled connection (a serial database:
no lock-upgrade failures between concurrent writers) with WAL and foreign keys on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from isogate.config import Settings
from isogate.quota import migrations as quota_migrations
from isogate.registry import migrations as registry_migrations

Step = tuple[int, str, Callable[[Connection], None]]

_meta = MetaData()
schema_migrations = Table(
    "schema_migrations",
    _meta,
    Column("component", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", Float, nullable=False),
)

#: Every component's steps, in the order components are migrated.
COMPONENTS: dict[str, list[Step]] = {
    quota_migrations.COMPONENT: quota_migrations.MIGRATIONS,
    registry_migrations.COMPONENT: registry_migrations.MIGRATIONS,
}


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for the configured database (embedded SQLite file by default)."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=30)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _apply(conn: Connection) -> list[str]:
    _meta.create_all(conn, checkfirst=True)
    done = {(r.component, r.version) for r in conn.execute(select(schema_migrations))}
    applied: list[str] = []
    for component, steps in COMPONENTS.items():
        for version, description, upgrade in sorted(steps, key=lambda s: s[0]):
            if (component, version) in done:
                continue
            upgrade(conn)
            conn.execute(
                insert(schema_migrations).values(
                    component=component,
                    version=version,
                    description=description,
                    applied_at=time.time(),
                )
            )
            applied.append(f"{component} {version}: {description}")
    return applied


async def migrate(engine: AsyncEngine, timeout: float = 60.0) -> list[str]:
    """Apply every missing migration step in one transaction; returns what was applied.

    On PostgreSQL (next issue) the transaction will first take an advisory lock so that
    replicas starting together migrate once.
    """
    async with asyncio.timeout(timeout), engine.begin() as conn:
        return await conn.run_sync(_apply)


async def ping(engine: AsyncEngine, timeout: float) -> None:
    """Raise unless the database answers ``SELECT 1`` within ``timeout``."""
    async with asyncio.timeout(timeout), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
