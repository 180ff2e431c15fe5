"""The loopback upstream itself: deterministic answers, exact echoes, sink, refused port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from .upstream import Upstream


@pytest.fixture(scope="module")
def up() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False, follow_redirects=False) as c:
        c.headers.clear()
        yield c


def test_echo_keeps_wire_order_and_drops_transport(up: Upstream, client: httpx.Client) -> None:
    r = client.post(
        f"{up.url}/echo/x?a=1",
        content=b"hi",
        headers=[("X-B", "2"), ("x-a", "1"), ("Connection", "keep-alive")],
    )
    assert r.status_code == 200
    assert "date" not in r.headers and "server" not in r.headers
    view = r.json()
    assert view["method"] == "POST" and view["target"] == "/echo/x?a=1"
    names = [k for k, _ in view["headers"]]
    assert names == ["host", "x-b", "x-a", "content-length"]  # as httpx sent them
    assert view["body"] == "hi"
    assert up.requests[-1].headers[1] == ("X-B", "2")  # raw case kept in the log


def test_chunked_request_body_is_decoded(up: Upstream, client: httpx.Client) -> None:
    def parts() -> Iterator[bytes]:
        yield b"abc"
        yield b"\xff\x00"

    r = client.put(f"{up.url}/echo", content=parts())
    view = r.json()
    assert view["bodyLength"] == 5 and view["bodyBase64"] == "YWJj/wA="
    assert up.requests[-1].chunked
    assert "transfer-encoding" not in [k for k, _ in view["headers"]]


def test_redirects_status_cookies_large_gzip(up: Upstream, client: httpx.Client) -> None:
    r = client.get(f"{up.url}/redirect/307?to=/echo/next")
    assert (r.status_code, r.headers["location"]) == (307, "/echo/next")
    assert client.get(f"{up.url}/chain/2").headers["location"] == "/chain/1"
    assert client.get(f"{up.url}/status/418").text == "status 418"
    assert client.get(f"{up.url}/status/204").content == b""
    assert len(client.get(f"{up.url}/cookies").headers.get_list("set-cookie")) == 3
    assert len(client.get(f"{up.url}/large?bytes=100000").content) == 100000
    raw = client.get(f"{up.url}/gzip")
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.text.startswith("compressed hello")  # httpx decoded the gzip
    assert client.get(f"{up.url}/api/users/9").status_code == 404


def test_flaky_counts_until_reset_and_sink_records(up: Upstream, client: httpx.Client) -> None:
    up.reset()
    got = [client.get(f"{up.url}/flaky/k?fail=2").status_code for _ in range(3)]
    assert got == [503, 503, 200]
    up.reset()
    assert client.get(f"{up.url}/flaky/k?fail=2").status_code == 503
    assert client.post(f"{up.url}/sink/x", content=b"event").status_code == 204
    records = up.wait_sink(1)
    assert records[0]["target"] == "/sink/x" and records[0]["body"] == "event"
    assert client.get(f"{up.url}/sink-log").json() == records


def test_slow_waits_and_closed_port_refuses(up: Upstream, client: httpx.Client) -> None:
    assert client.get(f"{up.url}/slow?ms=20").json() == {"slow": True, "ms": 20}
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", up.closed_port), timeout=5),
    ):
        pass
