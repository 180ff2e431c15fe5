"""Persisted key usage (uses consumed, current period's count), so restarts lose none."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.quota.errors import StoreUnavailable
from isogate.quota.models import Usage
from isogate.quota.tables import key_usage


def _upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT (key_id) DO UPDATE`` for PostgreSQL and SQLite."""
    from sqlalchemy.dialects import postgresql, sqlite

    if dialect not in ("postgresql", "sqlite"):
        return None
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(key_usage)
    return stmt.on_conflict_do_update(
        index_elements=[key_usage.c.key_id],
        set_={c: stmt.excluded[c] for c in ("uses", "period_start", "period_count")},
    )


class UsageStore(Protocol):
    """Durable counters behind an in-process limiter."""

    async def load(self, key_id: str) -> Usage: ...
    async def save(self, usage: dict[str, Usage]) -> None: ...


class SqlUsageStore:
    """Usage counters in the metadata database (written behind, in batches)."""

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout

    async def load(self, key_id: str) -> Usage:
        """The stored usage of ``key_id`` (zero if none)."""
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                row = (
                    await conn.execute(select(key_usage).where(key_usage.c.key_id == key_id))
                ).first()
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        if row is None:
            return Usage()
        return Usage(uses=row.uses, period_start=row.period_start, period_count=row.period_count)

    async def save(self, usage: dict[str, Usage]) -> None:
        """Write these counters (replacing what was stored), in one transaction."""
        if not usage:
            return
        rows = [
            {
                "key_id": k,
                "uses": u.uses,
                "period_start": u.period_start,
                "period_count": u.period_count,
            }
            for k, u in usage.items()
        ]
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                upsert = _upsert(conn.dialect.name)
                if upsert is None:
                    await conn.execute(delete(key_usage).where(key_usage.c.key_id.in_(list(usage))))
                    await conn.execute(insert(key_usage), rows)
                else:  # replicas may save the same key at once: no delete/insert race
                    await conn.execute(upsert, rows)
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
