"""The queue and results of asynchronous invocations (``Prefer: respond-async``), in SQL.

The metadata database is the queue on the embedded default (SQLite) and in production
(PostgreSQL): an accepted invocation is a committed row before the caller hears ``202``.
Replicas claim work with ``UPDATE … SET status = 'running' WHERE id = :id AND status =
'queued'``: the database serialises the updates, so exactly one replica sees one row
changed and runs it. A claim holds a lease (``lease_until``); a replica that dies (or
loses its runtime worker) lets it expire and the row goes back to ``queued`` until
``max_attempts`` claims were spent, then it is ``failed``. Finished rows are kept until
``expires_at`` and then deleted by :meth:`SqlAsyncQueue.purge`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.state.errors import QueueFull as QueueFull  # re-exported (state/errors.py)
from isogate.state.leases import FAILED, QUEUED, RUNNING, LeasedStore
from isogate.state.leases import SUCCEEDED as SUCCEEDED  # the statuses are one set
from isogate.state.tables import async_invocations as t


@dataclass(frozen=True)
class Job:
    """A claimed invocation: what the runner needs to call the function."""

    id: str
    tenant: str
    function: str
    incarnation: float
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    attempts: int
    max_attempts: int
    claim: str


@dataclass(frozen=True)
class Response:
    """A function's answer (or the gateway's problem) stored as the result."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def new_id() -> str:
    """A random invocation id (the same form as synchronous ones)."""
    return "inv_" + secrets.token_hex(12)


class InvocationRow(TypedDict):
    """One row of ``async_invocations`` (state/tables.py), as :meth:`SqlAsyncQueue.get`
    answers it to the gateway."""

    id: str
    tenant: str
    function: str
    incarnation: float
    key_id: str | None
    status: str
    attempts: int
    max_attempts: int
    method: str
    url: str
    headers: list[list[str]]
    body: bytes
    claimed_by: str | None
    lease_until: float | None
    response_status: int | None
    response_headers: list[list[str]] | None
    response_body: bytes | None
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    expires_at: float | None


class SqlAsyncQueue(LeasedStore):
    """Asynchronous invocations in the metadata database (SQLite or PostgreSQL)."""

    _table = t
    _interrupted: ClassVar[dict[str, Any]] = {
        "error": "the invocation was interrupted on every attempt"
    }

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float,
        *,
        max_per_tenant: int,
        max_attempts: int,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(engine, timeout, retention_seconds=retention_seconds, clock=clock)
        self.max_per_tenant = max_per_tenant
        self.max_attempts = max_attempts

    async def unfinished(self, tenant: str) -> int:
        """How many of the tenant's invocations are queued or running."""
        async with self._conn(write=False) as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(t)
                        .where(t.c.tenant == tenant, t.c.status.in_((QUEUED, RUNNING)))
                    )
                ).scalar_one()
            )

    async def enqueue(
        self,
        inv_id: str,
        *,
        tenant: str,
        function: str,
        incarnation: float,
        key_id: str | None,
        method: str,
        url: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
    ) -> None:
        """Record an accepted invocation (committed when this returns); QueueFull when
        the tenant has ``max_per_tenant`` unfinished ones (checked in the same
        transaction: concurrent acceptances may overshoot by a few, never unboundedly)."""
        async with self._conn(write=True) as conn:
            count = (
                await conn.execute(
                    select(func.count())
                    .select_from(t)
                    .where(t.c.tenant == tenant, t.c.status.in_((QUEUED, RUNNING)))
                )
            ).scalar_one()
            if count >= self.max_per_tenant:
                raise QueueFull(
                    f"at most {self.max_per_tenant} asynchronous invocations may wait per tenant"
                )
            await conn.execute(
                insert(t).values(
                    id=inv_id,
                    tenant=tenant,
                    function=function,
                    incarnation=incarnation,
                    key_id=key_id,
                    status=QUEUED,
                    attempts=0,
                    max_attempts=self.max_attempts,
                    method=method,
                    url=url,
                    headers=[list(h) for h in headers],
                    body=body,
                    created_at=self._clock(),
                )
            )

    async def claim(self, limit: int, lease_seconds: float) -> list[Job]:
        """Claim up to ``limit`` queued invocations, oldest first. Each claim is its own
        conditional update: another replica that took a row first leaves 0 rows changed."""
        return [
            Job(
                id=row["id"],
                tenant=row["tenant"],
                function=row["function"],
                incarnation=row["incarnation"],
                method=row["method"],
                url=row["url"],
                headers=tuple((str(k), str(v)) for k, v in row["headers"]),
                body=bytes(row["body"]),
                attempts=row["attempts"],
                max_attempts=row["max_attempts"],
                claim=claim,
            )
            for claim, row in await self._claim_queued(t.c.created_at, limit, lease_seconds)
        ]

    async def finish(
        self, job: Job, status: str, response: Response | None, error: str | None
    ) -> bool:
        """Store the outcome of a claimed run; False when the claim was lost meanwhile
        (its lease lapsed and another replica owns the row now: that run's result wins)."""
        now = self._clock()
        async with self._conn(write=True) as conn:
            done = await conn.execute(
                update(t)
                .where(*self._held(job.id, job.claim))
                .values(
                    status=status,
                    claimed_by=None,
                    lease_until=None,
                    response_status=response.status if response else None,
                    response_headers=[list(h) for h in response.headers] if response else None,
                    response_body=response.body if response else None,
                    error=error[:4000] if error else None,
                    finished_at=now,
                    expires_at=now + self.retention_seconds,
                )
            )
        return done.rowcount == 1

    async def retry(self, job: Job, error: str) -> bool:
        """Give a claimed run back to the queue after an interruption of the runtime
        (a crashed worker), or fail it when its attempts are spent. True: queued again."""
        if job.attempts >= job.max_attempts:
            await self.finish(job, FAILED, None, error)
            return False
        async with self._conn(write=True) as conn:
            await conn.execute(
                update(t)
                .where(*self._held(job.id, job.claim))
                .values(status=QUEUED, claimed_by=None, lease_until=None, error=error[:4000])
            )
        return True

    async def release(self, job: Job) -> None:
        """Give back a run cut short by this replica's shutdown: queued again, and the
        attempt it spent does not count (the function did not fail)."""
        await self._release(job.id, job.claim)

    async def get(self, inv_id: str) -> InvocationRow | None:
        """The row of an invocation (None: unknown or purged)."""
        async with self._conn(write=False) as conn:
            row = (await conn.execute(select(t).where(t.c.id == inv_id))).mappings().first()
        # the columns are the TypedDict's keys (one table definition, state/tables.py)
        return cast(InvocationRow, dict(row)) if row is not None else None

    async def purge(self) -> int:
        """Delete finished invocations whose retention ended."""
        async with self._conn(write=True) as conn:
            gone = await conn.execute(delete(t).where(t.c.expires_at < self._clock()))
        return gone.rowcount
