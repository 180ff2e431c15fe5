"""Cron schedules of functions and the runs of their ticks, in SQL (issue 23).

A function's crons (``function_crons``) are set at deploy. Each replica's scheduler
(:mod:`isogate.gateway.scheduler`) claims a due tick by inserting its run row, unique on
(function, cron, scheduled time), with "insert or nothing" (``ON CONFLICT DO NOTHING`` on
SQLite and PostgreSQL): whichever replica's insert lands runs the tick, the others' insert
nothing. The run then holds a lease as an asynchronous invocation does
(:mod:`isogate.state.async_queue`): a replica that dies lets it lapse and the run is
queued again; a failed run is queued again until ``max_attempts`` unless the handler
called ``controller.noRetry()``. Finished rows are kept until ``expires_at``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from isogate.registry.tables import functions
from isogate.state.leases import FAILED, QUEUED, RUNNING, LeasedStore
from isogate.state.leases import SUCCEEDED as SUCCEEDED  # the statuses are one set
from isogate.state.tables import cron_runs as r
from isogate.state.tables import function_crons as c


@dataclass(frozen=True, slots=True)
class Schedule:
    """One cron of one function, as the scheduler iterates it."""

    function: str
    tenant: str
    incarnation: float
    cron: str
    since: float


@dataclass(frozen=True, slots=True)
class Run:
    """A claimed run of a tick: what the scheduler needs to call the function."""

    id: str
    function: str
    tenant: str
    incarnation: float
    cron: str
    scheduled_at: int  # Unix ms
    attempts: int
    max_attempts: int
    claim: str


def new_run_id() -> str:
    """A random run id; also the invocation id of its record and logs."""
    return "run_" + secrets.token_hex(12)


def _insert_or_nothing(dialect: str) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    if dialect not in ("postgresql", "sqlite"):
        return None
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(r)
    return stmt.on_conflict_do_nothing(index_elements=[r.c.function, r.c.cron, r.c.scheduled_at])


class SqlScheduleStore(LeasedStore):
    """Crons and cron runs in the metadata database (SQLite or PostgreSQL)."""

    _table = r
    _interrupted: ClassVar[dict[str, Any]] = {
        "outcome": "interrupted",
        "error": "the run was interrupted on every attempt",
    }

    # -- crons -------------------------------------------------------------------------

    async def set_crons(self, function: str, tenant: str, crons: list[str]) -> None:
        """Make ``crons`` the function's crons; one it had already keeps its ``since``
        (a redeploy does not skip a tick that is due meanwhile)."""
        now = self._clock()
        async with self._conn(write=True) as conn:
            have = set(
                (await conn.execute(select(c.c.cron).where(c.c.function == function)))
                .scalars()
                .all()
            )
            gone = have - set(crons)
            if gone:
                await conn.execute(delete(c).where(c.c.function == function, c.c.cron.in_(gone)))
            new = [x for x in crons if x not in have]
            if new:
                await conn.execute(
                    insert(c),
                    [
                        {"function": function, "cron": x, "tenant": tenant, "since": now}
                        for x in new
                    ],
                )

    async def crons(self, function: str) -> list[tuple[str, float]]:
        """(cron, since) of a function, in the order of their expressions."""
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(c.c.cron, c.c.since).where(c.c.function == function).order_by(c.c.cron)
            )
            return [(row.cron, row.since) for row in rows]

    async def active(self) -> list[Schedule]:
        """Every cron of every function, with the function's tenant and incarnation."""
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(
                    c.c.function, functions.c.tenant, functions.c.created_at, c.c.cron, c.c.since
                ).join(functions, functions.c.name == c.c.function)
            )
            return [
                Schedule(row.function, row.tenant, row.created_at, row.cron, row.since)
                for row in rows
            ]

    async def last_ticks(self) -> dict[tuple[str, str], int]:
        """The newest tick already claimed of each (function, cron), Unix ms."""
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(c.c.function, c.c.cron, c.c.last_tick).where(c.c.last_tick.is_not(None))
            )
            return {(row[0], row[1]): int(row[2]) for row in rows}

    # -- runs ----------------------------------------------------------------------------

    async def claim_tick(
        self, schedule: Schedule, scheduled_at: int, lease_seconds: float, max_attempts: int
    ) -> Run | None:
        """Claim one tick: its run row inserted as ``running`` by this replica, or None
        when another replica (or this one, earlier) claimed it first."""
        now = self._clock()
        run_id = new_run_id()
        claim = secrets.token_hex(8)
        values = {
            "id": run_id,
            "function": schedule.function,
            "cron": schedule.cron,
            "scheduled_at": scheduled_at,
            "tenant": schedule.tenant,
            "incarnation": schedule.incarnation,
            "status": RUNNING,
            "attempts": 1,
            "max_attempts": max_attempts,
            "claimed_by": claim,
            "lease_until": now + lease_seconds,
            "no_retry": False,
            "created_at": now,
            "started_at": now,
        }
        try:
            async with self._conn(write=True) as conn:
                stmt = _insert_or_nothing(conn.dialect.name)
                if stmt is None:  # another database: a plain insert, its conflict caught
                    stmt = insert(r)
                done = await conn.execute(stmt, values)
                if done.rowcount == 1:
                    await conn.execute(
                        update(c)
                        .where(
                            c.c.function == schedule.function,
                            c.c.cron == schedule.cron,
                            or_(c.c.last_tick.is_(None), c.c.last_tick < scheduled_at),
                        )
                        .values(last_tick=scheduled_at)
                    )
        except IntegrityError:  # claimed already, or the function was deleted meanwhile
            return None
        if done.rowcount != 1:
            return None
        return Run(
            run_id,
            schedule.function,
            schedule.tenant,
            schedule.incarnation,
            schedule.cron,
            scheduled_at,
            1,
            max_attempts,
            claim,
        )

    async def claim_queued(self, limit: int, lease_seconds: float) -> list[Run]:
        """Claim up to ``limit`` queued runs (retries, runs given back), oldest tick
        first; each claim is a conditional update, so one replica wins each."""
        return [
            Run(
                row["id"],
                row["function"],
                row["tenant"],
                row["incarnation"],
                row["cron"],
                int(row["scheduled_at"]),
                row["attempts"],
                row["max_attempts"],
                claim,
            )
            for claim, row in await self._claim_queued(r.c.scheduled_at, limit, lease_seconds)
        ]

    async def finish(
        self,
        run: Run,
        status: str,
        *,
        outcome: str,
        http_status: int | None,
        error: str | None,
        duration_ms: float | None,
        no_retry: bool = False,
    ) -> bool:
        """Store the outcome of a claimed run; False when the claim was lost meanwhile."""
        now = self._clock()
        async with self._conn(write=True) as conn:
            done = await conn.execute(
                update(r)
                .where(*self._held(run.id, run.claim))
                .values(
                    status=status,
                    claimed_by=None,
                    lease_until=None,
                    outcome=outcome[:32],
                    http_status=http_status,
                    error=error[:4000] if error else None,
                    no_retry=no_retry,
                    finished_at=now,
                    duration_ms=duration_ms,
                    expires_at=now + self.retention_seconds,
                )
            )
        return done.rowcount == 1

    async def retry(
        self,
        run: Run,
        *,
        outcome: str,
        http_status: int | None,
        error: str | None,
        duration_ms: float | None,
    ) -> bool:
        """A failed attempt: queued again while attempts remain (True), else failed."""
        if run.attempts >= run.max_attempts:
            await self.finish(
                run,
                FAILED,
                outcome=outcome,
                http_status=http_status,
                error=error,
                duration_ms=duration_ms,
            )
            return False
        async with self._conn(write=True) as conn:
            await conn.execute(
                update(r)
                .where(*self._held(run.id, run.claim))
                .values(
                    status=QUEUED,
                    claimed_by=None,
                    lease_until=None,
                    outcome=outcome[:32],
                    http_status=http_status,
                    error=error[:4000] if error else None,
                    duration_ms=duration_ms,
                )
            )
        return True

    async def release(self, run: Run) -> None:
        """Give back a run this replica did not start (shutting down): queued again, its
        attempt not counted."""
        await self._release(run.id, run.claim)

    async def runs(self, function: str, limit: int) -> list[dict[str, Any]]:
        """The function's latest runs, newest tick first."""
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(r)
                .where(r.c.function == function)
                .order_by(r.c.scheduled_at.desc(), r.c.cron)
                .limit(limit)
            )
            return [dict(row) for row in rows.mappings()]

    async def runs_of(self, function: str, cron: str, limit: int) -> list[dict[str, Any]]:
        """The latest runs of one cron of a function, newest tick first."""
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(r)
                .where(r.c.function == function, r.c.cron == cron)
                .order_by(r.c.scheduled_at.desc())
                .limit(limit)
            )
            return [dict(row) for row in rows.mappings()]

    async def count_runs(self, function: str, status: str | None = None) -> int:
        """How many run rows the function has (of one status)."""
        cond = [r.c.function == function]
        if status is not None:
            cond.append(r.c.status == status)
        async with self._conn(write=False) as conn:
            return int(
                (
                    await conn.execute(select(func.count()).select_from(r).where(and_(*cond)))
                ).scalar_one()
            )

    async def purge(self) -> int:
        """Delete finished runs whose retention ended."""
        async with self._conn(write=True) as conn:
            gone = await conn.execute(delete(r).where(r.c.expires_at < self._clock()))
        return gone.rowcount
