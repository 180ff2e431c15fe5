"""Streamed response bodies at the runtime's API (issue 20, item 3): per-call byte
credit, the end of a stream, cancel, and callers that want the body whole."""

from __future__ import annotations

import asyncio

from isogate.runtime.body_stream import STREAM_WINDOW
from isogate.runtime.types import InvokeRequest, Outcome
from tests.runtime.conftest import fn, get

CHUNK = 16 * 1024
CHUNKS = 200  # 3.2 MB: far more than the window


def handler(body: str) -> str:
    return "export default { async fetch(request, env, ctx) {\n" + body + "\n} };"


PRODUCER = handler(
    f"let n = 0; return new Response(new ReadableStream({{ pull(c) {{"
    f" c.enqueue(new Uint8Array({CHUNK}).fill(n % 256)); if (++n === {CHUNKS}) c.close(); }} }}));"
)


def streamed() -> InvokeRequest:
    return InvokeRequest(method="GET", url="https://fn.example/", stream=True)


async def test_a_slow_reader_holds_the_producer_back(runtime) -> None:
    """The function's stream could produce everything at once; what reaches the
    gateway's side is never more than the window ahead of what the reader took."""
    r = await runtime.invoke(fn(PRODUCER), streamed())
    assert r.outcome is Outcome.OK and r.stream is not None and r.body == b""
    stream = r.stream
    total = peak = 0
    while (data := await stream.next()) is not None:
        peak = max(peak, stream.held + len(data))
        total += len(data)
        await asyncio.sleep(0.002)  # a slow client: the producer must wait for credit
        stream.sent(len(data))
    assert stream.error == ""
    assert total == CHUNK * CHUNKS
    assert peak <= STREAM_WINDOW


async def test_callers_that_want_the_body_whole_get_it(runtime) -> None:
    r = await runtime.invoke(fn(PRODUCER), get())
    assert r.outcome is Outcome.OK and r.stream is None
    assert len(r.body) == CHUNK * CHUNKS
    assert r.body[:CHUNK] == bytes(CHUNK) and r.body[-1] == (CHUNKS - 1) % 256


async def test_cancel_ends_the_stream_and_the_call(runtime) -> None:
    endless = handler(
        "return new Response(new ReadableStream({ async pull(c) {"
        " await scheduler.wait(1); c.enqueue(new Uint8Array(1024)); } }));"
    )
    r = await runtime.invoke(fn(endless, timeout_ms=60000), streamed())
    stream = r.stream
    assert await stream.next()
    stream.cancel()
    assert await stream.next() is None and stream.error == "cancelled"
    ok = await runtime.invoke(fn(handler("return new Response('next');")), get())
    assert (ok.outcome, ok.body) == (Outcome.OK, b"next")


async def test_a_stream_over_the_size_limit_is_cut_short(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1, max_response_body=100_000)
    r = await rt.invoke(fn(PRODUCER), streamed())
    got = 0
    while (data := await r.stream.next()) is not None:
        got += len(data)
        r.stream.sent(len(data))
    assert r.stream.error == "too_large"
    assert got <= 100_000
