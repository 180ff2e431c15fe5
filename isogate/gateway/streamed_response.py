"""A function's streamed response body, sent to its client as the function produces it.

The runtime hands over the status and headers first, with a
:class:`~isogate.runtime.body_stream.BodyStream`; each chunk goes out under the write
timeout (``http_write_timeout_seconds``, per chunk: progress, not total), and only once
Hypercorn has taken it (``send`` waits for the socket to drain) is the function granted
as many more bytes. So the bytes held for one streamed response are bounded by the
stream window, whatever the body's size, and a client that reads slowly slows the
function down instead of filling the gateway.

Once the headers are out the status cannot change: a body cut short (over the response
size limit, the function's stream erred or ran out of time, the worker died) ends the
response without its last chunk, so the client sees a truncated response (HTTP/1.1:
the connection closes before the terminating chunk; HTTP/2: the stream is reset). A
client that goes away mid-stream (``http.disconnect``) cancels the function's stream,
and so does a HEAD request once the headers are out (its response has no body).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import Message, Receive, Scope, Send

from isogate.gateway.auth_failures import FUNCTION_ANSWERED
from isogate.gateway.connection_guard import abort_connection
from isogate.gateway.function_response import FunctionResponse
from isogate.gateway.response_buffers import Lease
from isogate.runtime.body_stream import BodyStream

log = logging.getLogger(__name__)


class StreamedResponse(FunctionResponse):
    """ASGI app of one streamed function response (no ``Content-Length``: chunked): a
    :class:`FunctionResponse` whose body comes from ``stream`` instead of ``body``."""

    __slots__ = ("idle_timeout", "receive", "stream")

    def __init__(
        self,
        head: FunctionResponse,
        stream: BodyStream,
        lease: Lease | None,
        idle_timeout: float | None,
    ) -> None:
        """The status, headers (less its ``Content-Length``: the body goes out chunked)
        and write timeout of ``head``; the body read from ``stream``, whose window
        ``lease`` reserved; ``idle_timeout``: the longest wait for the function's next
        chunk (None: no limit)."""
        headers = [(k, v) for k, v in head.headers if k != b"content-length"]
        super().__init__(head.status, headers, b"", lease, head.write_timeout)
        self.stream = stream
        self.idle_timeout = idle_timeout
        #: what to watch for the client leaving instead of the connection's ``receive``
        #: (a request body still streaming into the function: uploads.Upload.receive)
        self.receive: Receive | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[FUNCTION_ANSWERED] = True
        stream = self.stream
        head_only = scope.get("method") == "HEAD"
        watcher = asyncio.create_task(_watch_disconnect(self.receive or receive, stream))
        try:
            async with asyncio.timeout(None) as deadline:
                loop = asyncio.get_running_loop()
                self._progress(deadline)
                await send(
                    {"type": "http.response.start", "status": self.status, "headers": self.headers}
                )
                if head_only:
                    # a HEAD response has no body (h11 drops it): the function's stream is
                    # ended here rather than produced for nobody until it ends or times out
                    stream.cancel()
                while True:
                    # waiting for the function is not the client's fault; a worker that
                    # never ends the stream (wedged) is given up after idle_timeout
                    idle = self.idle_timeout
                    deadline.reschedule(None if idle is None else loop.time() + idle)
                    data = await stream.next()
                    if data is None:
                        break
                    self._progress(deadline)
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                    stream.sent(len(data))
            if stream.error == "" or head_only:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            elif stream.error != "cancelled":
                # headers are gone: the client can only be shown a truncated response
                log.info(
                    "streamed response cut short (%s) for %s", stream.error, scope.get("client")
                )
                abort_connection(scope)
        except TimeoutError:
            stream.cancel()
            self._give_up(
                scope,
                log,
                "streamed response to %s given up (client not reading, or no progress); %s",
            )
        except BaseException:
            stream.cancel()
            raise
        finally:
            watcher.cancel()
            self._release()

    def __del__(self) -> None:
        # never sent (the request task ended first): free the reservation, end the stream
        super().__del__()
        if self.stream.error is None:
            self.stream.cancel()


async def _watch_disconnect(receive: Receive, stream: BodyStream) -> None:
    """Cancel the function's stream when the client goes away."""
    message: Message = await receive()
    while message["type"] != "http.disconnect":
        message = await receive()
    stream.cancel()
