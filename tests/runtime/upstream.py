"""A small HTTP/1.1 upstream on 127.0.0.1 for fetch tests (asyncio + h11).

It records every connection and request, and answers by path:

* ``/echo``: JSON of the request (method, target, headers in wire order, body).
* ``/status/<code>?reason=<text>``: that status line, empty body.
* ``/cookies``: two ``Set-Cookie`` headers among others, in a fixed order.
* ``/redirect?status=<code>&to=<url>``: a redirect (``to`` absent: no Location).
* ``/bytes?n=<n>[&chunked=1]``: n bytes of ``x``.
* ``/gzip``, ``/br``: a compressed JSON body with its Content-Encoding;
  ``/gzip?n=<n>``: n zero bytes, gzip-compressed (a small "bomb").
* ``/stall``: headers and part of the body, then nothing until the client leaves
  (``closed_stalls`` counts those that saw the client close).
* ``/hang``: reads the request and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import ssl
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import brotli
import h11


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Upstream:
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    closed_stalls: int = 0
    stall_closed: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                req = await self._read_request(conn, reader)
                if req is None:
                    return
                keep = await self._answer(req, conn, reader, writer)
                if not keep or conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> Seen | None:
        head: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and head is None:
                    return None
                continue
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                seen = Seen(
                    head.method.decode(),
                    head.target.decode(),
                    [(k.decode(), v.decode("latin-1")) for k, v in head.headers.raw_items()],
                    body,
                )
                self.requests.append(seen)
                return seen
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _answer(
        self,
        req: Seen,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        url = urlsplit(req.target)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path

        def send(
            status: int, headers: list[tuple[str, str]], body: bytes = b"", reason: str = ""
        ) -> None:
            if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
                if q.get("chunked") != "1":
                    headers = [*headers, ("Content-Length", str(len(body)))]
                else:
                    headers = [*headers, ("Transfer-Encoding", "chunked")]
            out = conn.send(h11.Response(status_code=status, headers=headers, reason=reason))
            if body and req.method != "HEAD":
                out += conn.send(h11.Data(data=body))
            out += conn.send(h11.EndOfMessage())
            writer.write(out)

        if path == "/echo":
            doc = {
                "method": req.method,
                "target": req.target,
                "headers": req.headers,
                "body": req.body.decode("latin-1"),
            }
            send(200, [("Content-Type", "application/json")], json.dumps(doc).encode(), "OK")
        elif path.startswith("/status/"):
            send(int(path.rsplit("/", 1)[1]), [], b"", q.get("reason", ""))
        elif path == "/cookies":
            send(
                200,
                [
                    ("X-First", "1"),
                    ("Set-Cookie", "a=1; Path=/"),
                    ("X-Middle", "m"),
                    ("Set-Cookie", "b=2"),
                    ("X-Dup", "one"),
                    ("X-Dup", "two"),
                ],
                b"cookies",
                "OK",
            )
        elif path == "/redirect":
            headers = [("Location", q["to"])] if "to" in q else []
            send(int(q.get("status", "302")), headers, b"moved", "Moved")
        elif path == "/bytes":
            send(200, [], b"x" * int(q["n"]), "OK")
        elif path == "/gzip":
            if "n" in q:
                body = gzip.compress(b"\0" * int(q["n"]))
            else:
                body = gzip.compress(json.dumps({"compressed": "gzip"}).encode())
            send(200, [("Content-Encoding", "gzip")], body, "OK")
        elif path == "/br":
            body = brotli.compress(json.dumps({"compressed": "br"}).encode())
            send(200, [("Content-Encoding", "br")], body, "OK")
        elif path == "/deflate":
            import zlib

            send(200, [("Content-Encoding", "deflate")], zlib.compress(b"raw deflate"), "OK")
        elif path == "/badgzip":
            send(200, [("Content-Encoding", "gzip")], b"not gzip at all", "OK")
        elif path == "/stall":
            head = conn.send(
                h11.Response(status_code=200, headers=[("Content-Length", "100")], reason="OK")
            )
            writer.write(head + conn.send(h11.Data(data=b"partial")))
            await writer.drain()
            await reader.read()  # until the client closes
            self.closed_stalls += 1
            self.stall_closed.set()
            return False
        elif path == "/hang":
            await reader.read()
            return False
        else:
            send(404, [], b"not found", "Not Found")
        await writer.drain()
        return True
