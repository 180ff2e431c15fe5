"""What each frame from a worker means to the runtime: the frames half of
:class:`~isogate.runtime.supervisor.Runtime`.

A worker's frames (messages.py) come from an executor's result pipe or the worker's
control pipe, and :meth:`Frames._on_message` is where every one of them lands: an answer
(``Result`` or ``NeedCode``) ends its call's exchange and frees its executor at once; a
streamed body's ``Chunk`` and ``End`` feed its :class:`~.body_stream.BodyStream`; a
``Wait`` moves its call from a CPU place to a waiting place; a ``KvCall`` is performed
here, in the gateway process, and answered with a ``KvReply``; the rest (``After``,
``Egress``, ``Blanks``, ``Evicted``, ``Ready``) update the runtime's mirror of its
workers and its counters. The frames it sends an executor about a call under way are
here too: ``Credit`` (a streamed body's reader took more) and ``Cancel`` (its caller
left).

Every call's answer goes through :meth:`Frames._on_answer`, called by the pipe's reader
on the event loop: the hot path, so it neither awaits nor starts a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .body_stream import BodyStream
from .errors import BodyUnreadable
from .messages import (
    After,
    Blanks,
    BodyPart,
    BodyRead,
    Cancel,
    Chunk,
    Credit,
    Egress,
    End,
    Evicted,
    FromWorker,
    KvCall,
    KvReply,
    NeedCode,
    Ready,
    Result,
    Wait,
)
from .pool import _Call, _Executor, _Pending, _Worker
from .types import FunctionRef

log = logging.getLogger("isogate.runtime")


class Frames:
    """The frames half of :class:`~isogate.runtime.supervisor.Runtime` (a mixin: the
    runtime's state is one object; this part reads what its workers tell it)."""

    # The runtime's state this half uses, set by Runtime.__init__ (supervisor.py); declared
    # for the type checker (annotations only, no class attributes).
    kv_host: Callable[[FunctionRef, str], Awaitable[str]] | None
    _kv_tasks: set[asyncio.Task[None]]
    _waiting: dict[str, int]
    _after_logs: int
    _egress_counts: dict[tuple[str, str], int]
    _worker_cache_counts: dict[str, list[int]]
    _worker_cache_sizes: dict[tuple[int, str], tuple[int, int]]
    _prewarm_waiters: list[asyncio.Future[None]]

    if TYPE_CHECKING:  # the other halves' (supervisor.py, admission.py)

        @property
        def prewarmed(self) -> bool: ...
        def _finish(self, ex: _Executor, pending: _Pending) -> None: ...
        def _unwait(self, call: _Call) -> None: ...

    def _on_message(self, w: _Worker, msg: FromWorker) -> None:
        """One frame from ``w`` (an executor's result pipe or the worker's control pipe)."""
        kind = type(msg)
        if kind is Result or kind is NeedCode:
            self._on_answer(w, msg)  # type: ignore[arg-type]
        elif kind is Chunk:
            stream = w.streams.get(msg.id)  # type: ignore[union-attr]
            if stream is not None:
                stream.feed(msg.b)  # type: ignore[union-attr]
        elif kind is End:
            stream = w.streams.pop(msg.id, None)  # type: ignore[union-attr]
            if stream is not None:
                stream.end(msg.err)  # type: ignore[union-attr]
            self._end_upload(w, msg.id)  # type: ignore[union-attr]
        elif kind is Wait:
            call = w.calls.get(msg.id)  # type: ignore[union-attr]
            if call is not None and not call.waiting:
                call.waiting = True
                ex = call.executor
                ex.waiting += 1
                tenant = call.pending.ref.tenant
                self._waiting[tenant] = self._waiting.get(tenant, 0) + 1
                call.released = True
                self._finish(ex, call.pending)
                if call.abandoned:  # its caller left before this frame came: end it now
                    self._cancel(call)
        elif kind is KvCall:
            assert isinstance(msg, KvCall)
            call = w.calls.get(msg.id)
            if call is not None:
                task = asyncio.create_task(self._kv_call(call, msg))
                self._kv_tasks.add(task)
                task.add_done_callback(self._kv_tasks.discard)
        elif kind is BodyRead:
            assert isinstance(msg, BodyRead)
            task = asyncio.create_task(self._body_read(w, msg))
            self._kv_tasks.add(task)
            task.add_done_callback(self._kv_tasks.discard)
        elif kind is After:
            # what a function logged after its response (ctx.waitUntil work), named by
            # the invocation id its caller was given (X-Invocation-Id)
            assert isinstance(msg, After)
            self._after_logs += 1
            inv = msg.inv or f"call {msg.id}"
            for line in msg.l[:100]:
                log.info("invocation %s (after its response): %s", inv, str(line)[:2000])
        elif kind is Egress:
            for tenant, outcome, n in msg.c:  # type: ignore[union-attr]
                counted = (str(tenant), str(outcome))
                self._egress_counts[counted] = self._egress_counts.get(counted, 0) + int(n)
            self._on_cache_report(w, msg.ca)  # type: ignore[union-attr]
        elif kind is Blanks:
            assert isinstance(msg, Blanks)
            ex = w.executors[msg.ex]
            ex.blanks = msg.n
            ex.prewarmed = True
            if msg.iso is not None:
                w.isolates = msg.iso
            if w.warmed and not w.warmed.done() and all(e.prewarmed for e in w.executors):
                w.warmed.set_result(None)
            if self._prewarm_waiters and self.prewarmed:
                for fut in self._prewarm_waiters:
                    if not fut.done():
                        fut.set_result(None)
                self._prewarm_waiters.clear()
        elif kind is Evicted:
            assert isinstance(msg, Evicted)
            ex = w.executors[msg.ex]
            for key in msg.keys:
                ex.warm.pop(key, None)
            if msg.iso is not None:
                w.isolates = msg.iso
        elif kind is Ready and w.ready and not w.ready.done():
            w.ready.set_result(None)

    def _on_answer(self, w: _Worker, msg: Result | NeedCode) -> None:
        call = w.calls.pop(msg.id, None)
        if call is None:
            return
        waited = call.waiting  # its CPU place was released at its "wait" frame
        if waited:
            self._unwait(call)
        if type(msg) is Result and msg.sb:
            call.stream = self._open_stream(w, call)  # its body may still read on: End
        elif w.uploads:
            # Not read on under this call id any more. Not closed: a NeedCode answer
            # sends the call again (the upload with it), and otherwise its caller
            # closes it (the gateway, with the answer).
            w.uploads.pop(call.id, None)
        if type(msg) is NeedCode:
            w.sent_code.discard(call.pending.ref.key)
            if call.abandoned:  # nobody is left to send the code: the executor is free
                self._finish(call.executor, call.pending)
        elif waited:
            self._mirror(call.executor, msg)  # type: ignore[arg-type]
        else:
            # The executor is free as of this answer: hand it its next call now, not
            # after the caller's task resumes (a loop iteration later, which under load
            # left executors idle between calls).
            self._mirror(call.executor, msg)  # type: ignore[arg-type]
            call.released = True
            self._finish(call.executor, call.pending)
        if not call.abandoned and not call.future.done():
            call.future.set_result(msg)

    def _mirror(self, ex: _Executor, msg: Result) -> None:
        """What a result frame tells about its executor: evictions, blanks, isolates."""
        for key in msg.ev:
            ex.warm.pop(key, None)
        if msg.bl is not None:
            ex.blanks = msg.bl
        if msg.iso is not None:
            ex.worker.isolates = msg.iso

    @staticmethod
    def _open_stream(w: _Worker, call: _Call) -> BodyStream:
        """The receiving end of ``call``'s streamed body (its Chunk and End frames)."""
        ex = call.executor
        call_id = call.id

        def credit(n: int) -> None:
            if w.streams.get(call_id) is stream:
                with contextlib.suppress(Exception):  # a dead pipe: the crash path ends it
                    ex.worker.send(ex.index, Credit(call_id, ex.index, n))

        def cancel() -> None:
            if w.streams.get(call_id) is stream:
                with contextlib.suppress(Exception):
                    ex.worker.send(ex.index, Cancel(call_id, ex.index))

        stream = BodyStream(credit, cancel)
        w.streams[call_id] = stream
        if call.abandoned:  # nobody will read it
            stream.cancel()
        return stream

    async def _kv_call(self, call: _Call, msg: KvCall) -> None:
        """Perform a function's KV operation here (the gateway process) and send the
        answer back to its executor; a failure answers the function, never the worker."""
        host = self.kv_host
        if host is None:
            payload = '{"e":{"name":"Error","message":"KV is not available here"}}'
        else:
            try:
                payload = await host(call.pending.ref, msg.a)
            except Exception:
                log.exception("KV operation failed")
                payload = '{"e":{"name":"Error","message":"KV operation failed"}}'
        ex = call.executor
        with contextlib.suppress(Exception):  # the worker died meanwhile: nobody to tell
            ex.worker.send(ex.index, KvReply(msg.id, msg.ex, msg.n, payload))

    async def _body_read(self, w: _Worker, msg: BodyRead) -> None:
        """Read on in a call's request body (the client's connection is here) and send
        the part, its end or why it cannot be read to the function's executor."""
        upload = w.uploads.get(msg.id)
        if upload is None:
            payload = '{"e":{"name":"TypeError","message":"This body is not readable any more."}}'
        else:
            try:
                part = await upload.read()
            except BodyUnreadable as exc:
                payload = json.dumps({"e": {"name": "TypeError", "message": str(exc)}})
            except asyncio.CancelledError:
                return  # the call ended meanwhile (close): nobody reads the answer
            else:
                if part is None:
                    payload = '{"v":null}'
                else:
                    text = json.dumps(part.decode("latin-1"), ensure_ascii=False)
                    payload = '{"v":' + text + "}"
        ex = w.executors[msg.ex] if 0 <= msg.ex < len(w.executors) else None
        if ex is not None:
            with contextlib.suppress(Exception):  # the worker died meanwhile
                ex.worker.send(ex.index, BodyPart(msg.id, msg.ex, msg.n, payload))

    @staticmethod
    def _end_upload(w: _Worker, call_id: int) -> None:
        upload = w.uploads.pop(call_id, None)
        if upload is not None:
            upload.close()

    def _cancel(self, call: _Call) -> None:
        """Tell ``call``'s executor that its caller left while it waits on host
        operations: it ends the call (timers dropped, fetches cancelled) and answers,
        and that answer frees the waiting place (see _on_answer)."""
        ex = call.executor
        with contextlib.suppress(Exception):  # a dead pipe: the crash path frees it
            ex.worker.send(ex.index, Cancel(call.id, ex.index))

    def _on_cache_report(
        self, w: _Worker, report: tuple[tuple[str, int, int, int, int, int], ...]
    ) -> None:
        pid = w.proc.pid if w.proc else 0
        for name, hits, misses, evictions, size, bound in report:
            counts = self._worker_cache_counts.setdefault(str(name), [0, 0, 0])
            counts[0] += int(hits)
            counts[1] += int(misses)
            counts[2] += int(evictions)
            self._worker_cache_sizes[pid, str(name)] = (int(size), int(bound))
