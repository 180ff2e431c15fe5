"""StreamedResponse as an ASGI app, over a real BodyStream (the worker's side is a pair
of callbacks: what the function would be granted, and its cancellation)."""

from __future__ import annotations

import asyncio

from isogate.gateway.function_response import FunctionResponse
from isogate.gateway.streamed_response import StreamedResponse
from isogate.runtime.body_stream import BodyStream


async def _serve(method: str, feed: list[bytes], end: bool) -> tuple[list[dict], list[str]]:
    events: list[str] = []
    stream = BodyStream(lambda n: events.append(f"credit {n}"), lambda: events.append("cancel"))
    for chunk in feed:
        stream.feed(chunk)
    if end:
        stream.end("")
    head = FunctionResponse(200, [(b"content-type", b"text/plain")], b"", None, None)
    app = StreamedResponse(head, stream, None, None)
    sent: list[dict] = []

    async def receive() -> dict:
        await asyncio.Event().wait()  # the client stays
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "client": ("127.0.0.1", 1)}
    # the function never ends its stream: only the HEAD rule can end this call
    await asyncio.wait_for(app(scope, receive, send), 30)
    return sent, events


async def test_head_ends_the_functions_stream_after_the_headers() -> None:
    sent, events = await _serve("HEAD", [b"never sent"], end=False)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert events == ["cancel"]


async def test_get_sends_the_body_then_ends() -> None:
    sent, events = await _serve("GET", [b"a", b"b"], end=True)
    assert [m.get("body") for m in sent[1:]] == [b"a", b"b", b""]
    assert sent[-1]["more_body"] is False
    assert "cancel" not in events
