"""Request bodies that stream into functions: the start is read here, the rest as the
function reads its ``request.body``.

A function's request body is read up to :data:`UPLOAD_HEAD` bytes before the call is
made. A body that ends by then goes to the runtime whole, as every small body does. A
longer one goes with what has arrived, and its :class:`Upload` stays here: the
runtime reads on part by part as the function's stream is read (``BodyRead`` frames,
runtime/frames.py), so neither the gateway nor the worker ever holds more than a part,
and a function that does not read the body does not wait for it. Hypercorn stops
reading the socket while its queue to the app is full, so a client that sends faster
than the function reads is held back by TCP.

The size limit (``runtime.max_request_body``) holds for the whole body: a declared
``Content-Length`` over it is refused with 413 before anything is counted, as before;
a chunked body that passes it mid-way fails the function's read with a ``TypeError``,
and the client is answered 413 all the same (invoke.py) unless the function's streamed
response has begun. Each part must arrive within ``body_read_timeout_seconds``
(progress, not total). When the call is over, what is left is drained (``close``).

While an upload is under way, its reads own the connection's ``receive``: the
gateway's watchers of a client leaving (invoke.py, streamed_response.py) use
:meth:`Upload.receive`, which waits for the body to end (or the client to leave)
before it reads from the connection itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import Message

from isogate.gateway.bodies import has_no_body, read_head
from isogate.gateway.connection_guard import abort_connection
from isogate.runtime.errors import BodyUnreadable

#: bytes read before the call is made: a body that ends within them goes whole
UPLOAD_HEAD = 64 * 1024

_DISCONNECT: Message = {"type": "http.disconnect"}

#: drains under way (a task must be referenced until it is done)
_DRAINS: set[asyncio.Task[None]] = set()


class Upload:
    """The rest of one request's body, read from its connection as the function asks
    (the runtime's :class:`~isogate.runtime.types.RequestBody`)."""

    __slots__ = (
        "_drained",
        "_draining",
        "_ended",
        "_error",
        "_lock",
        "_over",
        "_reader",
        "_receive",
        "_scope",
        "gone",
        "limit",
        "on_gone",
        "size",
        "timeout",
    )

    def __init__(self, request: Request, received: int, limit: int, timeout: float) -> None:
        """``received`` bytes of the body have been read already; ``limit`` is the most
        the whole body may have; ``timeout`` the longest wait for each part."""
        self._receive = request.receive
        self._scope = request.scope
        self._ended = False  # the client sent the whole body (or left)
        self._draining = False
        self._drained = asyncio.Event()
        self._error = ""  # why the body cannot be read on
        self.size = received
        self.limit = limit
        self.timeout = timeout
        self.gone = False  # the client left (a read saw its disconnect)
        #: called when a read finds the client gone (invoke.py: the call is cancelled)
        self.on_gone: Callable[[], None] | None = None
        self._lock = asyncio.Lock()  # one reader of the connection at a time
        self._over = asyncio.Event()  # the body ended, failed, or nobody reads on
        self._reader: asyncio.Task[object] | None = None

    async def read(self) -> bytes | None:
        """The next part, or None at the body's end (BodyUnreadable: see the runtime)."""
        async with self._lock:
            if self._over.is_set():
                if self._error:
                    raise BodyUnreadable(self._error)
                return None
            self._reader = asyncio.current_task()
            try:
                while True:
                    message = await self._next_message()
                    if message["type"] == "http.disconnect":
                        self.gone = self._ended = True
                        if self.on_gone is not None:
                            self.on_gone()
                        raise self._fail("the client went away before sending the whole body")
                    data: bytes = message.get("body", b"")
                    self.size += len(data)
                    if self.size > self.limit:
                        raise self._fail(f"the request body exceeds {self.limit} bytes")
                    if not message.get("more_body", False):
                        self._ended = True
                        self._over.set()
                        return data or None
                    if data:
                        return data
            finally:
                self._reader = None

    async def _next_message(self) -> Message:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._receive()
        except TimeoutError:
            raise self._fail(
                f"the rest of the request body did not arrive within {self.timeout:g} s"
            ) from None

    def _fail(self, why: str) -> BodyUnreadable:
        """The body cannot be read on: this read and every later one fail with ``why``."""
        self._error = why
        self._over.set()
        return BodyUnreadable(why)

    async def read_all(self) -> bytes:
        """The rest of the body, whole (for a caller that needs it in memory)."""
        parts = []
        while (part := await self.read()) is not None:
            parts.append(part)
        return b"".join(parts)

    def close(self) -> None:
        """The invocation is over: nothing reads on (a read under way is cancelled), and
        what the client still sends is drained and dropped: a client sends its whole
        body before it reads the response, so the connection would stall with the
        answer unread (and Hypercorn's reader with it, its queue to the app full)."""
        if self._reader is not None:
            self._reader.cancel()
        self._over.set()
        if not self._ended and not self._draining:
            self._draining = True
            task = asyncio.get_running_loop().create_task(self._drain())
            _DRAINS.add(task)
            task.add_done_callback(_DRAINS.discard)

    async def _drain(self) -> None:
        """Read and drop the rest, for at most ``timeout`` in all (a lingering close,
        as nginx has): a client still sending then loses the connection."""
        async with self._lock:
            try:
                async with asyncio.timeout(self.timeout):
                    while not self._ended:
                        message = await self._receive()
                        if message["type"] == "http.disconnect":
                            self.gone = True
                            self._ended = True
                        elif not message.get("more_body", False):
                            self._ended = True
            except TimeoutError:
                abort_connection(self._scope)
            finally:
                self._drained.set()

    async def receive(self) -> Message:
        """The connection's ``receive`` for a watcher of the client leaving: once the
        body is over (or the client was seen leaving), read from the connection."""
        await self._over.wait()
        if self._draining:  # the drain reads the connection until the body is over
            await self._drained.wait()
        if self.gone:
            return _DISCONNECT
        async with self._lock:
            return await self._receive()


async def read_request_body(
    request: Request, limit: int, timeout: float
) -> tuple[bytes, Upload | None]:
    """The body, whole when it ends within :data:`UPLOAD_HEAD` bytes; else its start and
    the :class:`Upload` that reads the rest (413 and 408 problems as ``read_body``)."""
    head, more = await read_head(request, limit, UPLOAD_HEAD)
    if not more:
        return head, None
    return head, Upload(request, len(head), limit, timeout)


def drain_unread(request: Request, timeout: float) -> None:
    """Drop the body of a request refused before (or while) its body was read, for at
    most ``timeout`` (as :meth:`Upload.close`), so that its client can read the answer."""
    if not has_no_body(request.scope):
        Upload(request, 0, 0, timeout).close()
