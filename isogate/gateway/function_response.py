"""A function's answer sent to its client: :class:`FunctionResponse`.

It holds what every function response holds while it goes out, buffered or streamed
(:class:`~isogate.gateway.streamed_response.StreamedResponse` extends it): the status,
the headers, the reservation (``Lease``) the body took in the response buffers, and the
write timeout every message goes out under (``http_write_timeout_seconds``, per
message: progress, not total). A client that stops reading is given up after it and its
connection aborted; the reservation is released once, whether the response was sent,
given up, or never sent at all (the request task ended first).

The buffered body is sent here, in chunks of :data:`RESPONSE_CHUNK`: the data plane's
hot path, so it costs no more than one ``send`` per chunk.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import Receive, Scope, Send

from isogate.gateway.auth_failures import FUNCTION_ANSWERED
from isogate.gateway.connection_guard import abort_connection
from isogate.gateway.response_buffers import Lease

log = logging.getLogger(__name__)

#: Bytes per body message: each send waits for Hypercorn to drain the socket
#: (back-pressure), so a client that does not read holds at most about this much in the
#: transport's buffer, not the whole body.
RESPONSE_CHUNK = 64 * 1024


class FunctionResponse:
    """The function's answer as ASGI messages (a Starlette ``Response`` would first
    compute headers that are then replaced), its body sent in chunks under the write
    timeout; the body's reservation in the response buffers is released once it is out
    or given up."""

    __slots__ = ("body", "headers", "lease", "status", "write_timeout")

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        lease: Lease | None = None,
        write_timeout: float | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.lease = lease
        self.write_timeout = write_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # the function's own status (a 401 included) is not a gateway credential failure
        scope[FUNCTION_ANSWERED] = True
        body, self.body = self.body, b""
        try:
            async with asyncio.timeout(None) as deadline:
                self._progress(deadline)
                await send(
                    {"type": "http.response.start", "status": self.status, "headers": self.headers}
                )
                if len(body) <= RESPONSE_CHUNK:
                    await send({"type": "http.response.body", "body": body})
                    return
                view = memoryview(body)
                for start in range(0, len(body), RESPONSE_CHUNK):
                    self._progress(deadline)
                    end = start + RESPONSE_CHUNK
                    await send(
                        {
                            "type": "http.response.body",
                            "body": bytes(view[start:end]),
                            "more_body": end < len(body),
                        }
                    )
        except TimeoutError:
            # the client stopped reading: give the response up, free the body instead of
            # keeping it for the client
            self._give_up(scope, log, "client %s stopped reading a response; %s")
        finally:
            self._release()

    def _progress(self, deadline: asyncio.Timeout) -> None:
        """Give the next message the whole write timeout (per message: progress, not
        total); no write timeout, no deadline."""
        if self.write_timeout is not None:
            deadline.reschedule(asyncio.get_running_loop().time() + self.write_timeout)

    @staticmethod
    def _give_up(scope: Scope, log: logging.Logger, message: str) -> None:
        """Drop the connection of a client that stopped reading now, and log ``message``
        (its client, then how the connection ends): a plain close waited for the client
        to take the transport's buffer, holding the socket."""
        aborted = abort_connection(scope)
        log.info(message, scope.get("client"), "connection aborted" if aborted else "closing")

    def _release(self) -> None:
        """Free the body's reservation in the response buffers (once)."""
        if self.lease is not None:
            self.lease.release()
            self.lease = None

    def __del__(self) -> None:
        # never sent (the request task ended first): the bytes must not stay reserved
        self._release()
