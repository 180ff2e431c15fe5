"""An executor thread keeps serving whatever one message does to it (issue 15, part 2).

The executor runs in this process on a thread of its own, fed through real pipes, as a
worker runs it; a message that makes the host fail unexpectedly is answered, and the
next call on the same thread is served.
"""

from __future__ import annotations

import os
import threading

from isogate.runtime.executor import Executor, prepared_cache, source_cache
from isogate.runtime.protocol import FrameReader, pack, write_all
from isogate.runtime.watchdog import Watchdog

HELLO = "export default { fetch() { return new Response('hello') } }"


def _invoke(call_id: int, key: str, source: str, req: object) -> bytes:
    fn = {"key": key, "tenant": "t1", "timeout_ms": 2000, "env": [], "src": source}
    return pack({"op": "invoke", "id": call_id, "ex": 0, "fn": fn, "req": req})


def test_an_unexpected_host_failure_answers_the_call_and_the_thread_serves_on() -> None:
    requests_r, requests_w = os.pipe()
    results_r, results_w = os.pipe()
    watchdog = Watchdog()
    watchdog.start()
    executor = Executor(
        0,
        inbox=FrameReader(requests_r),
        watchdog=watchdog,
        send=lambda m: write_all(results_w, pack(m)),
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
    results = FrameReader(results_r)
    try:
        assert results.read(timeout=30)["op"] == "blanks"
        # a request the host cannot even build (no method, URL or headers): a host error
        write_all(requests_w, _invoke(1, "f@1", HELLO, {"b": b""}))
        failed = results.read(timeout=30)
        assert (failed["op"], failed["id"], failed["o"]) == ("result", 1, "load_error")
        assert failed["e"]["message"] == "the function could not be run"
        assert thread.is_alive()
        good = {"m": "GET", "u": "http://example.com/", "h": [], "b": b""}
        write_all(requests_w, _invoke(2, "f@1", HELLO, good))
        served = results.read(timeout=30)
        assert (served["id"], served["o"], served["s"], served["b"]) == (2, "ok", 200, b"hello")
    finally:
        os.close(requests_w)
        thread.join(30)
        watchdog.stop()
        for fd in (requests_r, results_r, results_w):
            os.close(fd)
    assert not thread.is_alive()
