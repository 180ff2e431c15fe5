"""ASGI middleware: the same request-head limits on every transport.

HTTP/1.1 heads are capped by h11 inside Hypercorn (``http_max_head_bytes``, 431), but
HTTP/2 (h2c: prior knowledge or ``Upgrade: h2c``) decodes its heads with HPACK under a
separate, larger ceiling, and neither counts header fields. This check runs on every
request whatever its transport, and measures a head as its HTTP/1.1 form would be
(request line, ``name: value`` lines, the blank line), so one limit means one thing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from isogate.config import Settings
from isogate.gateway.errors import HeadersTooLarge

#: " HTTP/1.1\r\n" after the request target, and the blank line that ends the head
_LINE_OVERHEAD = len(" HTTP/1.1\r\n") + len("\r\n")


def head_size(scope: Scope) -> int:
    """Bytes of ``scope``'s request head written as HTTP/1.1."""
    size = len(scope["method"]) + 1 + len(scope.get("raw_path") or scope["path"].encode())
    query: bytes = scope.get("query_string", b"")
    if query:
        size += 1 + len(query)
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4  # ": " and CRLF
    return size + _LINE_OVERHEAD


class HeadLimits:
    """Answers 431 to a request whose head is over ``http_max_head_bytes`` or which has
    more than ``http_max_headers`` header fields, before anything else reads it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.http_max_head_bytes
        self.max_fields = settings.http_max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            detail = None
            if len(scope["headers"]) > self.max_fields:
                detail = f"more than {self.max_fields} header fields"
            elif head_size(scope) > self.max_bytes:
                detail = f"the request head exceeds {self.max_bytes} bytes"
            if detail is not None:
                problem = HeadersTooLarge(detail, {"Connection": "close"})
                await problem.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
