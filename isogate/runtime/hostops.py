"""Host operations of an executor thread's invocations: :class:`HostOps`.

An invocation holds its thread only while its JavaScript runs. When its handler awaits
a host operation, the prelude queues it and the eval returns; the step reports it and
it starts here: a timer goes into this thread's heap, a ``fetch`` or a fetched-body
read to the worker's I/O loop (hostio.py), a KV operation to the gateway process
(``KvCall``, answered by ``KvReply``). WebCrypto and compression are short and
CPU-bound: they run here at once (WebCrypto's CPU counts toward the invocation's
limit). Each result is delivered in an eval of its own (one invocation per eval,
DESIGN.md "Host operations"), through the ``evaluate`` callback the executor gives
(executor.py: under the watchdog).

All of it is state of the executor thread that owns it and needs no lock: the I/O
thread only calls :meth:`HostOps.complete` and, for a fetch that passes the request
body on, appends to ``upload_wants`` (appends to deques, which are thread-safe, and a
byte on the executor's wake-up pipe), and adds to ``Flight.js_read``, of which it is
the only writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import webcrypto
from .compression import ZlibStreams
from .fetch_response import too_many_subrequests, type_error
from .isolate import REQUEST_BODY, error_payload, host_call
from .messages import BodyRead, KvCall

if TYPE_CHECKING:
    from .flights import Flight
    from .hostio import HostIO
    from .messages import FromWorker

#: characters of fetched-body deliveries (JSON text: ~1-1.6 per byte) one invocation may
#: read into JavaScript (each stays in the isolate as script source until the isolate
#: is replaced; the default heap limit of 64 MB was exhausted at ~100 M): beyond it
#: reads fail with a TypeError, not with the worker
JS_READ_LIMIT = 48 << 20


class HostOps:
    """Starts the host operations a step queued and delivers their results (and due
    timers) into JavaScript; one per executor thread."""

    def __init__(
        self,
        index: int,
        *,
        send: Callable[[FromWorker], None],
        io: HostIO | None,
        max_subrequests: int,
        evaluate: Callable[[Flight, str], None],
        wake_fd: int,
    ) -> None:
        self._index = index
        self._send = send
        self._io = io
        self._max_subrequests = max_subrequests
        self._evaluate = evaluate  # the executor's eval of a script for a flight
        self._wake_fd = wake_fd  # written when a result arrives from the I/O thread
        #: armed timers, soonest first: (due, seq, flight id, timer id)
        self.timers: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        #: results of host operations, from the I/O thread: (flight id, op id, payload)
        self.completions: deque[tuple[str, int, str]] = deque()
        #: parts of request bodies a fetch() passes on, wanted by the I/O thread:
        #: (flight id, how to hand the part over); asked of the gateway by this thread
        self.upload_wants: deque[tuple[str, Callable[[str], None]]] = deque()
        self._upload_reads = itertools.count(-1, -1)  # their BodyRead numbers: below 0

    def start(self, ops: list[tuple[str, int, str, Any]], flights: dict[str, Flight]) -> None:
        """Start the operations a step queued: (flight id, op or timer id, kind, args)."""
        for inv, op, kind, args in ops:
            flight = flights.get(inv)
            if flight is None:
                continue
            if kind == "timer":
                seq = next(self._seq)
                flight.timers[op] = seq
                due = time.monotonic() + (args if type(args) is int and args > 0 else 0) / 1000.0
                heapq.heappush(self.timers, (due, seq, inv, op))
            elif kind == "clear":
                flight.timers.pop(op, None)
            elif kind == "cancel":
                task = flight.tasks.pop(op, None)
                if task is not None:
                    task.cancel()
            elif kind == "fetch":
                self._fetch(flight, op, args)
            elif kind == "fread" and args == REQUEST_BODY:  # the request body reads on
                self._body_read(flight, op)
            elif kind == "fclose" and args == REQUEST_BODY:  # the gateway drops the rest
                flight.tasks[op] = None
                self.complete(inv, op, '{"v":null}')
            elif kind == "fread" and self._io is not None:  # the next chunk of a body
                self._fread(flight, op, args)
            elif kind == "fclose" and self._io is not None:  # a body it will not read on
                self._io.close_body(args, flight.id)
                flight.tasks[op] = None
                self.complete(inv, op, '{"v":null}')
            elif kind == "kv":
                self._kv(flight, op, args)
            elif kind == "crypto":
                # runs here, in this thread: its CPU counts toward the invocation's limit
                t0 = time.thread_time()
                payload = webcrypto.run(flight.warm.sandbox, args)
                used = time.thread_time() - t0
                flight.cpu_used += used
                flight.cpu_left -= used
                flight.tasks[op] = None
                self.complete(inv, op, payload)
            elif kind == "zlib":  # short and CPU-bound: done here, delivered next eval
                if flight.zlib is None:
                    flight.zlib = ZlibStreams()
                flight.tasks[op] = None
                self.complete(inv, op, flight.zlib.apply(args))
            else:
                flight.tasks[op] = None
                self.complete(inv, op, error_payload("TypeError", f"unknown operation: {kind}"))

    def complete(self, flight_id: str, op: int, payload: str) -> None:
        """A host operation finished (called from the I/O thread too): deliver it next."""
        self.completions.append((flight_id, op, payload))
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_fd, b"\0")

    def deliver(self, flights: dict[str, Flight]) -> None:
        """Deliver completed host operations, then fire due timers, one eval each."""
        while self.completions:
            flight_id, op, payload = self.completions.popleft()
            flight = flights.get(flight_id)
            if flight is not None and op in flight.tasks:  # not cancelled meanwhile
                del flight.tasks[op]
                self._evaluate(flight, host_call("deliver", str(op), payload))
        now = time.monotonic()
        timers = self.timers
        while timers and timers[0][0] <= now:
            _, seq, flight_id, timer = heapq.heappop(timers)
            flight = flights.get(flight_id)
            if flight is None or flight.timers.get(timer) != seq:
                continue  # cleared, or its invocation ended
            del flight.timers[timer]
            self._evaluate(flight, host_call("fire", str(timer)))

    def drop(self, flight: Flight) -> None:
        """``flight`` is over: stop its operations, close the fetched bodies it left open,
        forget its timers."""
        for task in flight.tasks.values():
            if task is not None:
                with contextlib.suppress(Exception):
                    task.cancel()
        flight.tasks.clear()
        if flight.subrequests and self._io is not None:
            self._io.release(flight.id)  # fetched bodies it left open
        flight.timers.clear()

    def cancel_all(self, flights: dict[str, Flight]) -> None:
        """Cancel every operation still running (the executor thread ends)."""
        for flight in flights.values():
            for task in flight.tasks.values():
                with contextlib.suppress(Exception):
                    task.cancel()

    def _fetch(self, flight: Flight, op: int, args: Any) -> None:
        if not self._subrequest(flight, op):
            if self._io is not None:
                self._io.count(flight.warm.sandbox.tenant or "", "refused")
            return
        if self._io is None:
            self.complete(flight.id, op, error_payload("TypeError", "fetch() is not available"))
            return
        remaining = max(0.0, flight.deadline - time.monotonic())
        tenant = flight.warm.sandbox.tenant or ""
        upload_rest = None
        if isinstance(args, dict) and args.get("upload") is not None and "from" not in args:
            upload_rest = self._upload_reader(flight)  # its own request body, passed on
        flight.tasks[op] = self._io.fetch(
            args,
            remaining,
            lambda payload: self.complete(flight.id, op, payload),
            tenant,
            flight.id,
            upload_rest,
        )

    def _upload_reader(self, flight: Flight) -> Callable[[], Awaitable[bytes | None]]:
        """The rest of ``flight``'s request body for a fetch that passes it on untouched,
        read on the I/O loop: each part is asked of the gateway by this thread (a
        ``BodyRead``, as the prelude's reads are) and handed to the loop, so it never
        enters JavaScript (no read cap) and only one part is held at a time."""

        async def next_part() -> bytes | None:
            loop = asyncio.get_running_loop()
            arrived: asyncio.Future[str] = loop.create_future()

            def settle(payload: str) -> None:  # on this executor's thread
                loop.call_soon_threadsafe(_settle, arrived, payload)

            self.upload_wants.append((flight.id, settle))
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_fd, b"\0")
            return _upload_part(await arrived)

        return next_part

    def ask_upload_parts(self, flights: dict[str, Flight]) -> None:
        """Ask the gateway for the request-body parts the I/O thread wants."""
        while self.upload_wants:
            flight_id, settle = self.upload_wants.popleft()
            flight = flights.get(flight_id)
            if flight is None:
                continue  # it ended: its fetch was cancelled with it
            n = next(self._upload_reads)
            flight.upload_reads[n] = settle
            self._send(BodyRead(flight.call, self._index, n))

    def _body_read(self, flight: Flight, op: int) -> None:
        """The next part of the invocation's request body: the gateway process has the
        client's connection, so it reads on and answers with a ``BodyPart``. The parts
        enter the isolate as script source, as a fetched body's do, and count toward the
        same limit."""
        flight.tasks[op] = None
        if flight.js_read + flight.body_read > JS_READ_LIMIT:
            self.complete(
                flight.id,
                op,
                error_payload(
                    "TypeError",
                    "bodies read in JavaScript are limited to about"
                    f" {JS_READ_LIMIT >> 20} MiB per invocation",
                ),
            )
            return
        self._send(BodyRead(flight.call, self._index, op))

    def _fread(self, flight: Flight, op: int, args: Any) -> None:
        """The next chunk of a fetched body the function reads in JavaScript. Each one
        enters the isolate as script source, which stpyv8 keeps until the isolate goes
        (isolate.RETAINED_PER_CHAR): past JS_READ_LIMIT bytes in one invocation the read
        fails with a TypeError instead of exhausting the isolate's heap (a body passed on
        untouched is spliced and never counted here)."""
        assert self._io is not None
        if flight.js_read + flight.body_read > JS_READ_LIMIT:
            flight.tasks[op] = None
            self.complete(
                flight.id,
                op,
                error_payload(
                    "TypeError",
                    "fetched bodies read in JavaScript are limited to about"
                    f" {JS_READ_LIMIT >> 20} MiB per invocation; return the fetched Response"
                    " (or new Response(response.body)) to stream it on without a limit",
                ),
            )
            return

        def deliver(payload: str) -> None:  # on the I/O thread, the only writer of js_read
            flight.js_read += len(payload)
            self.complete(flight.id, op, payload)

        remaining = max(0.0, flight.deadline - time.monotonic())
        flight.tasks[op] = self._io.read_body(args, flight.id, remaining, deliver)

    def _subrequest(self, flight: Flight, op: int) -> bool:
        """Count a subrequest of ``flight`` (fetch and KV alike, as in Workers); past the
        limit, answer ``op`` with workerd's error and return False."""
        flight.subrequests += 1
        flight.tasks[op] = None
        if flight.subrequests <= self._max_subrequests:
            return True
        refused = too_many_subrequests(self._max_subrequests)
        self.complete(flight.id, op, error_payload(refused.name, refused.message))
        return False

    def _kv(self, flight: Flight, op: int, args: Any) -> None:
        """A KV operation: the gateway process performs it (this process has no database)
        and answers with :class:`KvReply`; it counts as a subrequest, as in Workers."""
        if not self._subrequest(flight, op):
            return
        self._send(KvCall(flight.call, self._index, op, json.dumps(args)))


def _settle(arrived: asyncio.Future[str], payload: str) -> None:
    if not arrived.done():  # not cancelled meanwhile (the fetch ended)
        arrived.set_result(payload)


def _upload_part(payload: str) -> bytes | None:
    """A ``BodyPart`` payload as bytes (None: the body ended); why it cannot be read as
    the fetch's TypeError."""
    value = json.loads(payload)
    if "e" in value:
        raise type_error(str(value["e"].get("message", "the request body cannot be read")))
    part = value.get("v")
    return None if part is None else str(part).encode("latin-1")
