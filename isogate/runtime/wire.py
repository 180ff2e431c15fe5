"""The transport to a worker's executor threads: typed messages (messages.py) framed
(protocol.py) over one request pipe and one result pipe per executor thread, so no
thread hands messages to another on the hot path; and the conversions between the
runtime's own types (types.py) and the messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .messages import (
    ErrorInfo,
    FnSpec,
    FromWorker,
    HttpRequest,
    Invoke,
    Result,
    ScheduledEvent,
)
from .protocol import FrameDecoder, ProtocolError, decode_from_worker
from .types import FunctionRef, InvokeRequest, InvokeResult, JSErrorInfo, Outcome, Timings


class ResultPipe(asyncio.Protocol):
    """Frames from one executor thread, handed to the runtime as they arrive."""

    def __init__(
        self, on_message: Callable[[FromWorker], None], on_error: Callable[[], None]
    ) -> None:
        self._decoder = FrameDecoder(decode_from_worker)
        self._on_message = on_message
        self._on_error = on_error

    def data_received(self, data: bytes) -> None:
        try:
            for message in self._decoder.feed(data):
                self._on_message(message)
        except ProtocolError:
            self._on_error()


def invoke_message(
    call_id: int,
    ex: int,
    ref: FunctionRef,
    req: InvokeRequest,
    *,
    timeout_ms: int,
    cpu_ms: int,
    source: str | None,
) -> Invoke:
    """The :class:`Invoke` of ``ref`` on ``req`` (``source`` when the worker needs it)."""
    env = ref.env + ref.secrets if ref.secrets else ref.env  # secrets last: they win
    kv = tuple(name for name, _ in ref.kv_bindings)
    fn = FnSpec(ref.key, ref.tenant, timeout_ms, cpu_ms, env, source, kv)
    http = HttpRequest(req.method, req.url, req.headers, req.body, req.upload is not None)
    sc = ScheduledEvent(*req.scheduled) if req.scheduled is not None else None
    return Invoke(call_id, ex, fn, http, req.invocation_id, sc)


def js_error(e: ErrorInfo) -> JSErrorInfo:
    return JSErrorInfo(e.name, e.message, e.stack, e.line, e.column)


def invoke_result(msg: Result, executor: str, timings: Timings) -> InvokeResult:
    """The :class:`InvokeResult` a :class:`Result` frame carries."""
    return InvokeResult(
        outcome=Outcome(msg.o),
        status=msg.s,
        status_text=msg.st,
        headers=msg.h,
        body=msg.b,
        logs=msg.l,
        error=js_error(msg.e) if msg.e is not None else None,
        detail=msg.d,
        cold=msg.cold,
        executor=executor,
        timings=timings,
        no_retry=msg.nr,
    )
