"""A deterministic loopback HTTP/1.1 server for Workers that call ``fetch()``.

Both runtimes (workerd and isogate) call the *same* upstream during one test run, so
whatever it answers must depend only on the request: no ``date``/``server`` headers,
no clocks, no randomness. It is a plain asyncio server (not an ASGI framework) so the
wire is ours: header order and case are recorded exactly as received, and response
headers are exactly the ones listed here.

Endpoints (any other path: 404 JSON):

* ``GET /api/users``, ``/api/users/<id>`` (1..5), ``/api/posts?userId=<id>``,
  ``/api/config`` -- small JSON APIs; unknown ids give 404 JSON.
* ``ANY /echo[/...]`` -- JSON: method, target, headers (names lower-cased, wire order,
  transport headers left out, see :data:`TRANSPORT`), body (text if UTF-8, else base64),
  body length. What the runtime's ``fetch()`` *adds* (e.g. ``accept-encoding``) is part of
  the echo on purpose: isogate must send the same.
* ``GET /slow?ms=N`` -- answers after N ms (at most 10 s).
* ``ANY /redirect/<status>?to=<location>`` -- that status with ``Location: <location>``
  verbatim (relative or absolute). ``/chain/<n>`` -- 302 to ``/chain/<n-1>`` (relative),
  ``/chain/0`` answers JSON.
* ``GET /cookies`` -- three ``set-cookie`` lines plus a normal header.
* ``ANY /status/<code>`` -- that status, text body ``status <code>`` (none for 204/304).
* ``GET /large?bytes=N`` -- N bytes of a repeating printable pattern (at most 8 MiB).
* ``GET /html`` -- a small HTML page (for rewriting Workers). ``GET /text`` -- plain text.
* ``GET /headers`` -- a response with several custom headers (for header-stripping proxies).
* ``GET /gzip`` -- a gzip-encoded body with ``content-encoding: gzip``.
* ``ANY /flaky/<key>?fail=N`` -- 503 for the first N requests of that key, then 200
  (counters cleared by :meth:`Upstream.reset`).
* ``POST /sink[/...]`` -- the webhook sink: records method, target, headers and body
  (see :attr:`Upstream.sink`), answers 204. ``GET /sink-log`` returns the records.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Request headers that belong to the connection, not to the request a Worker made:
#: left out of echoes and sink records (still in :attr:`Upstream.requests`).
TRANSPORT = frozenset({"connection", "keep-alive", "transfer-encoding", "te"})

USERS = [
    {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "team": "engines"},
    {"id": 2, "name": "Alan Turing", "email": "alan@example.com", "team": "machines"},
    {"id": 3, "name": "Grace Hopper", "email": "grace@example.com", "team": "compilers"},
    {"id": 4, "name": "Edsger Dijkstra", "email": "edsger@example.com", "team": "paths"},
    {"id": 5, "name": "Barbara Liskov", "email": "barbara@example.com", "team": "types"},
]
POSTS = [
    {"id": 10 + i, "userId": 1 + i % 3, "title": f"Post number {i}", "likes": (i * 7) % 11}
    for i in range(9)
]
HTML = (
    "<!doctype html>\n<html><head><title>Upstream Shop</title>"
    '<link rel="stylesheet" href="/static/site.css"></head>\n'
    '<body><h1>Welcome to Upstream Shop</h1>\n<p class="price">Price: 10 USD</p>\n'
    '<a href="http://upstream.example/products">Products</a>\n'
    '<img src="/img/logo.png" alt="logo">\n</body></html>\n'
)
PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n"
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    418: "I'm a teapot",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(slots=True)
class Received:
    """One request as it arrived: raw header names (case kept), body after de-chunking."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool


@dataclass(slots=True)
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _json(status: int, value: Any, extra: list[tuple[str, str]] | None = None) -> Reply:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, [("content-type", "application/json"), *(extra or [])], body)


def _text(status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, [("content-type", ctype)], text.encode())


def request_view(req: Received) -> dict[str, Any]:
    """The JSON an echo returns (and a sink record holds): no transport headers."""
    view: dict[str, Any] = {
        "method": req.method,
        "target": req.target,
        "headers": [[k.lower(), v] for k, v in req.headers if k.lower() not in TRANSPORT],
        "bodyLength": len(req.body),
    }
    try:
        view["body"] = req.body.decode("utf-8")
    except UnicodeDecodeError:
        view["bodyBase64"] = base64.b64encode(req.body).decode()
    return view


class Upstream:
    """The server, on its own thread and event loop; ``url`` is ``http://127.0.0.1:<port>``.

    ``closed_url`` points at a loopback port that is bound but never listens (held for
    the server's lifetime, so nothing else can take it): connecting is refused.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.sink: list[dict[str, Any]] = []
        self._flaky: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._closed_sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.closed_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def closed_url(self) -> str:
        return f"http://127.0.0.1:{self.closed_port}"

    # -- lifecycle
    def start(self) -> Upstream:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))  # bound, never listen(): connections are refused
        self._closed_sock = s
        self.closed_port = s.getsockname()[1]
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._conn, "127.0.0.1", 0, backlog=256)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if self._closed_sock is not None:
            self._closed_sock.close()

    # -- state the tests look at
    def reset(self) -> None:
        """Forget flaky counters, sink records and the request log (between the two sides)."""
        with self._lock:
            self._flaky.clear()
            self.sink.clear()
            self.requests.clear()

    def wait_sink(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The sink records once there are at least ``count`` (or what arrived by timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.sink) >= count or time.monotonic() >= deadline:
                    return list(self.sink)
            time.sleep(0.01)

    # -- HTTP/1.1
    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            while True:
                req = await self._read_request(reader)
                if req is None:
                    break
                with self._lock:
                    self.requests.append(req)
                reply = await self._handle(req)
                head = f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Unknown')}\r\n"
                lines = [f"{k}: {v}\r\n" for k, v in reply.headers]
                no_body = reply.status in (204, 304) or 100 <= reply.status < 200
                if not no_body:
                    lines.append(f"content-length: {len(reply.body)}\r\n")
                close = any(
                    k.lower() == "connection" and v.lower() == "close" for k, v in req.headers
                )
                if close:
                    lines.append("connection: close\r\n")
                data = (head + "".join(lines) + "\r\n").encode("latin-1")
                if not no_body and req.method != "HEAD":
                    data += reply.body
                writer.write(data)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> Received | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers.append((k, v.strip()))
        low = {k.lower(): v for k, v in headers}
        chunked = "chunked" in low.get("transfer-encoding", "").lower()
        if chunked:
            body = b""
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers until the empty line
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
        else:
            body = await reader.readexactly(int(low.get("content-length", "0") or 0))
        return Received(method, target, headers, body, chunked)

    # -- routes
    async def _handle(self, req: Received) -> Reply:
        parts = urlsplit(req.target)
        path = parts.path
        q = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        seg = [s for s in path.split("/") if s]
        if path == "/echo" or path.startswith("/echo/"):
            return _json(200, request_view(req), [("x-upstream", "echo")])
        if path == "/api/users":
            return _json(200, USERS, [("cache-control", "max-age=60")])
        if len(seg) == 3 and seg[:2] == ["api", "users"]:
            user = next((u for u in USERS if str(u["id"]) == seg[2]), None)
            if user is None:
                return _json(404, {"error": "user not found", "id": seg[2]})
            return _json(200, user, [("cache-control", "max-age=60"), ("etag", f'"u{seg[2]}"')])
        if path == "/api/posts":
            uid = q.get("userId")
            return _json(200, [p for p in POSTS if uid is None or str(p["userId"]) == uid])
        if path == "/api/config":
            return _json(200, {"feature": {"beta": True, "ratio": 0.25}, "version": "2.4.1"})
        if path == "/slow":
            ms = min(int(q.get("ms", "100")), 10_000)
            await asyncio.sleep(ms / 1000)
            return _json(200, {"slow": True, "ms": ms})
        if len(seg) == 2 and seg[0] == "redirect":
            return Reply(int(seg[1]), [("location", q.get("to", "/echo"))], b"redirecting")
        if len(seg) == 2 and seg[0] == "chain":
            n = int(seg[1])
            if n <= 0:
                return _json(200, {"chain": "end", "method": req.method})
            return Reply(302, [("location", f"/chain/{n - 1}")], b"")
        if path == "/cookies":
            return Reply(
                200,
                [
                    ("content-type", "text/plain"),
                    ("set-cookie", "session=abc123; Path=/; HttpOnly"),
                    ("x-trace", "t-1"),
                    ("set-cookie", "theme=dark; Max-Age=3600"),
                    ("set-cookie", "lang=en-US; Path=/; SameSite=Lax"),
                ],
                b"cookies set",
            )
        if len(seg) == 2 and seg[0] == "status":
            code = int(seg[1])
            if code in (204, 304):
                return Reply(code, [("x-status", str(code))])
            return Reply(
                code,
                [("content-type", "text/plain"), ("x-status", str(code))],
                f"status {code}".encode(),
            )
        if path == "/large":
            n = min(int(q.get("bytes", "1048576")), 8 << 20)
            body = (PATTERN * (n // len(PATTERN) + 1))[:n]
            return Reply(200, [("content-type", "application/octet-stream")], body)
        if path == "/html":
            return _text(200, HTML, "text/html; charset=utf-8")
        if path == "/text":
            return _text(200, "The quick brown fox jumps over the lazy dog.\n")
        if path == "/headers":
            return Reply(
                200,
                [
                    ("content-type", "text/plain"),
                    ("X-Powered-By", "UpstreamServer/1.0"),
                    ("x-internal-token", "secret-42"),
                    ("Cache-Control", "no-store"),
                    ("vary", "Accept"),
                    ("x-multi", "one"),
                    ("x-multi", "two"),
                ],
                b"headers here",
            )
        if path == "/gzip":
            raw = b"compressed hello " * 20
            return Reply(
                200,
                [("content-type", "text/plain"), ("content-encoding", "gzip")],
                gzip.compress(raw, mtime=0),
            )
        if len(seg) == 2 and seg[0] == "flaky":
            fail = int(q.get("fail", "1"))
            with self._lock:
                n = self._flaky.get(seg[1], 0) + 1
                self._flaky[seg[1]] = n
            if n <= fail:
                return _json(503, {"attempt": n, "ok": False}, [("retry-after", "0")])
            return _json(200, {"attempt": n, "ok": True})
        if seg[:1] == ["sink"] and req.method != "GET":
            with self._lock:
                self.sink.append(request_view(req))
            return Reply(204, [("x-sink", "recorded")])
        if path == "/sink-log":
            with self._lock:
                return _json(200, list(self.sink))
        return _json(404, {"error": "no such upstream route", "path": path})
