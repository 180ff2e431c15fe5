"""Streaming through the gateway (issue 20, item 3), end to end: a real ``isogate serve``
(Hypercorn, a real worker) on loopback, a loopback upstream, httpx as the client.

* chunks reach the client before the function's stream ends: the function writes a
  first chunk, then waits on an upstream that answers only once the client has read
  that chunk (without streaming the call could never finish: the upstream would give
  up and answer ``late``);
* the response-size limit while streaming: headers are gone, so the client sees a
  truncated body (the chunked encoding never terminates) of at most the limit;
* a client leaving mid-stream cancels the function: its pending fetch to the upstream
  is closed (the upstream sees its connection drop), long before the function's time
  limit;
* a 192 MiB upstream body proxied through ``return fetch(...)`` with gateway and worker
  memory growing by far less than the body.
"""

from __future__ import annotations

import http.server
import os
import select
import threading
from collections.abc import Iterator

import httpx
import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess, loopback_upstream

LIMIT = 256 << 20  # runtime.max_response_body of this gateway
BIG = 192 << 20  # bytes the upstream's /big sends (egress limit raised above it)
#: what a worker may grow by while passing BIG through: the body's first MiB goes through
#: JavaScript (hostio.STREAM_AFTER), which costs a transient 9-16 MiB measured here for
#: bodies of 96 and 384 MiB alike (24 MiB once on a loaded machine); the rest is never
#: held whole
GROWTH_LIMIT = BIG // 4

FIRST_THEN_GATE = """export default { async fetch(req, env) {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  const enc = new TextEncoder();
  (async () => {
    await w.write(enc.encode('first;'));
    const r = await fetch(env.UPSTREAM + '/gate');
    await w.write(enc.encode(await r.text()));
    await w.close();
  })();
  return new Response(readable, { headers: { 'content-type': 'text/plain' } });
} }"""

ENDLESS = """export default { async fetch() {
  const chunk = new Uint8Array(1 << 20).fill(120);
  return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk.slice()); } }));
} }"""

HOLDS = """export default { async fetch(req, env) {
  let n = 0;
  return new Response(new ReadableStream({ async pull(c) {
    if (n++ === 0) { c.enqueue(new TextEncoder().encode('tick;')); return; }
    const r = await fetch(env.UPSTREAM + '/hold');
    c.enqueue(new Uint8Array(await r.arrayBuffer()));
  } }));
} }"""

PROXY = """export default { fetch(req, env) { return fetch(env.UPSTREAM + '/big'); } }"""

READS_ALL = """export default { async fetch(req, env) {
  const r = await fetch(env.UPSTREAM + '/big');
  try { await r.arrayBuffer(); return new Response('read it all'); }
  catch (e) { return new Response(e.name + ': ' + e.message, { status: 507 }); }
} }"""

GZIPPED_STREAM = """export default { async fetch() {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  (async () => {
    for (let i = 0; i < 3; i++) { await scheduler.wait(1); await w.write(new TextEncoder().encode('part ' + i + ';')); }
    await w.close();
  })();
  return new Response(readable, { headers: { 'content-encoding': 'gzip' } });
} }"""


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    released = threading.Event()
    hold_started = threading.Event()
    hold_dropped = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/gate":
            body = b"released" if self.released.wait(60) else b"late"
            self._send(body)
        elif self.path == "/hold":
            # never answers: waits until the function's side closes the connection
            type(self).hold_started.set()
            ready, _, _ = select.select([self.connection], [], [], 120)
            if ready and not self.connection.recv(1, os.MSG_PEEK if hasattr(os, "MSG_PEEK") else 0):
                type(self).hold_dropped.set()
            self.close_connection = True
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(BIG))
            self.end_headers()
            block = bytes(range(256)) * 256  # 64 KiB
            for _ in range(BIG // len(block)):
                self.wfile.write(block)
        else:
            self.send_error(404)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with loopback_upstream(_Upstream) as url:
        try:
            yield url
        finally:
            _Upstream.released.set()  # a handler still holding lets go before shutdown


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(
        tmp_path_factory.mktemp("streamed") / "data",
        {
            "ISOGATE_EGRESS__ALLOW": '["127.0.0.1"]',
            "ISOGATE_EGRESS__MAX_RESPONSE_BYTES": str(384 << 20),
            "ISOGATE_RUNTIME__MAX_RESPONSE_BODY": str(LIMIT),
            "ISOGATE_RUNTIME__MAX_TIMEOUT_MS": "120000",
        },
    )
    gateway.start()
    yield gateway
    assert gateway.stop() == 0, gateway.log.read_text()[-3000:]


@pytest.fixture(scope="module")
def tenant(gw: GatewayProcess, upstream: str) -> Iterator[Tenant]:
    t = Tenant(gw.url, unique("streamed"))
    for name, code in (
        ("gate", FIRST_THEN_GATE),
        ("endless", ENDLESS),
        ("holds", HOLDS),
        ("proxy", PROXY),
        ("reads-all", READS_ALL),
        ("gzipped", GZIPPED_STREAM),
    ):
        r = t.deploy(name, code, env={"UPSTREAM": upstream}, public=True, timeout_ms=120000)
        assert r.status_code == 201, r.text
    yield t
    t.http.close()


def test_chunks_reach_the_client_before_the_stream_ends(tenant: Tenant) -> None:
    _Upstream.released.clear()
    with tenant.http.stream("GET", "/fn/gate") as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers  # chunked: the length is not known
        chunks = r.iter_raw()
        seen = b""
        while len(seen) < len(b"first;"):
            seen += next(chunks)
        assert seen == b"first;"  # got it while the function still waits on /gate
        _Upstream.released.set()
        rest = b"".join(chunks)
    assert seen + rest == b"first;released"


def test_the_size_limit_cuts_a_streamed_body_short(tenant: Tenant) -> None:
    got = 0
    with tenant.http.stream("GET", "/fn/endless") as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # no terminating chunk
            for chunk in r.iter_raw():
                got += len(chunk)
    assert 0 < got <= LIMIT


def test_a_client_leaving_mid_stream_cancels_the_function(tenant: Tenant) -> None:
    _Upstream.hold_started.clear()
    _Upstream.hold_dropped.clear()
    with tenant.http.stream("GET", "/fn/holds") as r:
        assert r.status_code == 200
        # keep the iterator: a temporary one is finalized as soon as next() returns, and
        # httpcore closes the connection of a response closed unread: the client would
        # leave right here, racing the function's fetch (the gateway cancels the call)
        chunks = r.iter_raw()
        assert next(chunks) == b"tick;"
        # once the function waits on /hold (its fetch reached the upstream), the client
        # leaves: leaving earlier could cancel the fetch before it was ever sent
        assert _Upstream.hold_started.wait(60), "the function never fetched /hold"
    # the gateway cancels the call, the executor ends it and its fetch is closed
    assert _Upstream.hold_dropped.wait(60), "the function's fetch was never cancelled"


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def test_a_large_body_streams_through_in_bounded_memory(gw: GatewayProcess, tenant: Tenant) -> None:
    assert gw.proc is not None
    gateway_pid = gw.proc.pid
    r = tenant.http.get("/fn/proxy")  # warm: code loaded, pools made, connections open
    assert r.status_code == 200 and len(r.content) == BIG
    del r
    workers = _children(gateway_pid)
    assert workers, "no worker process found"
    before = {pid: _rss(pid) for pid in [gateway_pid, *workers]}
    peak = dict(before)
    total = 0
    with tenant.http.stream("GET", "/fn/proxy") as r:
        assert r.status_code == 200
        for i, chunk in enumerate(r.iter_raw()):
            total += len(chunk)
            if i % 16 == 0:
                for pid in peak:
                    peak[pid] = max(peak[pid], _rss(pid))
    assert total == BIG
    for pid in peak:
        growth = peak[pid] - before[pid]
        assert growth < GROWTH_LIMIT, (
            f"pid {pid} grew by {growth >> 20} MiB for a {BIG >> 20} MiB body"
        )


def test_a_streamed_body_marked_gzip_is_gzipped(tenant: Tenant) -> None:
    r = tenant.http.get("/fn/gzipped")
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.text == "part 0;part 1;part 2;"  # httpx decoded the gzip the host made


def test_a_huge_fetched_body_read_in_javascript_fails_cleanly(tenant: Tenant) -> None:
    """Each chunk read into JavaScript stays in the isolate (stpyv8 keeps script
    sources): past the cap the read rejects with a TypeError the function can catch,
    and the worker lives (a passed-through body has no such cap: the test above)."""
    r = tenant.http.get("/fn/reads-all")
    assert r.status_code == 507, r.text
    assert r.text.startswith("TypeError: fetched bodies read in JavaScript are limited")
    r = tenant.http.get("/fn/gzipped")  # the worker still serves
    assert r.status_code == 200
