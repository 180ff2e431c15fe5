"""Invocation records for the function's owner: written behind in batches, bounded per
function (the newest ``retention`` are kept).

Each record carries the owner and the incarnation of the function that ran (its
``created_at``): reads filter on both, and a delete drops what is still queued, so the
next owner of a name, or the same owner after a redeploy from scratch, never sees the
records of the incarnation before (issue 24)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

from sqlalchemy import Delete, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.periodic import Periodic
from isogate.registry.errors import StoreUnavailable
from isogate.registry.models import InvocationRecord
from isogate.registry.tables import invocations

log = logging.getLogger(__name__)

MAX_LOG_LINES = 100
MAX_LINE = 2000
MAX_PENDING = 10_000
PRUNE_CHUNK = 500  # functions per prune statement (well under SQL parameter limits)


def _text(s: str) -> str:
    """Text every database stores: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if s.isascii() and "\x00" not in s:
        return s
    return s.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


class InvocationLog(Protocol):
    """Recent invocations per function."""

    def record(self, rec: InvocationRecord) -> None: ...
    def forget(self, function: str) -> None: ...
    async def recent(
        self,
        function: str,
        limit: int,
        *,
        tenant: str | None = None,
        incarnation: float | None = None,
    ) -> list[InvocationRecord]: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class SqlInvocationLog:
    """Records in SQL. ``record`` never blocks; a flusher writes batches and prunes."""

    def __init__(
        self, engine: AsyncEngine, timeout: float, retention: int, interval: float = 0.5
    ) -> None:
        self._engine = engine
        self._timeout = timeout
        self._retention = retention
        # Per function, only the newest ``retention`` can survive the prune that follows
        # every write: older ones are dropped here instead of written and deleted (at
        # thousands of invocations per second that was most of the database's work).
        self._pending: dict[tuple[str, str, float], deque[InvocationRecord]] = {}
        self._count = 0
        self._lock = asyncio.Lock()
        self._flusher = Periodic(
            self.flush,
            interval,
            name="isogate-invocation-flush",
            log=log,
            failure="writing invocation records failed",
        )

    def record(self, rec: InvocationRecord) -> None:
        """Queue a record (dropped, with a log line, if the queue is full)."""
        ident = (rec.function, rec.tenant, rec.incarnation)
        queue = self._pending.get(ident)
        if queue is None or len(queue) < self._retention:
            if self._count >= MAX_PENDING:
                log.warning("invocation record queue full; dropping a record")
                return
            self._count += 1
            if queue is None:
                queue = self._pending[ident] = deque(maxlen=self._retention)
        # else the oldest queued record of this function falls out (it would be pruned)
        if not rec.logs and not rec.error:
            queue.append(rec)
            return
        logs = tuple(_text(line[:MAX_LINE]) for line in rec.logs[:MAX_LOG_LINES])
        if len(rec.logs) > MAX_LOG_LINES:
            logs += (f"... {len(rec.logs) - MAX_LOG_LINES} more lines",)
        queue.append(
            InvocationRecord(
                id=rec.id,
                function=rec.function,
                version=rec.version,
                time=rec.time,
                status=rec.status,
                outcome=rec.outcome,
                duration_ms=rec.duration_ms,
                cold=rec.cold,
                logs=logs,
                error=_text(rec.error[:MAX_LINE]) if rec.error else None,
                tenant=rec.tenant,
                incarnation=rec.incarnation,
            )
        )

    def forget(self, function: str) -> None:
        """Drop the queued records of ``function`` (it was deleted: written after the
        delete, they were the next owner's to read)."""
        for ident in [i for i in self._pending if i[0] == function]:
            self._count -= len(self._pending.pop(ident))

    async def start(self) -> None:
        """Start the flusher."""
        self._flusher.start()

    async def close(self) -> None:
        """Stop the flusher and write what is pending."""
        await self._flusher.stop()
        with contextlib.suppress(Exception):
            await self.flush()

    async def flush(self) -> None:
        """Write pending records and prune each touched function to ``retention``."""
        async with self._lock:
            queued, self._pending, self._count = self._pending, {}, 0
            if not queued:
                return
            batch = [r for queue in queued.values() for r in queue]
            touched = {ident[0] for ident in queued}
            rows = [
                {
                    "id": r.id,
                    "function": r.function,
                    "version": r.version,
                    "time": r.time,
                    "status": r.status,
                    "outcome": r.outcome,
                    "duration_ms": r.duration_ms,
                    "cold": r.cold,
                    "logs": list(r.logs),
                    "error": r.error,
                    "tenant": r.tenant,
                    "incarnation": r.incarnation,
                }
                for r in batch
            ]
            try:
                async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                    await conn.execute(insert(invocations), rows)
                    # One statement per chunk of functions, not one per function: a burst
                    # touching hundreds of functions paid a round trip (and a statement
                    # build) for each on the event loop.
                    names = sorted(touched)
                    for i in range(0, len(names), PRUNE_CHUNK):
                        await conn.execute(self._prune(names[i : i + PRUNE_CHUNK]))
            except TimeoutError:
                raise StoreUnavailable("metadata store timed out") from None

    def _prune(self, names: list[str]) -> Delete:
        """Delete all but the newest ``retention`` records of each function in ``names``."""
        ranked = (
            select(
                invocations.c.id,
                func.row_number()
                .over(partition_by=invocations.c.function, order_by=invocations.c.time.desc())
                .label("rank"),
            )
            .where(invocations.c.function.in_(names))
            .subquery()
        )
        stale = select(ranked.c.id).where(ranked.c.rank > self._retention)
        return delete(invocations).where(invocations.c.id.in_(stale))

    async def recent(
        self,
        function: str,
        limit: int,
        *,
        tenant: str | None = None,
        incarnation: float | None = None,
    ) -> list[InvocationRecord]:
        """The newest records of ``function``, newest first; of ``tenant``'s incarnation
        ``incarnation`` of it when given (the owner's view)."""
        await self.flush()
        query = select(invocations).where(invocations.c.function == function)
        if tenant is not None:
            query = query.where(invocations.c.tenant == tenant)
        if incarnation is not None:
            query = query.where(invocations.c.incarnation == incarnation)
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                rows = await conn.execute(
                    query.order_by(invocations.c.time.desc()).limit(min(limit, self._retention))
                )
                return [
                    InvocationRecord(
                        id=r.id,
                        function=r.function,
                        version=r.version,
                        time=r.time,
                        status=r.status,
                        outcome=r.outcome,
                        duration_ms=r.duration_ms,
                        cold=bool(r.cold),
                        logs=tuple(r.logs),
                        error=r.error,
                        tenant=r.tenant or "",
                        incarnation=r.incarnation or 0.0,
                    )
                    for r in rows
                ]
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
