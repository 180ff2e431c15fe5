"""Streams end to end (issue 20): a real ``isogate serve`` on loopback whose functions
answer with streamed bodies: a TransformStream fed after timers, a proxy that pipes a
fetch() body from a loopback upstream through a TransformStream, and a gzip
CompressionStream whose output Python's gzip module reads."""

from __future__ import annotations

import gzip
import http.server
from collections.abc import Iterator

import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess, loopback_upstream

STREAMED = """export default { async fetch() {
  const { readable, writable } = new TransformStream({
    transform(chunk, c) { c.enqueue(new TextEncoder().encode(chunk)); } });
  const w = writable.getWriter();
  (async () => {
    for (let i = 0; i < 3; i++) { await scheduler.wait(5); await w.write('line ' + i + '\\n'); }
    await w.close();
  })();
  return new Response(readable, { headers: { 'content-type': 'text/plain' } });
} }"""

PROXY = """export default { async fetch(req, env) {
  const up = await fetch(env.UPSTREAM + '/data');
  const shout = new TransformStream({ transform(chunk, c) {
    c.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase())); } });
  return new Response(up.body.pipeThrough(shout), { status: up.status });
} }"""

GZIP = """export default { async fetch(req) {
  const text = await req.text();
  return new Response(new Response(text).body.pipeThrough(new CompressionStream('gzip')),
    { headers: { 'content-type': 'application/octet-stream' } });
} }"""


class _Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        data = b"from the upstream, " * 100
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with loopback_upstream(_Upstream) as url:
        yield url


@pytest.fixture(scope="module")
def stream_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        tmp_path_factory.mktemp("streams") / "data", {"ISOGATE_EGRESS__ALLOW": '["127.0.0.1"]'}
    )
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def test_streamed_bodies_through_the_gateway(stream_gateway: GatewayProcess, upstream: str) -> None:
    t = Tenant(stream_gateway.url, unique("streams"))
    try:
        for name, code, env in (
            ("streamed", STREAMED, {}),
            ("proxy", PROXY, {"UPSTREAM": upstream}),
            ("gz", GZIP, {}),
        ):
            r = t.deploy(name, code, env=env, public=True)
            assert r.status_code == 201, r.text
        r = t.http.get("/fn/streamed")
        assert r.status_code == 200, r.text
        assert r.text == "line 0\nline 1\nline 2\n"
        assert r.headers["content-type"] == "text/plain"
        r = t.http.get("/fn/proxy")
        assert r.status_code == 200, r.text
        assert r.text == "FROM THE UPSTREAM, " * 100
        payload = "compress this text, please. " * 40
        r = t.http.post("/fn/gz", content=payload.encode())
        assert r.status_code == 200, r.text
        assert len(r.content) < len(payload)
        assert gzip.decompress(r.content) == payload.encode()
    finally:
        t.http.close()
