"""The SQL queue of asynchronous invocations on SQLite and PostgreSQL: concurrent claimers
never take the same row, lapsed leases go back to the queue (or fail when spent), a lost
claim cannot store a result, finished rows are purged after their retention."""

from __future__ import annotations

import asyncio

import pytest

from isogate.state.async_queue import (
    FAILED,
    QUEUED,
    SUCCEEDED,
    QueueFull,
    Response,
    SqlAsyncQueue,
    new_id,
)
from tests.state.conftest import Clock

START = 1_000_000.0


def _queue(engine, clock: Clock, **kw) -> SqlAsyncQueue:  # type: ignore[no-untyped-def]
    opts = {"max_per_tenant": 100, "max_attempts": 2, "retention_seconds": 60.0, **kw}
    return SqlAsyncQueue(engine, 10, clock=clock, **opts)


async def _put(q: SqlAsyncQueue, tenant: str = "t") -> str:
    inv = new_id()
    await q.enqueue(
        inv,
        tenant=tenant,
        function="f",
        incarnation=1.0,
        key_id="k",
        method="POST",
        url="http://x/",
        headers=(("a", "b"),),
        body=b"\x00body",
    )
    return inv


async def test_concurrent_claims_are_disjoint(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START)
    q = _queue(engine, clock)
    ids = {await _put(q) for _ in range(20)}
    claimers = [_queue(engine, clock) for _ in range(4)]
    batches = await asyncio.gather(*(c.claim(20, 30) for c in claimers))
    taken = [j.id for b in batches for j in b]
    assert len(taken) == len(set(taken)) == 20 and set(taken) == ids
    job = batches[0][0] if batches[0] else next(b[0] for b in batches if b)
    assert job.body == b"\x00body" and job.headers == (("a", "b"),) and job.attempts == 1
    assert await q.claim(5, 30) == []


async def test_lapsed_lease_requeues_then_fails(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START)
    q = _queue(engine, clock)
    inv = await _put(q)
    (first,) = await q.claim(1, 30)
    clock.now += 10
    assert await q.expire_leases() == 0  # still leased
    clock.now += 30
    assert await q.expire_leases() == 1
    assert (await q.get(inv))["status"] == QUEUED  # type: ignore[index]
    (second,) = await q.claim(1, 30)
    assert second.attempts == 2
    # the first claim lapsed: its late result is not stored over the second run's
    assert not await q.finish(first, SUCCEEDED, Response(200, [], b"late"), None)
    clock.now += 31
    assert await q.expire_leases() == 1
    row = await q.get(inv)
    assert row is not None and row["status"] == FAILED and row["response_status"] is None


async def test_release_does_not_spend_an_attempt_and_purge(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START)
    q = _queue(engine, clock)
    inv = await _put(q)
    (job,) = await q.claim(1, 30)
    await q.release(job)
    (job,) = await q.claim(1, 30)
    assert job.attempts == 1
    assert await q.finish(job, SUCCEEDED, Response(201, [("x", "y")], b"ok"), None)
    row = await q.get(inv)
    assert (
        row is not None and row["response_status"] == 201 and bytes(row["response_body"]) == b"ok"
    )
    clock.now += 59
    assert await q.purge() == 0
    clock.now += 2
    assert await q.purge() == 1 and await q.get(inv) is None


async def test_bound_per_tenant(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START)
    q = _queue(engine, clock, max_per_tenant=2)
    await _put(q)
    await _put(q)
    with pytest.raises(QueueFull):
        await _put(q)
    await _put(q, tenant="other")  # another tenant's queue is its own
    assert await q.unfinished("t") == 2
