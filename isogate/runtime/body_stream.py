"""A function's streamed response body as the gateway process receives it.

The executor sends a :class:`~.messages.Result` with ``sb`` set (status and headers),
then the body as :class:`~.messages.Chunk` frames and an :class:`~.messages.End`. Flow
control is per call and counted in bytes: the executor may run at most
:data:`STREAM_WINDOW` bytes ahead of what the gateway has handed to the client; the
gateway grants more (:class:`~.messages.Credit`) as the client takes it. So a slow client
holds back the function (its stream's reads wait), not the gateway's memory, and the
executor thread is never blocked: a stream waiting for credit is just a flight waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from .types import InvokeResult, JSErrorInfo, Outcome

#: bytes a streamed body may run ahead of its client (in the gateway's hands or in
#: flight); the worker holds back the rest until the gateway grants more
STREAM_WINDOW = 256 * 1024
#: the gateway grants credit once this much has gone out (fewer, larger frames)
CREDIT_STEP = 64 * 1024


class BodyStream:
    """The chunks of one streamed response body, in order, until its end.

    ``error`` is ``None`` while the body goes on, ``""`` once it is complete, else why it
    was cut short (``too_large``, ``error:<name>: <message>``, ``timeout``, ``cpu``,
    ``cancelled``, ``crashed``, ``unsettled``): the client then gets a truncated
    response, its headers being gone.
    """

    __slots__ = ("_cancel", "_chunks", "_credit", "_granted", "_waiter", "error", "held")

    def __init__(self, credit: Callable[[int], None], cancel: Callable[[], None]) -> None:
        self._credit = credit
        self._cancel = cancel
        self._chunks: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._granted = 0  # bytes taken by the client and not yet granted back
        self.error: str | None = None
        self.held = 0  # bytes received and not yet taken

    def feed(self, data: bytes) -> None:
        """The next chunk (from the executor's result pipe)."""
        if self.error is not None and self.error != "":
            return  # cancelled here: what was already in the pipe is dropped
        self._chunks.append(data)
        self.held += len(data)
        self._wake()

    def end(self, err: str) -> None:
        """The body is over (``err`` empty: complete)."""
        if self.error is None:
            self.error = err
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> bytes | None:
        """The next chunk, or ``None`` at the end (see :attr:`error` for how it ended)."""
        while not self._chunks:
            if self.error is not None:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft()
        self.held -= len(data)
        return data

    def sent(self, n: int) -> None:
        """``n`` bytes went out to the client: the executor may send as much more."""
        if self.error is not None:
            return
        self._granted += n
        if self._granted >= CREDIT_STEP:
            n, self._granted = self._granted, 0
            self._credit(n)

    def cancel(self) -> None:
        """The client went away (or stopped reading): end the function's stream there."""
        if self.error is None:
            self.error = "cancelled"
            self._cancel()
        self._chunks.clear()
        self.held = 0
        self._wake()


#: how a body cut short answers a caller that wanted it whole
_CUT = {
    "too_large": Outcome.TOO_LARGE,
    "timeout": Outcome.TIMEOUT,
    "cpu": Outcome.CPU_LIMIT,
    "crashed": Outcome.CRASHED,
}


async def collect(result: InvokeResult) -> InvokeResult:
    """``result`` with its streamed body read to the end (for callers that store or
    inspect the whole body: asynchronous invocations, tests); a body cut short answers
    as what cut it (``too_large``, ``timeout``...; a stream that erred: ``js_error``)."""
    stream: BodyStream | None = result.stream
    if stream is None:
        return result
    parts: list[bytes] = []
    try:
        while (data := await stream.next()) is not None:
            parts.append(data)
            stream.sent(len(data))
    except BaseException:
        stream.cancel()
        raise
    why = stream.error or ""
    if not why:
        return replace(result, body=b"".join(parts), stream=None)
    outcome = _CUT.get(why, Outcome.JS_ERROR)
    error = None
    if outcome is Outcome.JS_ERROR:
        name, _, message = why.removeprefix("error:").partition(": ")
        if not message:
            name, message = "Error", f"the response body stream failed ({why})"
        error = JSErrorInfo(name[:200], message[:4096])
    return InvokeResult(
        outcome,
        logs=result.logs,
        error=error,
        detail=f"response body cut short: {why}",
        cold=result.cold,
        executor=result.executor,
        timings=result.timings,
    )
