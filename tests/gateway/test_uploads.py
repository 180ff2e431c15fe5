"""The rest of a request body, read as the function reads (gateway/uploads.py), over a
scripted ASGI ``receive`` (the logic above the server; the real thing is
tests/gateway/e2e/test_e2e_uploads.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from isogate.gateway.uploads import Upload, read_request_body
from isogate.runtime.errors import BodyUnreadable

Message = dict[str, Any]


class Client:
    """A connection's receive: the messages given, then (optionally) nothing more."""

    def __init__(self, messages: Iterable[Message]) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        for m in messages:
            self.queue.put_nowait(m)
        self.taken = 0

    async def receive(self) -> Message:
        m = await self.queue.get()
        self.taken += 1
        return m


def _body(data: bytes, more: bool = True) -> Message:
    return {"type": "http.request", "body": data, "more_body": more}


def _request(client: Client, headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "headers": headers or [(b"transfer-encoding", b"chunked")],
        "app": SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(
            body_read_timeout_seconds=5.0
        ))),
    }  # fmt: skip
    return Request(scope, client.receive)


async def test_a_body_within_the_head_arrives_whole() -> None:
    client = Client([_body(b"a" * 1000), _body(b"b", more=False)])
    body, upload = await read_request_body(_request(client), 1 << 20, 5.0)
    assert body == b"a" * 1000 + b"b" and upload is None


async def test_the_rest_is_read_part_by_part_then_ends() -> None:
    head = b"h" * (64 << 10)
    client = Client([_body(head), _body(b"1"), _body(b""), _body(b"2"), _body(b"", more=False)])
    body, upload = await read_request_body(_request(client), 1 << 20, 5.0)
    assert body == head and upload is not None
    assert client.taken == 1  # nothing past the head before the function asks
    assert await upload.read() == b"1"
    assert await upload.read() == b"2"  # an empty part is not a part
    assert await upload.read() is None
    assert await upload.read() is None  # and stays ended
    assert upload.size == len(head) + 2


async def test_past_the_limit_every_read_fails() -> None:
    client = Client([_body(b"x" * 60), _body(b"y" * 60)])
    upload = Upload(_request(client), 0, 100, 5.0)
    assert await upload.read() == b"x" * 60
    for _ in range(2):
        with pytest.raises(BodyUnreadable, match="exceeds 100 bytes"):
            await upload.read()


async def test_a_slow_client_fails_the_read() -> None:
    upload = Upload(_request(Client([])), 0, 100, 0.05)
    with pytest.raises(BodyUnreadable, match=r"did not arrive within 0\.05 s"):
        await upload.read()


async def test_a_client_leaving_fails_the_read_and_says_so_at_once() -> None:
    client = Client([{"type": "http.disconnect"}])
    upload = Upload(_request(client), 0, 100, 5.0)
    told = []
    upload.on_gone = lambda: told.append(True)
    with pytest.raises(BodyUnreadable, match="went away"):
        await upload.read()
    assert told == [True] and upload.gone
    # a watcher of the client leaving learns it without reading the connection
    assert await upload.receive() == {"type": "http.disconnect"}


async def test_closing_drains_the_rest_then_watchers_read_the_connection() -> None:
    client = Client([_body(b"1"), _body(b"2"), _body(b"3", more=False)])
    upload = Upload(_request(client), 0, 100, 5.0)
    watcher = asyncio.create_task(upload.receive())
    await asyncio.sleep(0)
    assert not watcher.done()  # the body is not over: the watcher does not read it
    upload.close()  # the invocation ended without reading
    await asyncio.sleep(0.01)
    assert client.taken == 3  # drained, so the client can send it all and read the answer
    assert not watcher.done()  # now it waits on the connection itself
    client.queue.put_nowait({"type": "http.disconnect"})
    assert await asyncio.wait_for(watcher, 1) == {"type": "http.disconnect"}
    assert await upload.read() is None


async def test_closing_cancels_a_read_under_way() -> None:
    upload = Upload(_request(Client([])), 0, 100, 5.0)
    read = asyncio.create_task(upload.read())
    await asyncio.sleep(0.01)
    upload.close()
    with pytest.raises(asyncio.CancelledError):
        await read
