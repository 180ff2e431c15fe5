"""The executor's bounded caches (sources by key, prepared sources by text) and how it
reports its pre-warmed pool."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import isogate.runtime.prewarm as prewarm_module
from isogate.runtime.code_cache import prepared_cache, source_cache
from isogate.runtime.executor import Executor
from isogate.runtime.messages import Blanks, Evicted, FnSpec, HttpRequest, Invoke, Result
from isogate.runtime.prewarm import READY_BLANKS
from isogate.runtime.protocol import FrameReader, decode_to_executor, frame, write_all
from isogate.runtime.watchdog import Watchdog


class _ScriptedInbox(FrameReader):
    """A real pipe that stays silent until the executor's pool is complete; then it
    carries ``messages`` (all at once) and ends."""

    def __init__(self, messages: list[Invoke] | None = None) -> None:
        read_fd, self.write_fd = os.pipe()
        super().__init__(read_fd, decode_to_executor)
        self.messages = list(messages or [])
        self.pool_complete = False

    def release(self, *, end: bool = True) -> None:
        self.pool_complete = True
        for message in self.messages:
            write_all(self.write_fd, frame(message))
        if end:
            self.end()

    def end(self) -> None:
        os.close(self.write_fd)


def _run_executor(
    prewarm: int,
    per_isolate: int = 8,
    inbox: _ScriptedInbox | None = None,
    recycle_bytes: int = 8 << 20,
    until: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """Run an executor thread until its inbox ends (once what it sent satisfies
    ``until``, if given: an executor whose inbox ends stops, calls still waiting on
    timers included); what it sent."""
    sent: list[Any] = []
    inbox = inbox or _ScriptedInbox()
    executor = Executor(
        0,
        inbox=inbox,
        watchdog=Watchdog(),
        send=sent.append,
        sources=source_cache(1 << 20),
        prepared=prepared_cache(1 << 20),
        prewarm=prewarm,
        budget_bytes=1 << 30,
        max_response_body=1 << 20,
        functions_per_isolate=per_isolate,
        recycle_bytes=recycle_bytes,
    )
    thread = threading.Thread(target=executor.run)  # V8 work stays on one thread
    thread.start()
    # the pool is complete once every blank is made and holds its ready contexts
    for _ in range(6000):
        if len(executor._pool.blanks) >= prewarm and executor._pool.filled:
            break
        time.sleep(0.01)
    inbox.release(end=until is None)
    if until is not None:
        for _ in range(6000):
            if until(list(sent)):
                break
            time.sleep(0.01)
        inbox.end()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return sent


def _prewarm_reports(prewarm: int) -> list[int]:
    """The blank counts an executor reports while filling a pool of ``prewarm``."""
    return [m.n for m in _run_executor(prewarm) if isinstance(m, Blanks)]


def test_an_executor_reports_ready_after_a_few_blanks_then_its_full_pool() -> None:
    # The supervisor routes to an executor once it reports READY_BLANKS: a restarted
    # worker serves before its whole pool is made.
    assert _prewarm_reports(READY_BLANKS + 3) == [READY_BLANKS, READY_BLANKS + 3]


def test_a_pool_smaller_than_the_ready_mark_is_reported_when_full() -> None:
    assert _prewarm_reports(2) == [2]
    assert _prewarm_reports(0) == [0]


def _invoke(n: int, tenant: str, name: str, code: str | None = None) -> Invoke:
    code = code or f"export default {{ fetch() {{ return new Response('{name}') }} }}"
    fn = FnSpec(f"{name}@1", tenant, 1000, 1000, (), code)
    return Invoke(n, 0, fn, HttpRequest("GET", "http://x/"))


def test_a_pooled_isolate_brings_ready_contexts_to_the_tenant_that_takes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A burst of new functions of one tenant: the first takes the pooled isolate, the
    # next ones its contexts made ahead (no context made while a call waits). Another
    # tenant never gets them: it opens an isolate of its own.
    made_during_calls: list[str] = []
    inbox = _ScriptedInbox(
        [_invoke(1, "t", "f0"), _invoke(2, "u", "g0")]
        + [_invoke(3 + i, "t", f"f{i + 1}") for i in range(3)]
    )

    class CountingSandbox(prewarm_module.Sandbox):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if inbox.pool_complete:
                made_during_calls.append("context")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(prewarm_module, "Sandbox", CountingSandbox)
    sent = _run_executor(prewarm=1, per_isolate=4, inbox=inbox)
    results = {m.id: m for m in sent if isinstance(m, Result)}
    assert [results[i].b for i in range(1, 6)] == [b"f0", b"g0", b"f1", b"f2", b"f3"]
    assert made_during_calls == ["context"]  # only tenant u's new isolate
    assert results[2].iso == results[1].iso + 1


def test_an_isolate_filled_by_its_scripts_is_replaced_and_its_functions_reload() -> None:
    # stpyv8 keeps every evaluated source until the isolate goes (Host.retained counts
    # it): past recycle_bytes the executor evicts the isolate's functions, tells the
    # supervisor, and they load again in a fresh isolate. One call's scripts count
    # ~1.5 KB here, so 16 KB is a dozen calls; a call that still waits on a timer
    # when its isolate is replaced finishes in it first.
    waiting = (
        "export default { async fetch() {"
        " await new Promise((r) => setTimeout(r, 50)); return new Response('late') } };"
    )
    calls = [_invoke(1, "t", "slow", waiting)]
    calls += [_invoke(2 + i, "t", "f") for i in range(60)]
    sent = _run_executor(
        prewarm=1,
        inbox=_ScriptedInbox(calls),
        recycle_bytes=16 << 10,
        # the inbox ends once every call is answered: 60 quick calls can all be done
        # before the first one's 50 ms timer fires
        until=lambda sent: sum(isinstance(m, Result) for m in sent) == len(calls),
    )
    results = {m.id: m for m in sent if isinstance(m, Result)}
    assert sorted(results) == list(range(1, 62))
    assert results[1].o == "ok" and results[1].b == b"late"
    assert all(results[i].o == "ok" and results[i].b == b"f" for i in range(2, 62))
    evicted = [key for m in sent if isinstance(m, Evicted) for key in m.keys]
    cold = sum(results[i].cold for i in range(2, 62))
    # replaced every dozen calls or so, each time with its functions reloaded
    assert evicted.count("f@1") >= 3 and cold == evicted.count("f@1") + 1
    assert "slow@1" in evicted
    # the replaced isolates were disposed of: the live count (reported with every
    # result) does not grow with the replacements
    isolates = [results[i].iso or 0 for i in range(2, 62)]
    assert max(isolates) <= isolates[0] + 1


def test_a_tenant_gets_a_context_made_ahead_once_it_loads_a_second_function() -> None:
    # Many tenants have one function each: a spare context after their first load was
    # memory nobody used. After a second load, the tenant's next one is made in idle time.
    read_fd, write_fd = os.pipe()
    sent: list[Any] = []
    executor = Executor(
        0,
        inbox=FrameReader(read_fd, decode_to_executor),
        watchdog=Watchdog(),
        send=sent.append,
        sources=source_cache(1 << 20),
        prepared=prepared_cache(1 << 20),
        prewarm=0,
        budget_bytes=1 << 30,
        max_response_body=1 << 20,
        functions_per_isolate=4,
    )
    thread = threading.Thread(target=executor.run)
    thread.start()

    def answered(n: int) -> None:
        for _ in range(1000):
            if sum(isinstance(m, Result) for m in sent) == n:
                return
            time.sleep(0.01)
        raise AssertionError(f"no answer {n}: {sent}")

    try:
        write_all(write_fd, frame(_invoke(1, "t", "f0")))
        answered(1)
        time.sleep(0.3)  # idle time, in which spares are made
        host = executor._pool.hosts["t"]
        assert host.contexts == 1 and not host.spares
        write_all(write_fd, frame(_invoke(2, "t", "f1")))
        answered(2)
        for _ in range(500):
            if host.spares:
                break
            time.sleep(0.01)
        assert len(host.spares) == 1 and host.contexts == 3
        assert [m.b for m in sent if isinstance(m, Result)] == [b"f0", b"f1"]
    finally:
        os.close(write_fd)
        thread.join(timeout=60)
    assert not thread.is_alive()
