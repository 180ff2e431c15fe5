"""The periodic background task behind the write-behind flushers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from isogate.periodic import Periodic

LOG = logging.getLogger("tests.periodic")


class _Outage(Exception):
    pass


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_runs_again_after_a_failing_step_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")

    periodic = Periodic(step, 0.01, name="t", log=LOG, failure="flush failed")
    with caplog.at_level(logging.ERROR, logger="tests.periodic"):
        periodic.start()
        await _until(lambda: calls >= 3)
        await periodic.stop()
    assert [r.getMessage() for r in caplog.records] == ["flush failed"]


async def test_quiet_failures_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        raise _Outage

    periodic = Periodic(step, 0.01, name="t", log=LOG, failure="flush failed", quiet=(_Outage,))
    with caplog.at_level(logging.ERROR, logger="tests.periodic"):
        periodic.start()
        await _until(lambda: calls >= 2)
        await periodic.stop()
    assert caplog.records == []


async def test_start_is_idempotent_and_stop_ends_the_task() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1

    periodic = Periodic(step, 0.01, name="t", log=LOG, failure="x")
    periodic.start()
    periodic.start()  # one task, not two
    assert periodic.running
    assert sum(t.get_name() == "t" for t in asyncio.all_tasks()) == 1
    await _until(lambda: calls >= 1)
    await periodic.stop()
    assert not periodic.running
    assert not any(t.get_name() == "t" for t in asyncio.all_tasks())
    stopped_at = calls
    await asyncio.sleep(0.05)
    assert calls == stopped_at
    await periodic.stop()  # stopping twice is harmless


async def test_stop_lets_a_step_in_progress_finish() -> None:
    # A flush cut in the middle lost the counts it had taken: the graceful-restart loss
    # of key uses (issue 16). stop() must wait for the step, not cancel it.
    entered, release = asyncio.Event(), asyncio.Event()
    finished = []

    async def step() -> None:
        entered.set()
        await release.wait()
        finished.append(True)

    periodic = Periodic(step, 0.001, name="t", log=LOG, failure="flush failed")
    periodic.start()
    await entered.wait()
    stopping = asyncio.create_task(periodic.stop())
    await asyncio.sleep(0)  # stop() has run up to its wait
    assert not stopping.done()
    release.set()
    await stopping
    assert finished == [True] and not periodic.running


async def test_stop_between_steps_returns_at_once() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1

    periodic = Periodic(step, 3600, name="t", log=LOG, failure="flush failed")
    periodic.start()
    await asyncio.sleep(0)
    await periodic.stop()  # asleep for an hour: cancelled, nothing in progress
    assert calls == 0
