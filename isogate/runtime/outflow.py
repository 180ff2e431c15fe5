"""Streamed response bodies on their way from an executor thread to the gateway:
:class:`Outflow` (one body) and :class:`Outflows` (those of one executor thread).

A function that returns a stream answers at once (``Result`` with ``streamed``); its
body follows in ``Chunk`` frames and ends with an ``End`` frame, under per-call credit:
the gateway grants ``Credit`` as its client takes bytes, and nothing goes out beyond
the grant. The prelude reads the function's stream only while its own credit lasts
(``credit`` host call); a body the function passed on untouched (a ``fetch()``
response) is spliced instead: read here from the I/O loop, never in JavaScript, as
credit allows. A body is gzipped here as it goes when the function marked it so.

State of the executor thread that owns it (executor.py): only that thread touches it,
so it needs no lock. The I/O thread only hands spliced chunks over, through a deque
(thread-safe appends) and the executor's wake-up pipe.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .compression import GzipChunks
from .messages import Chunk, End

if TYPE_CHECKING:
    from .hostio import HostIO
    from .messages import FromWorker

#: bytes a streamed body may run ahead of its client (body_stream.STREAM_WINDOW: the
#: gateway's side of the same agreement), and the most one Chunk frame carries
STREAM_WINDOW = 256 * 1024
STREAM_FRAME = 64 * 1024

#: how a stop reason of a flight cuts its streamed body short (End.err)
CUT_BY_STOP = {"wall": "timeout", "cpu": "cpu", "gone": "cancelled", "error": "error"}


@dataclass(slots=True, eq=False)
class Outflow:
    """A streamed response body on its way to the gateway, under per-call credit.

    The prelude reads the function's stream only while its own credit lasts; this side
    is the authority (a tenant may call the prelude's entry points itself): bytes beyond
    the gateway's grant wait here, in this worker, never in the gateway. It outlives its
    flight when the function finished its stream before the client took all of it."""

    call: int
    credit: int = STREAM_WINDOW
    out: deque[bytes] = field(default_factory=deque)
    end: str | None = None  # the prelude reported its end ("" complete, else why)
    sent: int = 0  # bytes of the body so far (the response size limit)
    #: an untouched fetch() body passed on: the host's handle of the open upstream
    #: response, read here (never in JavaScript) as credit allows
    splice: int | None = None
    owner: str = ""  # the I/O loop's owner of the spliced body
    reading: bool = False
    gzip: GzipChunks | None = None  # Content-Encoding: gzip, encoded here as it goes


class Outflows:
    """The streamed response bodies of one executor thread still going out, by flight
    id (``flows``)."""

    def __init__(
        self,
        index: int,
        *,
        send: Callable[[FromWorker], None],
        io: HostIO | None,
        max_response_body: int,
        wake_fd: int,
    ) -> None:
        self._index = index
        self._send = send
        self._io = io
        self._max_response_body = max_response_body
        self._wake_fd = wake_fd  # written when a spliced chunk arrives
        #: streamed response bodies still going out, by flight id
        self.flows: dict[str, Outflow] = {}
        #: chunks of spliced bodies from the I/O thread: (flight id, bytes / end / error)
        self.spliced: deque[tuple[str, bytes | str | None]] = deque()

    def open(self, inv: str, call: int, *, gzip: bool) -> None:
        """The response of flight ``inv`` (call ``call``) went out streamed: its body
        follows."""
        self.flows[inv] = Outflow(call, gzip=GzipChunks() if gzip else None)

    def write(self, data: list[tuple[str, str]]) -> None:
        """Bytes the prelude read from the functions' streams (binary strings, by flight
        id): send what the credit allows."""
        for inv, text in data:
            outflow = self.flows.get(inv)
            if outflow is not None and outflow.end is None:
                chunk = text.encode("latin-1")
                outflow.sent += len(chunk)
                outflow.out.append(chunk if outflow.gzip is None else outflow.gzip.chunk(chunk))
                self._flush(inv, outflow)

    def finish(self, inv: str, why: str) -> bool:
        """The prelude reports the end of ``inv``'s stream (``why``: "" complete, else
        why cut short, or ``splice:<handle>`` to pass a fetched body on). True when that
        ended what the function produces (its ``waitUntil`` time starts)."""
        outflow = self.flows.get(inv)
        if outflow is not None and why.startswith("splice:") and self._io is not None:
            self._start_splice(inv, outflow, why)
        elif outflow is not None and outflow.end is None:
            outflow.end = why
            if why:  # cut short: what the client has not got is not worth sending
                self.end(inv, outflow, why)
            else:
                self._flush(inv, outflow)
            return True
        return False

    def cut(self, inv: str, stopped: str) -> None:
        """Flight ``inv`` ended (``stopped``: why it was stopped, if it was) before its
        stream did: the body ends there, unless it is spliced (that goes on without it)."""
        outflow = self.flows.get(inv)
        if outflow is not None and outflow.end is None and outflow.splice is None:
            self.end(inv, outflow, CUT_BY_STOP.get(stopped, "error"))

    def credit(self, inv: str, n: int) -> bool:
        """The client took ``n`` more bytes: send what waits (and read a spliced body on).
        True when the prelude should read on (its ``credit`` host call)."""
        outflow = self.flows.get(inv)
        if outflow is None or n <= 0:
            return False
        outflow.credit += n
        self._flush(inv, outflow)
        if outflow.splice is not None:
            self._pull(inv, outflow)
            return False
        return outflow.end is None

    def end(self, inv: str, outflow: Outflow, why: str) -> None:
        """End ``outflow`` (``why``: "" complete, else why cut short): the End frame."""
        if self.flows.pop(inv, None) is outflow:
            outflow.out.clear()
            outflow.end = why
            self._send(End(outflow.call, self._index, why))
            if outflow.splice is not None and self._io is not None:
                self._io.release(outflow.owner)

    def deliver_spliced(self) -> None:
        """Take the chunks of spliced bodies the I/O thread read."""
        while self.spliced:
            self._on_spliced(*self.spliced.popleft())

    def _flush(self, inv: str, outflow: Outflow) -> None:
        """Send what the credit allows (frames of at most STREAM_FRAME bytes); once all
        is out and the prelude reported the end, the End frame."""
        out = outflow.out
        if outflow.end == "" and outflow.gzip is not None:  # complete: close the member
            out.append(outflow.gzip.end())
            outflow.gzip = None
        while out and outflow.credit > 0:
            data = out.popleft()
            if len(data) > STREAM_FRAME:
                out.appendleft(data[STREAM_FRAME:])
                data = data[:STREAM_FRAME]
            outflow.credit -= len(data)
            self._send(Chunk(outflow.call, self._index, data))
        if not out and outflow.end is not None:
            self.end(inv, outflow, outflow.end)

    def _start_splice(self, inv: str, outflow: Outflow, why: str) -> None:
        try:
            handle = int(why.removeprefix("splice:"))
        except ValueError:
            self.end(inv, outflow, "error")
            return
        assert self._io is not None
        outflow.splice = handle
        outflow.owner = "s" + inv  # outlives the flight (whose bodies go when it ends)
        self._io.adopt(handle, inv, outflow.owner)
        self._pull(inv, outflow)

    def _pull(self, inv: str, outflow: Outflow) -> None:
        """Read the next chunk of a spliced body once the credit allows it."""
        if outflow.splice is None or outflow.reading or outflow.end is not None:
            return
        if outflow.out or outflow.credit <= 0 or self._io is None:
            return
        outflow.reading = True

        def done(data: bytes | str | None) -> None:  # on the I/O thread
            self.spliced.append((inv, data))
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_fd, b"\0")

        self._io.read_raw(outflow.splice, outflow.owner, 3600.0, done)

    def _on_spliced(self, inv: str, data: bytes | str | None) -> None:
        outflow = self.flows.get(inv)
        if outflow is None or outflow.splice is None:
            return  # cancelled meanwhile (its body is closed with it)
        outflow.reading = False
        if data is None:
            outflow.end = ""
        elif isinstance(data, str):
            self.end(inv, outflow, "error:" + data)
            return
        else:
            outflow.sent += len(data)
            if outflow.sent > self._max_response_body:
                self.end(inv, outflow, "too_large")
                return
            if data:
                outflow.out.append(data if outflow.gzip is None else outflow.gzip.chunk(data))
        self._flush(inv, outflow)
        self._pull(inv, outflow)
