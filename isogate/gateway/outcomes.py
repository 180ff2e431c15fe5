"""The one place where a runtime :class:`Outcome` becomes an HTTP status and problem."""

from __future__ import annotations

from typing import assert_never

from isogate.gateway.problems import Problem
from isogate.runtime.types import InvokeResult, Outcome


def outcome_problem(result: InvokeResult, retry_after: int) -> Problem | None:
    """``None`` for OK (the function's response goes out as is), else the problem."""
    o = result.outcome
    if o is Outcome.OK:
        return None
    retry = {"Retry-After": str(retry_after)}
    if o is Outcome.JS_ERROR:
        return Problem(500, "function-error", "Function error", "the function threw an error")
    if o is Outcome.UNSETTLED:
        return Problem(
            500, "function-unsettled", "Function error", "the function's promise never settled"
        )
    if o is Outcome.LOAD_ERROR:
        return Problem(
            500, "function-load-error", "Function error", "the function's code could not load"
        )
    if o is Outcome.CRASHED:
        return Problem(502, "runtime-crashed", "Runtime crashed", "the function's runtime died")
    if o is Outcome.OVERLOADED:
        return Problem(503, "overloaded", "Overloaded", "no executor free; retry later", retry)
    if o is Outcome.BUSY:
        return Problem(
            429,
            "tenant-busy",
            "Too many waiting calls",
            "too many of this tenant's calls are waiting for an executor; retry later",
            retry,
        )
    if o is Outcome.QUARANTINED:
        return Problem(
            503,
            "quarantined",
            "Function quarantined",
            # the runtime says which: this version, this code, or the tenant's budget
            result.detail or "the function crashed its runtime repeatedly; redeploy it",
            retry,
        )
    if o is Outcome.CODE_UNAVAILABLE:
        return Problem(
            503,
            "code-unavailable",
            "Code unavailable",
            "the function's code could not be fetched; retry later",
            retry,
        )
    if o is Outcome.TIMEOUT:
        return Problem(504, "timeout", "Time limit exceeded", "the function ran too long")
    if o is Outcome.CPU_LIMIT:
        return Problem(
            503,
            "cpu-limit",
            "CPU time limit exceeded",
            result.detail or "the function used more CPU time than its cpu_ms allows",
        )
    if o is Outcome.TOO_LARGE:
        if "request" in result.detail.lower():
            return Problem(413, "body-too-large", "Body too large", "the request is too large")
        return Problem(
            502, "response-too-large", "Response too large", "the function's response is too large"
        )
    assert_never(o)  # every Outcome is mapped above (checked by mypy)


def runtime_failure() -> Problem:
    """The runtime call raised or missed its deadline (never the function's fault)."""
    return Problem(502, "runtime-error", "Runtime error", "the runtime did not answer")


def runtime_deadline() -> Problem:
    """The runtime did not answer within the function's limit plus grace."""
    return Problem(504, "timeout", "Time limit exceeded", "the function ran too long")


def runtime_unavailable(retry_after: int) -> Problem:
    """No runtime worker can take the call right now (one is restarting)."""
    return Problem(
        503,
        "runtime-unavailable",
        "Runtime unavailable",
        "the runtime is restarting; retry later",
        {"Retry-After": str(retry_after)},
    )


def responses_full(retry_after: int) -> Problem:
    """Too many response bytes wait for clients that do not read (response buffer caps)."""
    return Problem(
        503,
        "response-buffers-full",
        "Overloaded",
        "too many responses are waiting for their clients; retry later",
        {"Retry-After": str(retry_after)},
    )
