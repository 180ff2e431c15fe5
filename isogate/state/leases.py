"""What the two leased queues of this package share (asynchronous invocations,
:mod:`isogate.state.async_queue`, and cron runs, :mod:`isogate.state.schedules`): rows
that replicas claim with a conditional ``UPDATE``, hold under a lease, and give back.

A claim is ``UPDATE … SET status = 'running' WHERE id = :id AND status = 'queued'``: the
database serialises the updates, so exactly one replica sees one row changed. A replica
that dies lets its lease lapse; :meth:`LeasedStore.expire_leases` queues the row again, or
fails it once its attempts are spent. Every later write of a claimed row names its claim,
so a replica whose lease lapsed cannot overwrite the new owner's result.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, RowMapping, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.state.sql import SqlStore

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


class LeasedStore(SqlStore):
    """Base of a store of leased rows in ``_table`` (columns ``id``, ``status``,
    ``claimed_by``, ``lease_until``, ``attempts``, ``max_attempts``, ``started_at``,
    ``finished_at``, ``expires_at``). ``_interrupted`` holds the further values a row
    takes when it fails because every attempt was interrupted."""

    _table: ClassVar[Table]
    _interrupted: ClassVar[dict[str, Any]]

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float,
        *,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(engine, timeout)
        self.retention_seconds = retention_seconds
        self._clock = clock

    def _held(self, row_id: str, claim: str) -> tuple[ColumnElement[bool], ...]:
        """The condition of a write by the claim's holder: the row is still its own."""
        t = self._table
        return (t.c.id == row_id, t.c.claimed_by == claim, t.c.status == RUNNING)

    async def expire_leases(self) -> int:
        """Rows whose claim lapsed (their replica died): back to ``queued``, or ``failed``
        once their attempts are spent. Returns how many rows changed."""
        t = self._table
        now = self._clock()
        lapsed = (t.c.status == RUNNING, t.c.lease_until < now)
        async with self._conn(write=True) as conn:
            failed = await conn.execute(
                update(t)
                .where(*lapsed, t.c.attempts >= t.c.max_attempts)
                .values(
                    status=FAILED,
                    claimed_by=None,
                    **self._interrupted,
                    finished_at=now,
                    expires_at=now + self.retention_seconds,
                )
            )
            again = await conn.execute(
                update(t)
                .where(*lapsed, t.c.attempts < t.c.max_attempts)
                .values(status=QUEUED, claimed_by=None)
            )
        return failed.rowcount + again.rowcount

    async def _claim_queued(
        self, oldest_first: ColumnElement[Any], limit: int, lease_seconds: float
    ) -> list[tuple[str, RowMapping]]:
        """Claim up to ``limit`` queued rows in the order of ``oldest_first``: (claim, row)
        of each this replica won. Each claim is its own conditional update: a row another
        replica took first leaves 0 rows changed and is passed over."""
        if limit <= 0:
            return []
        t = self._table
        async with self._conn(write=False) as conn:
            ids = (
                (
                    await conn.execute(
                        select(t.c.id)
                        .where(t.c.status == QUEUED)
                        .order_by(oldest_first)
                        .limit(limit * 2)
                    )
                )
                .scalars()
                .all()
            )
        won: list[tuple[str, RowMapping]] = []
        for row_id in ids:
            if len(won) >= limit:
                break
            claim = secrets.token_hex(8)
            now = self._clock()
            async with self._conn(write=True) as conn:
                done = await conn.execute(
                    update(t)
                    .where(t.c.id == row_id, t.c.status == QUEUED)
                    .values(
                        status=RUNNING,
                        claimed_by=claim,
                        attempts=t.c.attempts + 1,
                        lease_until=now + lease_seconds,
                        started_at=now,
                    )
                )
                if done.rowcount != 1:
                    continue
                row = (await conn.execute(select(t).where(t.c.id == row_id))).mappings().one()
            won.append((claim, row))
        return won

    async def _release(self, row_id: str, claim: str) -> None:
        """Give back a claimed row this replica's shutdown cut short: queued again, and
        the attempt it spent does not count (the function did not fail)."""
        t = self._table
        async with self._conn(write=True) as conn:
            await conn.execute(
                update(t)
                .where(*self._held(row_id, claim))
                .values(
                    status=QUEUED,
                    claimed_by=None,
                    lease_until=None,
                    attempts=t.c.attempts - 1,
                )
            )
