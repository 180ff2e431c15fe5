"""Fixtures: a real Runtime with real worker processes and real V8 isolates."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import FunctionRef, InvokeRequest, Runtime

_versions = itertools.count(1)


def fn(source: str, name: str = "fn", tenant: str = "t1", **kw: object) -> FunctionRef:
    """A function version with a fresh version number (so each test's code is distinct)."""
    return FunctionRef(
        name=name,
        version=next(_versions),
        tenant=tenant,
        sha256=hashlib.sha256(source.encode()).hexdigest(),
        source=source,
        **kw,  # type: ignore[arg-type]
    )


def get(url: str = "http://example.com/", **kw: object) -> InvokeRequest:
    return InvokeRequest("GET", url, **kw)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait for ``condition`` (an event such as a worker restart), not for a fixed time:
    on a busy shared machine a worker restart alone can take several seconds. The bound
    only stops a test that would otherwise hang."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:.0f} s: {what}") from None


@pytest.fixture
async def make_runtime() -> AsyncIterator[Callable[..., Awaitable[Runtime]]]:
    """Start runtimes with custom settings; all are closed at the end of the test."""
    started: list[Runtime] = []

    async def make(egress: object = None, **settings: object) -> Runtime:
        rt = Runtime(RuntimeSettings(**settings), egress=egress)  # type: ignore[arg-type]
        await rt.start()
        started.append(rt)
        return rt

    try:
        yield make
    finally:
        for rt in started:
            await rt.close()


@pytest.fixture
async def runtime(make_runtime: Callable[..., Awaitable[Runtime]]) -> Runtime:
    return await make_runtime(workers=1, threads_per_worker=2)
