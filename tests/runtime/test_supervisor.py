"""The supervisor's deadline sweep, as a unit over fake workers (the real process
behaviour is covered in test_runtime.py: queue bounds, timeouts, crashes)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import supervisor as sup
from isogate.runtime.types import FunctionRef, InvokeRequest, Outcome

REF = FunctionRef(name="f", version=1, tenant="t", sha256="ab" * 32)


class FakeProc:
    returncode = None
    killed = 0

    def kill(self) -> None:
        self.killed += 1


def runtime_with_call(deadline: float, *, abandoned: bool = False) -> tuple[Any, Any, Any]:
    rt = sup.Runtime(RuntimeSettings(queue_timeout_ms=100), worker_home="/nonexistent")
    w = rt._workers[0]
    w.proc = FakeProc()  # type: ignore[assignment]
    loop = asyncio.get_running_loop()
    pending = sup._Pending(REF, InvokeRequest("GET", "http://x/"), loop.create_future(), 0.0)
    ex = sup._Executor(w, 0)
    call = sup._Call(1, pending, ex, 0.0, deadline, loop.create_future(), abandoned)
    w.calls[1] = call
    return rt, w, call


async def test_a_call_past_its_deadline_is_answered_wedged() -> None:
    rt, w, call = runtime_with_call(time.monotonic() - 1)
    rt._expire_due(0.1)
    assert call.future.result() is sup._WEDGED  # _exchange then kills the worker
    rt._kill_wedged(w, call)
    assert w.proc.killed == 1 and 1 not in w.calls


async def test_an_abandoned_wedged_call_still_gets_its_worker_killed() -> None:
    rt, w, call = runtime_with_call(time.monotonic() - 1, abandoned=True)
    call.future.cancel()
    rt._expire_due(0.1)
    assert w.proc.killed == 1 and 1 not in w.calls


async def test_calls_within_their_deadline_are_left_alone() -> None:
    rt, w, call = runtime_with_call(time.monotonic() + 60)
    rt._expire_due(0.1)
    assert not call.future.done() and w.proc.killed == 0


async def test_queued_invocations_expire_oldest_first() -> None:
    rt = sup.Runtime(RuntimeSettings(queue_timeout_ms=100), worker_home="/nonexistent")
    loop = asyncio.get_running_loop()
    now = time.monotonic()
    old = sup._Pending(REF, InvokeRequest("GET", "http://x/"), loop.create_future(), now - 1)
    new = sup._Pending(REF, InvokeRequest("GET", "http://x/"), loop.create_future(), now)
    rt._queue.extend([old, new])
    rt._expire_due(0.1)
    assert old.future.result().outcome is Outcome.OVERLOADED
    assert not new.future.done() and list(rt._queue) == [new]
