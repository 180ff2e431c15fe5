"""Issue 15.3: cleartext HTTP/2 (h2c) is served, and it obeys the limits HTTP/1.1 obeys.

A real gateway (Hypercorn on a loopback port) is called over HTTP/1.1 and over h2c with
prior knowledge (httpx with the ``h2`` package), and every limit must answer the same:
head size (``http_max_head_bytes``, 431), header count (``http_max_headers``, 431),
body size (``runtime.max_request_body``, 413). Before the fix, h2c accepted a 60 KB
header and any number of header fields.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.errors
import h2.events
import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

from .conftest import ECHO_JS, RELAXED

MAX_BODY = 64 * 1024


@dataclass
class Gateway:
    gw: GatewayProcess
    key: str


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = {**RELAXED, "ISOGATE_RUNTIME__MAX_REQUEST_BODY": str(MAX_BODY)}
    gw = GatewayProcess(tmp_path_factory.mktemp("h2c") / "data", env)
    gw.start()
    with httpx.Client(base_url=gw.url, timeout=30) as http:
        creds = {"name": "h2c", "password": "password-123"}
        http.post("/v1/tenants", json=creds, headers={"Authorization": f"Bearer {ADMIN}"})
        token = http.post("/v1/auth/token", json=creds).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert http.put("/v1/functions/echo", headers=auth, json={"code": ECHO_JS}).is_success
        key = http.post(
            "/v1/keys", headers=auth, json={"rate_limit": {"requests": 10**6, "per_seconds": 1}}
        ).json()["key"]
    yield Gateway(gw, key)
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def client(gw: Gateway, transport: str) -> httpx.Client:
    if transport == "h2c":  # prior knowledge: the HTTP/2 preface on a cleartext connection
        return httpx.Client(base_url=gw.gw.url, http1=False, http2=True, timeout=30)
    return httpx.Client(base_url=gw.gw.url, timeout=30)


TRANSPORTS = ["http/1.1", "h2c"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_h2c_is_served_and_says_so(gateway: Gateway, transport: str) -> None:
    with client(gateway, transport) as http:
        r = http.get("/fn/echo", headers={"X-API-Key": gateway.key})
        assert r.status_code == 200, r.text
        assert r.http_version == ("HTTP/2" if transport == "h2c" else "HTTP/1.1")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("size", [20 * 1024, 60 * 1024])
def test_a_head_over_the_cap_is_refused_on_every_transport(
    gateway: Gateway, transport: str, size: int
) -> None:
    with client(gateway, transport) as http:
        r = http.get("/fn/echo", headers={"X-API-Key": gateway.key, "X-Big": "a" * size})
        assert r.status_code == 431
        if transport == "h2c":  # answered by the gateway: a problem, not a bare close
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 431
        # and the connection (or the next one) still serves normal requests
        assert http.get("/fn/echo", headers={"X-API-Key": gateway.key}).status_code == 200


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_head_just_under_the_cap_is_served_on_every_transport(
    gateway: Gateway, transport: str
) -> None:
    with client(gateway, transport) as http:
        r = http.get("/fn/echo", headers={"X-API-Key": gateway.key, "X-Big": "a" * 12 * 1024})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_too_many_header_fields_are_refused_on_every_transport(
    gateway: Gateway, transport: str
) -> None:
    many = [(f"x-h{i}", "v") for i in range(150)]  # 150 small fields: ~1.5 KB, under the byte cap
    with client(gateway, transport) as http:
        r = http.get("/fn/echo", headers=[("x-api-key", gateway.key), *many])
        assert r.status_code == 431
        assert r.json()["type"].endswith("headers-too-large")
        few = many[:40]
        assert http.get("/fn/echo", headers=[("x-api-key", gateway.key), *few]).status_code == 200


def test_a_body_over_the_cap_is_refused_over_http1(gateway: Gateway) -> None:
    with client(gateway, "http/1.1") as http:
        headers = {"X-API-Key": gateway.key}
        r = http.post("/fn/echo", headers=headers, content=b"x" * (MAX_BODY + 1))
        assert r.status_code == 413
        r = http.post("/fn/echo", headers=headers, content=iter([b"x" * 4096] * 20))
        assert r.status_code == 413
        r = http.post("/fn/echo", headers=headers, content=b"x" * MAX_BODY)
        assert r.status_code == 200 and r.json()["length"] == MAX_BODY


class RawH2:
    """A raw h2c client (the ``h2`` package over a socket) that sends a body as flow
    control allows and reads answers, resets included: httpx treats the server's
    ``RST_STREAM(NO_ERROR)`` after an early answer as an error, though RFC 9113
    section 8.1 says the client must keep the response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.next_id = 1

    def call(self, key: str, body: int, *, declared: bool) -> tuple[int | None, int | None, int]:
        """(status, reset error code or None, body bytes sent) of one POST /fn/echo."""
        sid, self.next_id = self.next_id, self.next_id + 2
        headers = [
            (":method", "POST" if body else "GET"),
            (":path", "/fn/echo"),
            (":scheme", "http"),
            (":authority", f"127.0.0.1:{self.port}"),
            ("x-api-key", key),
        ]
        if declared:
            headers.append(("content-length", str(body)))
        self.conn.send_headers(sid, headers, end_stream=body == 0)
        sent, status, reset, ended = 0, None, None, False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sent < body and reset is None:
                n = min(self.conn.local_flow_control_window(sid), 16384, body - sent)
                if n > 0:
                    self.conn.send_data(sid, b"x" * n, end_stream=sent + n == body)
                    sent += n
            self.sock.sendall(self.conn.data_to_send())
            if ended and (reset is not None or sent == body):
                break
            self.sock.settimeout(0.05 if sent < body and reset is None else 5)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            assert data, "the server closed the connection"
            for event in self.conn.receive_data(data):
                if getattr(event, "stream_id", None) != sid:
                    continue
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
                elif isinstance(event, h2.events.StreamReset):
                    reset = event.error_code
        return status, reset, sent

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_body_over_the_cap_is_refused_over_h2c_and_the_connection_lives(
    gateway: Gateway, declared: bool
) -> None:
    raw = RawH2(gateway.gw.port)
    try:
        status, reset, _ = raw.call(gateway.key, 4 * MAX_BODY, declared=declared)
        assert status == 413
        # the client is asked to stop sending, as RFC 9113 section 8.1 provides
        assert reset == h2.errors.ErrorCodes.NO_ERROR
        # the same connection goes on serving (before the fix: KeyError, connection gone)
        assert raw.call(gateway.key, MAX_BODY, declared=declared)[0] == 200
        assert raw.call(gateway.key, 0, declared=False)[0] == 200
    finally:
        raw.close()
