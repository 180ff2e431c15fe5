"""ASGI middleware: close the connection when a response goes out before the request
body was read (e.g. 401 or 413 on an upload), so the unread body cannot stall or be
misread as the next request on a keep-alive connection; and refuse request framing that
smuggling relies on (``Content-Length`` together with ``Transfer-Encoding``, RFC 9112
section 6.3), which h11 would otherwise accept."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isogate.gateway.errors import BadRequest


class CloseUnreadBody:
    """Adds ``Connection: close`` to responses that leave request body bytes unread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [k for k, _ in scope["headers"]]
        if b"transfer-encoding" in names and (
            b"content-length" in names or names.count(b"transfer-encoding") > 1
        ):
            problem = BadRequest(
                "ambiguous request framing: Transfer-Encoding with Content-Length",
                {"Connection": "close"},
            )
            await problem.response()(scope, receive, send)
            return
        has_body = any(
            (k == b"content-length" and v.strip() not in (b"0", b"")) or k == b"transfer-encoding"
            for k, v in scope["headers"]
        )
        done = not has_body

        async def guarded_receive() -> Message:
            nonlocal done
            message = await receive()
            kind = message["type"]
            if kind == "http.disconnect" or (
                kind == "http.request" and not message.get("more_body", False)
            ):
                done = True
            return message

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not done:
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"connection"]
                headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)


# ------------------------------------------------------------- aborting stalled connections
#
# After the write timeout (a client that stopped reading) the response is given up and
# Hypercorn closes the connection, but asyncio's close() first flushes what the transport
# still buffers: the socket, and its file descriptor, stayed open until the peer read or
# reset (issue 24, item 3). ASGI gives the app no handle on the transport, so Hypercorn's
# TCP server is wrapped to remember each connection's writer by its (client, server)
# addresses, the pair a scope carries; :func:`abort_connection` drops the transport
# without flushing.

_LIVE: dict[tuple[object, object], asyncio.StreamWriter] = {}
_installed = False


def install() -> None:
    """Make Hypercorn's TCP connections abortable by :func:`abort_connection` (once)."""
    global _installed
    if _installed:
        return
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.utils import parse_socket_addr

    run = TCPServer.run

    async def tracked_run(self: TCPServer) -> None:
        key: tuple[object, object] | None = None
        try:
            sock = self.writer.get_extra_info("socket")
            key = (
                parse_socket_addr(sock.family, sock.getpeername()),
                parse_socket_addr(sock.family, sock.getsockname()),
            )
            _LIVE[key] = self.writer
        except (OSError, AttributeError):  # gone already, or not a socket: Hypercorn copes
            key = None
        try:
            await run(self)
        finally:
            if key is not None and _LIVE.get(key) is self.writer:
                del _LIVE[key]

    TCPServer.run = tracked_run  # type: ignore[method-assign]
    _installed = True


def abort_connection(scope: Scope) -> bool:
    """Drop the connection of ``scope`` at once, discarding unsent bytes; returns whether
    it did. HTTP/2 connections are aborted only when the connection itself is backed up
    (its buffer at the high-water mark): a stream stalled by its own flow-control window
    must not take the other streams down with it."""
    client, server = scope.get("client"), scope.get("server")
    writer = _LIVE.get((tuple(client) if client else None, tuple(server) if server else None))
    if writer is None:
        return False
    transport = writer.transport
    if transport.is_closing() and transport.get_write_buffer_size() == 0:
        return False
    if scope.get("http_version") == "2":
        high = transport.get_write_buffer_limits()[1]
        if transport.get_write_buffer_size() < max(high, 1):
            return False
    transport.abort()
    return True
