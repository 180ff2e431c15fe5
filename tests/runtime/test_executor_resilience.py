"""An executor thread keeps serving whatever one message does to it (issue 15, part 2).

The executor runs in this process on a thread of its own, fed through real pipes, as a
worker runs it; a message that makes the host fail unexpectedly is answered, and the
next call on the same thread is served.
"""

from __future__ import annotations

import os
import threading

import msgpack
import pytest

import isogate.runtime.executor as executor_module
from isogate.runtime.code_cache import prepared_cache, source_cache
from isogate.runtime.executor import Executor
from isogate.runtime.messages import Blanks, FnSpec, HttpRequest, Invoke, Result
from isogate.runtime.protocol import (
    HEADER,
    FrameReader,
    decode_from_worker,
    decode_to_executor,
    frame,
    write_all,
)
from isogate.runtime.watchdog import Watchdog

HELLO = "export default { fetch() { return new Response('hello') } }"
GET = HttpRequest("GET", "http://example.com/")


def _invoke(call_id: int, key: str, source: str) -> bytes:
    return frame(Invoke(call_id, 0, FnSpec(key, "t1", 2000, 2000, (), source), GET))


def test_an_unexpected_host_failure_answers_the_call_and_the_thread_serves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_start = executor_module.start_script
    calls = 0

    def start_script(*args: object) -> str:
        # the host fails unexpectedly building the first call's script
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("unexpected")
        return real_start(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(executor_module, "start_script", start_script)
    requests_r, requests_w = os.pipe()
    results_r, results_w = os.pipe()
    watchdog = Watchdog()
    watchdog.start()
    executor = Executor(
        0,
        inbox=FrameReader(requests_r, decode_to_executor, skip=lambda exc: None),
        watchdog=watchdog,
        send=lambda m: write_all(results_w, frame(m)),
        sources=source_cache(1 << 20),
        prepared=prepared_cache(1 << 20),
        prewarm=0,
        budget_bytes=64 << 20,
        max_response_body=1 << 20,
        functions_per_isolate=2,
    )
    old = threading.stack_size(16 << 20)
    try:
        thread = threading.Thread(target=executor.run, daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    results = FrameReader(results_r, decode_from_worker)
    try:
        assert isinstance(results.read(timeout=30), Blanks)
        write_all(requests_w, _invoke(1, "f@1", HELLO))
        failed = results.read(timeout=30)
        assert isinstance(failed, Result)
        assert (failed.id, failed.o) == (1, "load_error")
        assert failed.e is not None and failed.e.message == "the function could not be run"
        assert thread.is_alive()
        # a frame that is no message (a supervisor bug) is passed over, not fatal
        junk = msgpack.packb({"op": "invoke", "id": 9}, use_bin_type=True)
        write_all(requests_w, HEADER.pack(len(junk)) + junk)
        write_all(requests_w, _invoke(2, "f@1", HELLO))
        served = results.read(timeout=30)
        assert isinstance(served, Result)
        assert (served.id, served.o, served.s, served.b) == (2, "ok", 200, b"hello")
    finally:
        os.close(requests_w)
        thread.join(30)
        watchdog.stop()
        for fd in (requests_r, results_r, results_w):
            os.close(fd)
    assert not thread.is_alive()
