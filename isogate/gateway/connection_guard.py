"""ASGI middleware: close the connection when a response goes out before the request
body was read (e.g. 401 or 413 on an upload), so the unread body cannot stall or be
misread as the next request on a keep-alive connection; and refuse request framing that
smuggling relies on (``Content-Length`` together with ``Transfer-Encoding``, RFC 9112
section 6.3), which h11 would otherwise accept."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isogate.gateway.problems import Problem


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
            problem = Problem(
                400,
                "bad-request",
                "Bad request",
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
