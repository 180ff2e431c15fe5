"""The supervisor's deadline sweep, as a unit over fake workers (the real process
behaviour is covered in test_runtime.py: queue bounds, timeouts, crashes)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import supervisor as sup
from isogate.runtime.messages import End, NeedCode, Result
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
    rt._enqueue(old)
    rt._enqueue(new)
    rt._expire_due(0.1)
    assert old.future.result().outcome is Outcome.OVERLOADED
    assert not new.future.done() and list(rt._queues["t"]) == [new] and rt._queued == 1


def runtime_with_executors(n: int) -> tuple[Any, list[Any]]:
    rt = sup.Runtime(RuntimeSettings(workers=1, threads_per_worker=n), worker_home="/nonexistent")
    w = rt._workers[0]
    w.alive = True
    w.executors = [sup._Executor(w, i) for i in range(n)]
    return rt, w.executors


def queue(rt: Any, refs: list[FunctionRef]) -> list[Any]:
    loop = asyncio.get_running_loop()
    pendings = [
        sup._Pending(r, InvokeRequest("GET", "http://x/"), loop.create_future(), 0.0) for r in refs
    ]
    for p in pendings:
        rt._enqueue(p)
    return pendings


def ref(i: int) -> FunctionRef:
    return FunctionRef(name=f"f{i}", version=1, tenant="t", sha256="ab" * 32)


async def test_a_long_queue_of_slow_calls_is_not_scanned_when_no_executor_is_idle() -> None:
    rt, (ex,) = runtime_with_executors(1)
    fast = ref(0)
    ex.warm[fast.key] = 1.0
    rt._run_ms[fast.key] = 0.1  # fast: may pipeline behind another fast call
    first = queue(rt, [fast])[0]
    rt._unqueue(first)
    rt._reserve(first, ex)
    slow = queue(rt, [ref(i) for i in range(1, 201)])  # cold functions: never pipelined
    picks = 0
    real_pick = rt._pick

    def counting_pick(key: str) -> Any:
        nonlocal picks
        picks += 1
        return real_pick(key)

    rt._pick = counting_pick
    rt._drain_queue()  # one pipeline place is free, but no slow call may take it
    assert picks == 0 and rt._queued == 200 and not any(p.future.done() for p in slow)
    tail = queue(rt, [fast])[0]  # a fast call behind them takes the place
    rt._drain_queue()
    assert tail.future.result() is ex and ex.inflight == 2
    assert [p.ref for p in rt._queues["t"]] == [p.ref for p in slow]  # order kept


async def test_an_idle_executor_takes_one_slow_or_a_pipeline_of_fast_queued_calls() -> None:
    rt, (ex,) = runtime_with_executors(1)
    fast = ref(0)
    ex.warm[fast.key] = 1.0
    rt._run_ms[fast.key] = 0.1
    calls = queue(rt, [fast] * (sup.PIPELINE_DEPTH + 1))
    rt._drain_queue()
    assert all(c.future.result() is ex for c in calls[:-1]) and not calls[-1].future.done()
    rt2, (ex2,) = runtime_with_executors(1)
    s1, s2 = queue(rt2, [ref(1), ref(2)])
    rt2._drain_queue()
    assert s1.future.result() is ex2 and not s2.future.done() and ex2.slow == 1


def in_flight(rt: Any, ex: Any, r: FunctionRef, call_id: int = 1) -> tuple[Any, Any]:
    """A call of ``r`` reserved on ``ex`` and waiting for its answer."""
    loop = asyncio.get_running_loop()
    pending = sup._Pending(r, InvokeRequest("GET", "http://x/"), loop.create_future(), 0.0)
    rt._reserve(pending, ex)
    call = sup._Call(call_id, pending, ex, 0.0, time.monotonic() + 60, loop.create_future())
    pending.call = call
    ex.worker.calls[call_id] = call
    return pending, call


async def test_an_answer_frees_its_executor_for_the_next_queued_call_at_once() -> None:
    rt, (ex,) = runtime_with_executors(1)
    pending, call = in_flight(rt, ex, ref(1))

    async def exchange(p: Any, e: Any, started: float) -> Any:  # the wait for the answer
        return rt._to_result(await call.future, e, p.enqueued, started)

    rt._exchange = exchange
    caller = asyncio.create_task(rt._run(pending, ex))
    await asyncio.sleep(0)  # the caller now waits for the answer
    (waiting,) = queue(rt, [ref(2)])
    answer = Result(1, 0, Outcome.OK.value, s=200, bl=3, iso=5)
    rt._on_message(ex.worker, answer)
    # before the caller's task has resumed, the queued call already has the executor
    assert not caller.done() and waiting.future.result() is ex and ex.inflight == 1
    # the frame's news was applied first: 3 blanks, then one taken by the next call's load
    assert call.released and ex.blanks == 2 and ex.worker.isolates == 5
    result = await caller
    assert result.outcome is Outcome.OK and result.status == 200
    assert ex.inflight == 1  # the caller resuming does not release it a second time


async def test_an_abandoned_call_asking_for_code_frees_its_executor() -> None:
    rt, (ex,) = runtime_with_executors(1)
    rt._suspects.add(ref(1).key)
    _, call = in_flight(rt, ex, ref(1))
    ex.worker.solo = ref(1).key
    call.abandoned = True
    rt._on_message(ex.worker, NeedCode(1, 0))
    assert ex.inflight == 0 and ex.worker.solo is None


class DeadProc:
    """A worker process that died of SIGSEGV."""

    returncode = -11
    pid = 4242

    async def wait(self) -> int:
        return self.returncode


async def test_a_crash_retries_calls_that_had_not_started() -> None:
    rt = sup.Runtime(RuntimeSettings(quarantine_crashes=1), worker_home="/nonexistent")
    rt._closing = True  # no respawn in this unit test
    w = rt._workers[0]
    loop = asyncio.get_running_loop()
    ex = sup._Executor(w, 0)
    calls = []
    for i in (1, 2, 3):  # 1 runs on the executor, 2 and 3 are pipelined behind it
        pending = sup._Pending(REF, InvokeRequest("GET", "http://x/"), loop.create_future(), 0.0)
        call = sup._Call(i, pending, ex, 0.0, time.monotonic() + 60, loop.create_future())
        w.calls[i] = call
        calls.append(call)
    await rt._on_crash(w, DeadProc())  # type: ignore[arg-type]
    assert [c.future.result() for c in calls] == ["crashed", "retry", "retry"]
    stats = rt.stats()
    assert stats.crashes_by_reason["signal"] == 1
    # a runtime fault: the function that was running is not struck (quarantine_crashes=1)
    assert not rt.is_quarantined(REF)


class FakeUpload:
    """A request body still arriving (the runtime's RequestBody): counts its closes."""

    def __init__(self) -> None:
        self.closed = 0

    async def read(self) -> bytes | None:
        return None

    def close(self) -> None:
        self.closed += 1


def with_upload(rt: Any, ex: Any, n: int) -> tuple[Any, FakeUpload]:
    upload = FakeUpload()
    _, call = in_flight(rt, ex, ref(n), call_id=n)
    ex.worker.uploads[call.id] = upload
    return call, upload


async def test_an_answer_stops_reads_of_its_request_body_but_leaves_closing_to_its_caller() -> None:
    rt, (ex,) = runtime_with_executors(1)
    call, upload = with_upload(rt, ex, 1)
    rt._on_message(ex.worker, Result(call.id, 0, Outcome.OK.value, s=200))
    assert call.id not in ex.worker.uploads
    assert upload.closed == 0  # the gateway closes it (drains the rest) with the answer


async def test_a_call_asking_for_code_keeps_its_request_body_open_for_the_resend() -> None:
    rt, (ex,) = runtime_with_executors(1)
    call, upload = with_upload(rt, ex, 1)
    rt._on_message(ex.worker, NeedCode(call.id, 0))
    assert upload.closed == 0  # sent again with its code, the upload with it


async def test_a_streamed_answer_keeps_reading_its_request_body_until_the_stream_ends() -> None:
    rt, (ex,) = runtime_with_executors(1)
    call, upload = with_upload(rt, ex, 1)
    rt._on_message(ex.worker, Result(call.id, 0, Outcome.OK.value, s=200, sb=True))
    assert ex.worker.uploads[call.id] is upload  # the function may read on as it streams
    rt._on_message(ex.worker, End(call.id, 0))
    assert call.id not in ex.worker.uploads and upload.closed == 1


async def test_a_crash_cuts_streams_short_and_ends_only_answered_calls_request_bodies() -> None:
    rt, (ex,) = runtime_with_executors(1)
    rt._closing = True  # no respawn in this unit test
    w = ex.worker
    streamed, streamed_upload = with_upload(rt, ex, 1)
    rt._on_message(w, Result(streamed.id, 0, Outcome.OK.value, s=200, sb=True))
    stream = w.streams[streamed.id]
    running, running_upload = with_upload(rt, ex, 2)
    await rt._on_crash(w, DeadProc())  # type: ignore[arg-type]
    assert stream.error == "crashed"  # the client's response ends now, truncated
    assert streamed_upload.closed == 1
    assert running_upload.closed == 0  # retried or answered "crashed": its caller closes it
    assert running.future.done() and not w.uploads and not w.streams
