"""Single flight: concurrent misses for one key share one fetch."""

from __future__ import annotations

import asyncio

from isogate.singleflight import SingleFlight


async def test_concurrent_calls_share_one_fetch_and_the_next_miss_fetches_again() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    fetches = 0
    gate = asyncio.Event()

    async def fetch() -> int:
        nonlocal fetches
        fetches += 1
        await gate.wait()
        return fetches

    callers = [asyncio.create_task(flights.run("k", fetch)) for _ in range(10)]
    await asyncio.sleep(0)
    assert flights.joined("k") and not flights.joined("other")
    gate.set()
    assert await asyncio.gather(*callers) == [1] * 10
    assert fetches == 1 and not flights.joined("k")
    assert await flights.run("k", fetch) == 2  # landed: a later miss fetches anew


async def test_a_caller_going_away_does_not_cancel_the_others() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()

    async def fetch() -> str:
        await gate.wait()
        return "value"

    leaving = asyncio.create_task(flights.run("k", fetch))
    staying = asyncio.create_task(flights.run("k", fetch))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    gate.set()
    assert await staying == "value"
    assert leaving.cancelled()


async def test_a_failed_fetch_reaches_every_caller_and_is_not_kept() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    attempts = 0

    async def fetch() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        if attempts == 1:
            raise ConnectionError("store down")
        return "ok"

    results = await asyncio.gather(
        flights.run("k", fetch), flights.run("k", fetch), return_exceptions=True
    )
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert not flights.joined("k")
    assert await flights.run("k", fetch) == "ok"


async def test_keys_fly_separately() -> None:
    flights: SingleFlight[tuple[str, int], str] = SingleFlight()

    async def fetch(v: str) -> str:
        await asyncio.sleep(0)
        return v

    a, b = await asyncio.gather(
        flights.run(("d", 1), lambda: fetch("old")), flights.run(("d", 2), lambda: fetch("new"))
    )
    assert (a, b) == ("old", "new")
