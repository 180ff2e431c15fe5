"""The metadata database: engine creation and the versioned migration runner.

Each package (``quota``, ``registry``, ``state``) owns its tables and an append-only list of
migration steps; this runner applies the missing ones in order and records them in
``schema_migrations``. Embedded SQLite uses one pooled connection (a serial database:
no lock-upgrade failures between concurrent writers) with WAL and foreign keys on.

PostgreSQL (``postgresql://`` → SQLAlchemy async + asyncpg) gets a pool with pre-ping (a
restarted server is recovered without restarting isogate) and connect/statement timeouts
equal to ``store_timeout_seconds``. The migration runner holds a transaction-scoped
advisory lock, so replicas starting together migrate once and the others wait, then see
the steps done.
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
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from isogate.config import Settings
from isogate.quota import migrations as quota_migrations
from isogate.registry import migrations as registry_migrations
from isogate.state import migrations as state_migrations

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
    state_migrations.COMPONENT: state_migrations.MIGRATIONS,
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
    timeout = settings.store_timeout_seconds
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=timeout,
        pool_recycle=1800,
        connect_args={"timeout": timeout, "command_timeout": timeout},
    )


#: ``pg_advisory_xact_lock`` key of the migration runner (any fixed 64-bit number).
MIGRATION_LOCK = 0x15064A7E


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable (not a bug or a bad query)."""
    if isinstance(exc, sa_exc.DBAPIError):
        # SQLSTATE class 08 (connection exception) and 57 (operator intervention: the
        # server is shutting down or starting up, e.g. 57P03 "cannot connect now") come
        # through asyncpg as a bare DBAPIError, not an OperationalError
        state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", ""))
        return (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
            or state[:2] in ("08", "57")
        )
    return isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError | OSError)


def _apply(conn: Connection) -> list[str]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
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

    On PostgreSQL the transaction first takes an advisory lock (released at commit or
    rollback), so replicas starting together migrate once; DDL is transactional there, so
    a failed step leaves nothing behind.
    """
    try:
        async with asyncio.timeout(timeout), engine.begin() as conn:
            return await conn.run_sync(_apply)
    except Exception as exc:
        where = engine.url.set(drivername=engine.url.get_backend_name())
        where_text = where.render_as_string(hide_password=True)
        if isinstance(exc, TimeoutError) or is_outage(exc):
            detail = f"{exc.__class__.__name__}: {exc}".splitlines()[0][:300]
            raise DatabaseUnavailable(f"cannot reach the database {where_text}: {detail}") from None
        if _refused(exc):
            # the server answered but will not let us in: a missing database, a wrong
            # user or password; say which, not a driver traceback
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
            raise DatabaseUnavailable(f"cannot use the database {where_text}: {cause}") from None
        raise


def _refused(exc: BaseException) -> bool:
    """A connection refused by the server: SQLSTATE class 28 (authorization), 3D (catalog)."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    orig = exc.orig
    state = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    if not state:  # asyncpg's error arrives wrapped by SQLAlchemy's adapter
        inner = getattr(orig, "__cause__", None)
        state = str(getattr(inner, "sqlstate", None) or "")
    return state[:2] in ("28", "3D")


class DatabaseUnavailable(RuntimeError):
    """The database did not answer at start-up or migration (the message names it)."""


async def ping(engine: AsyncEngine, timeout: float) -> None:
    """Raise unless the database answers ``SELECT 1`` within ``timeout``."""
    async with asyncio.timeout(timeout), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
