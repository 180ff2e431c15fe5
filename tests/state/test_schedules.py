"""Cron schedules in SQL (SQLite and PostgreSQL) and the missed-tick policy: concurrent
claims of one tick have one winner, the newest claimed tick survives the purge of run
rows, lapsed leases go back to the queue, crons keep their ``since`` across redeploys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.registry.tables import functions
from isogate.state.crons import InvalidCron, check_crons, due_ticks
from isogate.state.schedules import FAILED, QUEUED, RUNNING, SqlScheduleStore
from tests.state.conftest import Clock

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MIN = 60.0


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The folder's migrated database (conftest), with functions ``f`` and ``g``."""
    eng = engine
    async with eng.begin() as conn:
        await conn.execute(
            insert(functions),
            [
                {
                    "name": name,
                    "tenant": "t",
                    "current_version": 1,
                    "latest_version": 1,
                    "created_at": 1.0,
                    "updated_at": 1.0,
                }
                for name in ("f", "g")
            ],
        )
    yield eng


def _store(engine, clock: Clock) -> SqlScheduleStore:  # type: ignore[no-untyped-def]
    return SqlScheduleStore(engine, 10, retention_seconds=60.0, clock=clock)


async def test_one_claim_of_a_tick_wins(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    store = _store(engine, clock)
    await store.set_crons("f", "t", ["* * * * *"])
    (sched,) = await store.active()
    assert (sched.function, sched.tenant, sched.incarnation) == ("f", "t", 1.0)
    tick = int((T0 + MIN) * 1000)
    claims = await asyncio.gather(*(store.claim_tick(sched, tick, 30, 3) for _ in range(12)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].attempts == 1
    assert await store.count_runs("f") == 1
    assert await store.last_ticks() == {("f", "* * * * *"): tick}


async def test_last_tick_survives_the_purge_and_leases_lapse(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    store = _store(engine, clock)
    await store.set_crons("f", "t", ["* * * * *"])
    (sched,) = await store.active()
    tick = int((T0 + MIN) * 1000)
    run = await store.claim_tick(sched, tick, 30, 2)
    assert run is not None
    assert await store.finish(
        run, "succeeded", outcome="ok", http_status=200, error=None, duration_ms=1.0
    )
    # a second run whose replica dies: its lease lapses, it is queued, then failed
    run2 = await store.claim_tick(sched, tick + 60_000, 30, 2)
    assert run2 is not None
    clock.now += 31
    assert await store.expire_leases() == 1
    (again,) = await store.claim_queued(5, 30)
    assert again.id == run2.id and again.attempts == 2
    assert not await store.finish(  # the lost claim cannot store a result
        run2, "succeeded", outcome="ok", http_status=200, error=None, duration_ms=1.0
    )
    clock.now += 31
    await store.expire_leases()
    rows = {r["id"]: r for r in await store.runs("f", 10)}
    assert rows[run2.id]["status"] == FAILED and rows[run2.id]["outcome"] == "interrupted"
    clock.now += 120
    assert await store.purge() == 2
    assert await store.count_runs("f") == 0
    assert await store.last_ticks() == {("f", "* * * * *"): tick + 60_000}


async def test_retry_release_and_crons_keep_since(engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    store = _store(engine, clock)
    await store.set_crons("g", "t", ["0 * * * *", "30 * * * *"])
    clock.now += 100
    await store.set_crons("g", "t", ["30 * * * *", "45 * * * *"])
    assert await store.crons("g") == [("30 * * * *", T0), ("45 * * * *", T0 + 100)]
    sched = next(s for s in await store.active() if s.cron == "30 * * * *")
    run = await store.claim_tick(sched, 1, 30, 2)
    assert run is not None
    assert await store.retry(run, outcome="js_error", http_status=500, error="E", duration_ms=2)
    (row,) = await store.runs_of("g", "30 * * * *", 5)
    assert (row["status"], row["error"]) == (QUEUED, "E")
    (run,) = await store.claim_queued(5, 30)
    await store.release(run)  # not started: the attempt is not spent
    (run,) = await store.claim_queued(5, 30)
    assert run.attempts == 2
    (row,) = await store.runs_of("g", "30 * * * *", 5)
    assert row["status"] == RUNNING
    assert not await store.retry(
        run, outcome="js_error", http_status=500, error="E2", duration_ms=2
    )
    (row,) = await store.runs_of("g", "30 * * * *", 5)
    assert (row["status"], row["error"]) == (FAILED, "E2")


def test_missed_tick_policy() -> None:
    five = "*/5 * * * *"
    # due now: ticks after the last claimed one, at most catch_up late
    assert due_ticks(five, T0 - 3600, T0 - 600, T0 + 1, 3600) == [T0 - 300, T0]
    # a long outage: only the newest missed tick
    assert due_ticks(five, T0 - 86400, T0 - 36000, T0 + 1, 0) == [T0]
    assert due_ticks(five, T0 - 86400, T0 - 36000, T0 + 1, 301) == [T0 - 300, T0]
    # nothing before the cron was set, nothing claimed twice
    assert due_ticks(five, T0 + 0.5, 0, T0 + 1, 300) == []
    assert due_ticks(five, T0 - 1, T0, T0 + 1, 300) == []
    # a daily job missed by a week's outage runs once
    assert due_ticks("0 3 * * *", T0 - 30 * 86400, T0 - 7 * 86400, T0 + 4 * 3600, 300) == [
        T0 + 3 * 3600
    ]


def test_cron_checks() -> None:
    assert check_crons(["0  9 * * mon-fri"], max_crons=1) == ["0 9 * * mon-fri"]
    for bad in ("@hourly", "* * * *", "60 * * * *", "* * * * * *", "0 0 30 2 *", "* * * * é"):
        with pytest.raises(InvalidCron) as err:
            check_crons([bad], max_crons=5)
        assert err.value.cron == bad
    assert check_crons(["* * * * * */10"], max_crons=5, seconds=True) == ["* * * * * */10"]
    with pytest.raises(InvalidCron, match="at most 2 crons"):
        check_crons(["* * * * *"] * 3, max_crons=2)
