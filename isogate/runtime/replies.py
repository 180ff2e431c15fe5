"""What an executor thread answers a call with: the ``Result`` frame of an
``InvokeResult`` (:func:`result_frame`), and the result of an invocation stopped before
it responded (:func:`stopped_result`).

Functions of their arguments only, called on the executor thread (executor.py); the
gateway's side of the same conversion is wire.py's ``InvokeResult`` from a ``Result``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .isolate import Host
from .messages import ErrorInfo, Result
from .types import InvokeResult, JSErrorInfo, Outcome

if TYPE_CHECKING:
    from .flights import Flight


def result_frame(
    call: int,
    index: int,
    r: InvokeResult,
    *,
    cold: bool,
    load_ms: float,
    run_ms: float,
    evicted: list[str],
    blanks: int,
    waited: bool = False,
    streamed: bool = False,
) -> Result:
    """Call ``call``'s answer from executor ``index``, with the news of that executor
    (the functions it ``evicted``, its pooled ``blanks``, its process's live isolates)."""
    err = r.error
    info = None
    if err is not None:  # positions as ints: the supervisor's decoder checks types
        line = None if err.line is None else int(err.line)
        column = None if err.column is None else int(err.column)
        info = ErrorInfo(err.name, err.message, err.stack, line, column)
    return Result(
        call,
        index,
        r.outcome.value,
        r.status,
        r.status_text,
        r.headers,
        r.body,
        r.logs,
        info,
        r.detail,
        cold,
        load_ms,
        run_ms,
        tuple(evicted),
        blanks,
        Host.live,
        waited,
        r.no_retry,
        streamed,
    )


def stopped_result(flight: Flight, reason: str, logs: tuple[str, ...]) -> InvokeResult:
    """The answer of ``flight`` stopped before its response (``reason``: cpu, wall, gone
    when its caller went away, else failed), with its last ``logs``."""
    if reason == "cpu":
        return InvokeResult(
            Outcome.CPU_LIMIT,
            logs=logs,
            detail=f"CPU time limit of {flight.cpu_ms} ms exceeded",
        )
    if reason == "gone":
        return InvokeResult(Outcome.TIMEOUT, logs=logs, detail="the caller went away")
    if reason == "wall":
        return InvokeResult(
            Outcome.TIMEOUT,
            logs=logs,
            detail=f"time limit of {flight.timeout_ms} ms exceeded",
        )
    return InvokeResult(
        Outcome.JS_ERROR,
        logs=logs,
        error=JSErrorInfo("Error", "the function was stopped"),
    )
