"""Invocation records on SQLite and PostgreSQL: retention, order, awkward text."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.registry.invocations import SqlInvocationLog
from isogate.registry.models import InvocationRecord


def rec(n: int, fn: str = "hello", **kw: object) -> InvocationRecord:
    values: dict = {
        "id": f"inv_{n:04d}",
        "function": fn,
        "version": 1,
        "time": 1000.0 + n,
        "status": 200,
        "outcome": "ok",
        "duration_ms": 1.5,
        "cold": n == 0,
        "logs": (f"line {n}",),
        "error": None,
        **kw,
    }
    return InvocationRecord(**values)


async def test_retention_and_order(engine: AsyncEngine) -> None:
    log = SqlInvocationLog(engine, 5, retention=3)
    for n in range(5):
        log.record(rec(n))
    log.record(rec(99, fn="other"))
    got = await log.recent("hello", 10)
    assert [r.id for r in got] == ["inv_0004", "inv_0003", "inv_0002"]
    assert got[0].logs == ("line 4",) and got[0].cold is False
    assert [r.id for r in await log.recent("other", 10)] == ["inv_0099"]


async def test_awkward_text_is_kept(engine: AsyncEngine) -> None:
    log = SqlInvocationLog(engine, 5, retention=10)
    log.record(rec(1, logs=("nul \x00 here", "é 😀", "\ud800?"), error="Error: a\x00b"))
    (got,) = await log.recent("hello", 10)
    assert got.logs == ("nul \ufffd here", "é 😀", "??")  # the same on both databases
    assert got.error == "Error: a\ufffdb"


async def test_only_what_retention_keeps_is_queued(engine: AsyncEngine) -> None:
    """Between flushes, a hot function queues at most ``retention`` records (older ones
    would be pruned right after being written); other functions keep theirs."""
    log = SqlInvocationLog(engine, 5, retention=3)
    for n in range(1000):
        log.record(rec(n, logs=()))
    log.record(rec(5000, fn="other"))
    assert sum(len(q) for q in log._pending.values()) == 4
    got = await log.recent("hello", 10)
    assert [r.id for r in got] == ["inv_0999", "inv_0998", "inv_0997"]
    log.record(rec(1000, logs=()))  # after a flush: counted afresh, older rows pruned
    assert [r.id for r in await log.recent("hello", 10)] == ["inv_1000", "inv_0999", "inv_0998"]
    assert [r.id for r in await log.recent("other", 10)] == ["inv_5000"]


async def test_one_flush_prunes_every_touched_function(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning runs one statement per chunk of functions: each keeps its own newest
    ``retention`` rows, across chunk boundaries too, and untouched functions keep all."""
    import isogate.registry.invocations as module

    monkeypatch.setattr(module, "PRUNE_CHUNK", 3)  # 7 functions: three chunks
    log = SqlInvocationLog(engine, 5, retention=2)
    log.record(rec(9000, fn="untouched"))
    await log.flush()
    for round_ in range(3):
        for f in range(7):
            log.record(rec(round_ * 100 + f, fn=f"f{f}", time=1000.0 + round_ * 100 + f))
        await log.flush()
    for f in range(7):
        got = await log.recent(f"f{f}", 10)
        assert [r.id for r in got] == [f"inv_{200 + f:04d}", f"inv_{100 + f:04d}"]
    assert [r.id for r in await log.recent("untouched", 10)] == ["inv_9000"]
