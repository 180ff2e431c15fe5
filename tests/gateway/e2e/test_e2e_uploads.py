"""Request bodies streaming into functions (issue 20, item 3), end to end: a real
``isogate serve`` (Hypercorn, real workers) on loopback, httpx and raw sockets as clients.

* a body over the first part reaches the function as a stream, in many parts, byte for
  byte (echoed back, counted, read as text);
* the function runs before the body has arrived: it answers after its first read while
  the client has sent only the start;
* a body the function does not read is drained: the client gets its answer and the
  connection carries the next request;
* a chunked body over ``runtime.max_request_body`` fails the function's read with a
  ``TypeError`` it can catch (a declared one gets 413 before the function runs);
* a client leaving mid-upload fails the read and ends the invocation (recorded as 499);
* an asynchronous invocation still gets the whole body;
* the gateway's memory does not grow with the upload.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterator

import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess

#: runtime.max_request_body of this gateway: under the ~48 MiB of bodies a function may
#: read into JavaScript (hostops.JS_READ_LIMIT, counted in characters of the JSON that
#: carries them: one per printable ASCII byte)
LIMIT = 32 << 20
PART = 1 << 20

ECHO = "export default { fetch(req) { return new Response(req.body); } }"

COUNT = """export default { async fetch(req) {
  let n = 0, parts = 0;
  const r = req.body.getReader();
  try {
    for (;;) { const { done, value } = await r.read(); if (done) break; n += value.length; parts++; }
  } catch (e) {
    console.log(e.name + ': ' + e.message);
    return new Response(e.name + ': ' + e.message, { status: 500 });
  }
  return new Response(n + ' ' + parts);
} }"""

DIGEST = """export default { async fetch(req) {
  const d = await crypto.subtle.digest('SHA-256', await req.arrayBuffer());
  return new Response([...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join(''));
} }"""

FIRST = """export default { async fetch(req) {
  const { value } = await req.body.getReader().read();
  return new Response('first part: ' + value.length);
} }"""

IGNORES = "export default { fetch(req) { return new Response('not read'); } }"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(
        tmp_path_factory.mktemp("uploads") / "data",
        {
            "ISOGATE_RUNTIME__MAX_REQUEST_BODY": str(LIMIT),
            "ISOGATE_RUNTIME__MAX_TIMEOUT_MS": "60000",
        },
    )
    gateway.start()
    yield gateway
    assert gateway.stop() == 0, gateway.log.read_text()[-3000:]


@pytest.fixture(scope="module")
def tenant(gw: GatewayProcess) -> Iterator[Tenant]:
    t = Tenant(gw.url, unique("uploads"))
    for name, code in (
        ("echo", ECHO),
        ("count", COUNT),
        ("digest", DIGEST),
        ("first", FIRST),
        ("ignores", IGNORES),
    ):
        r = t.deploy(name, code, public=True, timeout_ms=60000)
        assert r.status_code == 201, r.text
    yield t
    t.http.close()


def _parts(n: int, size: int = PART) -> Iterator[bytes]:
    for i in range(n):
        yield bytes([65 + i % 26]) * size  # chunked: no Content-Length


def test_a_large_body_is_echoed_byte_for_byte(tenant: Tenant) -> None:
    body = os.urandom(6 << 20)
    r = tenant.http.post("/fn/echo", content=body)
    assert r.status_code == 200
    assert r.content == body


def test_a_large_body_arrives_in_parts(tenant: Tenant) -> None:
    r = tenant.http.post("/fn/count", content=b"x" * (8 << 20))
    assert r.status_code == 200, r.text
    size, parts = map(int, r.text.split())
    assert size == 8 << 20
    assert parts > 8  # read as it came, not as one piece
    r = tenant.http.post("/fn/count", content=_parts(5))  # chunked alike
    assert r.status_code == 200 and r.text.split()[0] == str(5 << 20)


def test_a_body_read_whole_is_the_body_sent(tenant: Tenant) -> None:
    body = os.urandom(3 << 20)
    r = tenant.http.post("/fn/digest", content=body)
    assert r.status_code == 200
    assert r.text == hashlib.sha256(body).hexdigest()


def test_a_small_body_still_arrives_whole(tenant: Tenant) -> None:
    r = tenant.http.post("/fn/count", content=b"y" * 1000)
    assert r.status_code == 200 and r.text == "1000 1"


def _open(gw: GatewayProcess, path: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    return s


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def test_the_function_runs_before_the_body_has_arrived(gw: GatewayProcess, tenant: Tenant) -> None:
    s = _open(gw, "/fn/first")
    try:
        s.sendall(_chunk(b"a" * (256 << 10)))  # the start only: the rest never comes
        head = b""
        while b"\r\n\r\n" not in head:
            got = s.recv(65536)
            assert got, "the gateway closed the connection without answering"
            head += got
        assert head.startswith(b"HTTP/1.1 200")
        assert b"first part: " in head or b"first part: " in s.recv(65536)
    finally:
        s.close()


def test_a_body_the_function_does_not_read_is_drained(tenant: Tenant) -> None:
    for body in (b"z" * (6 << 20), _parts(6)):
        r = tenant.http.post("/fn/ignores", content=body)
        assert r.status_code == 200 and r.text == "not read"
    # the same connection carries the next request (httpx keeps it alive)
    r = tenant.http.post("/fn/count", content=b"q" * (2 << 20))
    assert r.status_code == 200 and r.text.startswith(str(2 << 20))


def _records(tenant: Tenant, fn: str) -> list[dict]:
    """The invocation records of ``fn`` once there are any (they are written behind)."""
    deadline = time.monotonic() + 30
    while True:
        r = tenant.http.get(f"/v1/functions/{fn}/invocations", headers=tenant.auth)
        recs: list[dict] = r.json()["invocations"]
        if recs or time.monotonic() > deadline:
            return recs
        time.sleep(0.1)


def test_a_chunked_body_over_the_limit_fails_the_read_and_gets_413(tenant: Tenant) -> None:
    fn = unique("over")
    assert tenant.deploy(fn, COUNT, public=True, timeout_ms=60000).status_code == 201
    r = tenant.http.post(f"/fn/{fn}", content=_parts(LIMIT // PART + 2))
    # the function's answer (a 500 saying why its read failed) is replaced: the client
    # is told its body was too large, as when it declares its length
    assert r.status_code == 413
    assert r.json()["type"].endswith("/body-too-large")
    assert r.headers["connection"] == "close"  # the connection carries no next request
    (rec,) = _records(tenant, fn)
    assert rec["status"] == 413
    # the function saw the failure as a TypeError of its read
    assert f"TypeError: the request body exceeds {LIMIT} bytes" in "\n".join(rec["logs"])
    # a declared length over the limit is refused before anything runs
    r = tenant.http.post("/fn/count", content=b"w" * (LIMIT + 1))
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_a_client_leaving_mid_upload_ends_the_invocation(
    gw: GatewayProcess, tenant: Tenant
) -> None:
    fn = unique("waits")
    r = tenant.deploy(fn, COUNT, public=True, timeout_ms=60000)
    assert r.status_code == 201, r.text
    s = _open(gw, f"/fn/{fn}")
    s.sendall(_chunk(b"b" * (256 << 10)))
    # the client goes away before sending the rest (whether the function has started
    # reading by then or not, its read sees the disconnect: the call is abandoned)
    s.close()
    recs = _records(tenant, fn)
    assert [rec["status"] for rec in recs] == [499], recs


def test_an_asynchronous_invocation_gets_the_whole_body(tenant: Tenant) -> None:
    fn = unique("async-count")
    assert tenant.deploy(fn, COUNT, timeout_ms=10000).status_code == 201
    key = {"x-api-key": tenant.key(functions=[fn])["key"]}
    r = tenant.http.post(
        f"/fn/{fn}", content=b"c" * (300 << 10), headers={**key, "Prefer": "respond-async"}
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    view: dict = {}
    while time.monotonic() < deadline:
        view = tenant.http.get(r.headers["location"], headers=key).json()
        if view["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert view["status"] == "succeeded", view
    assert view["response"]["body"] == f"{300 << 10} 1"  # whole: one part
    # stored whole, so a chunked body over the limit is refused (not accepted)
    r = tenant.http.post(
        f"/fn/{fn}",
        content=_parts(LIMIT // PART + 1),
        headers={**key, "Prefer": "respond-async"},
    )
    assert r.status_code == 413, r.text


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_the_gateway_holds_a_part_not_the_upload(gw: GatewayProcess, tenant: Tenant) -> None:
    assert gw.proc is not None
    pid = gw.proc.pid
    size = 30 << 20
    r = tenant.http.post("/fn/count", content=_parts(4))  # warm: code, pools, connection
    assert r.status_code == 200
    before = peak = _rss(pid)

    def parts() -> Iterator[bytes]:
        nonlocal peak
        for i in range(size // PART):
            if i % 4 == 0:
                peak = max(peak, _rss(pid))
            yield b"m" * PART

    r = tenant.http.post("/fn/count", content=parts())
    assert r.status_code == 200 and r.text.split()[0] == str(size)
    # read whole, the body alone would be 30 MiB in the gateway (twice, while joined)
    assert peak - before < size // 4, f"the gateway grew by {(peak - before) >> 20} MiB"
