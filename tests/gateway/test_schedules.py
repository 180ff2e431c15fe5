"""Cron schedules through the gateway app on the fake runtime, with the scheduler's clock
injected (no test waits for real minutes): deploy checks, one run per tick across two
replicas sharing a database, the missed-tick policy across a restart, retries and
``noRetry()``, the schedules view (tenant-scoped), metrics. Each runs on embedded SQLite
and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from isogate.gateway.app import create_app

from .conftest import assert_problem, bearer, make_settings, register
from .fake_runtime import FakeRuntime

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a tick of every cron used here
MIN = 60.0


class Clock:
    """The scheduler's (and the schedule store's) time, moved by the test."""

    def __init__(self, now: float = T0 + 1) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Replica:
    """One gateway app (its lifespan open) with an ASGI client."""

    def __init__(self, app: Any, client: httpx.AsyncClient, stack: contextlib.AsyncExitStack):
        self.app = app
        self.c = client
        self._stack = stack

    @property
    def svc(self) -> Any:
        return self.app.state.services

    @property
    def runtime(self) -> FakeRuntime:
        return self.svc.runtime

    @property
    def ticks(self) -> list[tuple[str, str, int]]:
        return self.runtime.ticks

    async def poll(self) -> int:
        n = await self.svc.scheduler.poll()
        await self.svc.scheduler.wait_idle()
        return n

    async def close(self) -> None:
        await self._stack.aclose()


@pytest.fixture
async def open_replica(tmp_path: Path, database_url: str | None) -> AsyncIterator[Any]:
    """Open gateway apps on one database (SQLite file or PostgreSQL); all closed at the end."""
    opened: list[Replica] = []

    async def open_(clock: Clock, **scheduler: Any) -> Replica:
        settings = make_settings(
            tmp_path,
            database_url=database_url,
            shutdown_timeout_seconds=2.6,  # a held run is given back after ~0.6 s
            scheduler={"poll_interval_seconds": 60, **scheduler},  # polled by the test
        )
        app = create_app(settings, runtime_factory=FakeRuntime, clock=clock)
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
        )
        replica = Replica(app, client, stack)
        if replica.svc.scheduler is not None:
            await replica.svc.scheduler.wait_idle()
        opened.append(replica)
        return replica

    try:
        yield open_
    finally:
        for r in opened:
            with contextlib.suppress(Exception):
                await r.close()


async def _deploy(c: httpx.AsyncClient, token: str, name: str, code: str, **body: Any):
    return await c.put(f"/v1/functions/{name}", headers=bearer(token), json={"code": code, **body})


async def test_deploy_validates_crons(open_replica) -> None:
    gw = await open_replica(Clock())
    token = await register(gw.c, "alice")
    for bad in ["*/5 * * *", "61 * * * *", "* * * * * *", "0 0 31 2 *", "x" * 150]:
        r = await _deploy(gw.c, token, "f", "ok", crons=["0 * * * *", bad])
        body = assert_problem(r, 400, "invalid-cron")
        assert body["cron"] == bad[:100], body
    r = await _deploy(
        gw.c, token, "f", "ok", crons=["* * * * *"] * 2 + [f"{m} * * * *" for m in range(6)]
    )
    assert_problem(r, 400, "invalid-cron")
    assert "at most 5 crons" in r.json()["detail"]
    r = await _deploy(
        gw.c, token, "f", "ok", crons=["*/5  *  * * *", "*/5 * * * *", "0 9 * * MON-FRI"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["crons"] == ["*/5 * * * *", "0 9 * * MON-FRI"]
    # a deploy without crons keeps them; [] removes them
    assert (await _deploy(gw.c, token, "f", "ok v2")).status_code == 201
    view = (await gw.c.get("/v1/functions/f/schedules", headers=bearer(token))).json()
    assert [s["cron"] for s in view["schedules"]] == ["*/5 * * * *", "0 9 * * MON-FRI"]
    assert (await _deploy(gw.c, token, "f", "ok v3", crons=[])).status_code == 201
    view = (await gw.c.get("/v1/functions/f/schedules", headers=bearer(token))).json()
    assert view["schedules"] == []


async def test_each_tick_runs_once_across_two_replicas(open_replica) -> None:
    clock = Clock()
    a = await open_replica(clock)
    b = await open_replica(clock)
    token = await register(a.c, "alice")
    r = await _deploy(a.c, token, "job", "ok", crons=["* * * * *", "*/2 * * * *"])
    assert r.status_code == 201, r.text
    for minute in range(1, 7):
        clock.now = T0 + minute * MIN + 0.5
        # both replicas look at the same moment, several times: one claim per tick wins
        await asyncio.gather(a.poll(), b.poll(), a.poll(), b.poll())
    ran = a.ticks + b.ticks
    expected = [("job", "* * * * *", int((T0 + m * MIN) * 1000)) for m in range(1, 7)] + [
        ("job", "*/2 * * * *", int((T0 + m * MIN) * 1000)) for m in (2, 4, 6)
    ]
    assert sorted(ran) == sorted(expected)  # every tick once: none lost, none twice
    view = (await a.c.get("/v1/functions/job/schedules", headers=bearer(token))).json()
    every = next(s for s in view["schedules"] if s["cron"] == "* * * * *")
    assert [x["scheduled_time_ms"] for x in every["last_runs"]][:3] == [
        int((T0 + m * MIN) * 1000) for m in (6, 5, 4)
    ]
    assert {x["status"] for x in every["last_runs"]} == {"succeeded"}
    assert all(x["http_status"] == 200 and x["attempts"] == 1 for x in every["last_runs"])
    # another tenant: 404, as for any name it does not own
    other = await register(a.c, "mallory")
    assert_problem(await a.c.get("/v1/functions/job/schedules", headers=bearer(other)), 404)
    # counted in the metrics of the replica that ran each tick
    text = (await a.c.get("/metrics")).text + (await b.c.get("/metrics")).text
    succeeded = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('isogate_cron_runs_total{outcome="succeeded"}')
    )
    assert succeeded == len(expected)
    assert "isogate_cron_lag_seconds_count" in text


async def test_restart_in_the_middle_loses_no_tick_and_runs_none_twice(open_replica) -> None:
    clock = Clock()
    a = await open_replica(clock)
    token = await register(a.c, "alice")
    assert (await _deploy(a.c, token, "held", "HOLD", crons=["* * * * *"])).status_code == 201
    clock.now = T0 + MIN + 0.5
    assert await a.svc.scheduler.poll() == 1  # the tick of minute 1 is running (held)
    for _ in range(1000):
        if a.ticks:
            break
        await asyncio.sleep(0.01)
    assert a.ticks == [("held", "* * * * *", int((T0 + MIN) * 1000))]
    await a.close()  # shutdown: the run is given back (queued, its attempt not counted)
    # down for 3 minutes: ticks of minutes 2, 3, 4 are missed, within catch_up_seconds
    clock.now = T0 + 4 * MIN + 0.5
    a2 = await open_replica(clock)
    a2.runtime.release.set()
    await a2.poll()
    ran = sorted(a2.ticks)
    assert ran == [("held", "* * * * *", int((T0 + m * MIN) * 1000)) for m in range(1, 5)]
    await a2.poll()  # nothing is due twice
    assert len(a2.ticks) == 4
    view = (await a2.c.get("/v1/functions/held/schedules", headers=bearer(token))).json()
    runs = view["schedules"][0]["last_runs"]
    assert [x["status"] for x in runs] == ["succeeded"] * 4
    assert [x["attempts"] for x in runs] == [1] * 4  # the given-back run spent no attempt


async def test_after_a_long_outage_only_the_latest_missed_tick_runs(open_replica) -> None:
    clock = Clock()
    a = await open_replica(clock, catch_up_seconds=90)
    token = await register(a.c, "alice")
    assert (await _deploy(a.c, token, "f", "ok", crons=["*/5 * * * *"])).status_code == 201
    clock.now = T0 + 5 * MIN + 1
    await a.poll()
    await a.close()
    clock.now = T0 + 60 * MIN + 30  # an hour later: ten ticks missed, each > 90 s late
    b = await open_replica(clock, catch_up_seconds=90)
    await b.poll()
    await b.poll()
    assert b.ticks == [("f", "*/5 * * * *", int((T0 + 60 * MIN) * 1000))]
    clock.now = T0 + 65 * MIN + 2
    await b.poll()
    assert b.ticks[-1] == ("f", "*/5 * * * *", int((T0 + 65 * MIN) * 1000))
    assert len(b.ticks) == 2


async def test_failed_runs_are_retried_then_failed_and_no_retry_stops_at_once(
    open_replica,
) -> None:
    clock = Clock()
    a = await open_replica(clock, max_attempts=3)
    token = await register(a.c, "alice")
    assert (await _deploy(a.c, token, "bad", "THROW", crons=["* * * * *"])).status_code == 201
    assert (
        await _deploy(a.c, token, "once", "THROW NORETRY", crons=["* * * * *"])
    ).status_code == 201
    clock.now = T0 + MIN + 0.5
    for _ in range(5):
        await a.poll()
    by_fn = {fn: sum(1 for t in a.ticks if t[0] == fn) for fn in ("bad", "once")}
    assert by_fn == {"bad": 3, "once": 1}
    view = (await a.c.get("/v1/functions/bad/schedules", headers=bearer(token))).json()
    run = view["schedules"][0]["last_runs"][0]
    assert run["status"] == "failed" and run["attempts"] == 3
    assert run["outcome"] == "js_error" and run["http_status"] == 500
    assert run["error"] == "Error: boom"
    view = (await a.c.get("/v1/functions/once/schedules", headers=bearer(token))).json()
    run = view["schedules"][0]["last_runs"][0]
    assert run["status"] == "failed" and run["attempts"] == 1 and run["no_retry"] is True
    # every attempt is an invocation record of the function
    recs = (await a.c.get("/v1/functions/bad/invocations", headers=bearer(token))).json()
    assert len(recs["invocations"]) == 3
    bad_run = (await a.c.get("/v1/functions/bad/schedules", headers=bearer(token))).json()
    run_id = bad_run["schedules"][0]["last_runs"][0]["id"]
    assert {r["id"] for r in recs["invocations"]} == {f"{run_id}-{n}" for n in (1, 2, 3)}


async def test_deleted_function_has_no_schedule(open_replica) -> None:
    clock = Clock()
    a = await open_replica(clock)
    token = await register(a.c, "alice")
    assert (await _deploy(a.c, token, "gone", "ok", crons=["* * * * *"])).status_code == 201
    assert (await a.c.delete("/v1/functions/gone", headers=bearer(token))).status_code == 204
    clock.now = T0 + 3 * MIN + 1
    await a.poll()
    assert a.ticks == []
    # the name deployed again starts without crons
    assert (await _deploy(a.c, token, "gone", "ok")).status_code == 201
    view = (await a.c.get("/v1/functions/gone/schedules", headers=bearer(token))).json()
    assert view["schedules"] == []


async def test_a_disabled_scheduler_claims_nothing(open_replica) -> None:
    clock = Clock()
    a = await open_replica(clock)
    token = await register(a.c, "alice")
    assert (await _deploy(a.c, token, "f", "ok", crons=["* * * * *"])).status_code == 201
    await a.close()
    settings_off = await open_replica(clock, enabled=False)
    assert settings_off.svc.scheduler is None
    view = (await settings_off.c.get("/v1/functions/f/schedules", headers=bearer(token))).json()
    assert view["scheduler_enabled"] is False
    assert view["schedules"][0]["next_run_ms"] > 0
