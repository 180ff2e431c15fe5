"""Issue 15.3: queueing in front of the executors is fair between tenants.

Against a real runtime (worker processes, V8 isolates). Assertions are on order and
counts, never on wall time: tenant A's backlog may delay tenant B's call by at most
one dispatch per waiting tenant (docs/reliability.md), a tenant over its queue cap is
refused alone, and callers who leave free their places at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import Runtime
from isogate.runtime.types import Outcome
from tests.runtime.conftest import fn, get

SLOW = """
export default {
  fetch() {
    const t = Date.now();
    while (Date.now() - t < 40) {}
    return new Response("a");
  },
};
"""
CANARY = 'export default { fetch() { return new Response("b"); } };'
THREADS = 2

MakeRuntime = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def make_runtime() -> AsyncIterator[MakeRuntime]:
    """Real runtimes (worker processes, V8 isolates), closed at the end of the test."""
    started: list[Runtime] = []

    async def make(**settings: object) -> Runtime:
        rt = Runtime(RuntimeSettings(**settings))  # type: ignore[arg-type]
        await rt.start()
        started.append(rt)
        return rt

    try:
        yield make
    finally:
        for rt in started:
            await rt.close()


async def _warm(rt: Runtime, *refs: object) -> None:
    for ref in refs:
        assert (await rt.invoke(ref, get())).ok  # type: ignore[arg-type]


async def test_another_tenants_backlog_delays_a_call_by_a_bounded_number_of_dispatches(
    make_runtime: MakeRuntime,
) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=THREADS)
    slow, canary = fn(SLOW, "slow", tenant="a"), fn(CANARY, "canary", tenant="b")
    await _warm(rt, slow, canary)
    done: list[str] = []

    async def call(ref: object, tag: str) -> None:
        result = await rt.invoke(ref, get())  # type: ignore[arg-type]
        assert result.ok, result
        done.append(tag)

    backlog = [asyncio.create_task(call(slow, "a")) for _ in range(20)]
    await asyncio.sleep(0)  # A's 20 are running or queued before B arrives
    assert rt.stats().queue_depth >= 20 - THREADS
    await asyncio.gather(call(canary, "b"), *backlog)
    ahead = done.index("b")
    # FIFO put B behind all 20. In turns, B waits for at most the calls running when it
    # came, plus one dispatch of A's (A's turn came first), per executor.
    assert ahead <= 2 * THREADS, done


async def test_a_tenant_over_its_queue_cap_is_refused_alone(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=THREADS, max_queue_per_tenant=5)
    slow, canary = fn(SLOW, "slow", tenant="a"), fn(CANARY, "canary", tenant="b")
    await _warm(rt, slow, canary)
    flood = [asyncio.create_task(rt.invoke(slow, get())) for _ in range(12)]
    await asyncio.sleep(0)
    b = await rt.invoke(canary, get())  # B is not refused while A's queue is full
    outcomes = [r.outcome for r in await asyncio.gather(*flood)]
    assert b.ok, b
    # THREADS ran at once, 5 waited, the rest were refused at A's cap
    assert outcomes.count(Outcome.BUSY) == 12 - THREADS - 5, outcomes
    assert outcomes.count(Outcome.OK) == THREADS + 5, outcomes


async def test_callers_who_leave_free_their_queue_places_at_once(
    make_runtime: MakeRuntime,
) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=THREADS, max_queue_per_tenant=5)
    slow = fn(SLOW, "slow", tenant="a")
    await _warm(rt, slow)
    gone = [asyncio.create_task(rt.invoke(slow, get())) for _ in range(THREADS + 5)]
    await asyncio.sleep(0)
    assert rt.stats().queue_depth == 5
    for task in gone:
        task.cancel()  # what the gateway does when the client resets or closes
    await asyncio.gather(*gone, return_exceptions=True)
    stats = rt.stats()
    assert stats.queue_depth == 0  # the places are free now, not at queue_timeout_ms
    assert stats.abandoned_queued == 5 and stats.abandoned_running == THREADS
    # so A's next 5 calls queue (and run) instead of being refused (the running ones
    # still hold their executors until their eval returns: the next safe point)
    again = await asyncio.gather(*(rt.invoke(slow, get()) for _ in range(5)))
    assert all(r.ok for r in again), [r.outcome for r in again]
