"""The one place where a runtime :class:`Outcome` becomes an HTTP status and problem."""

from __future__ import annotations

from typing import assert_never

from isogate.gateway.errors import (
    BodyTooLarge,
    CodeUnavailable,
    CpuLimit,
    FunctionFailed,
    FunctionLoadFailed,
    FunctionUnsettled,
    Overloaded,
    Quarantined,
    ResponseBuffersFull,
    ResponseTooLarge,
    RuntimeCrashed,
    RuntimeFailed,
    RuntimeUnavailable,
    TenantBusy,
    TimeLimit,
)
from isogate.gateway.problems import Problem
from isogate.runtime.types import InvokeResult, Outcome


def outcome_problem(result: InvokeResult, retry_after: int) -> Problem | None:
    """``None`` for OK (the function's response goes out as is), else the problem."""
    o = result.outcome
    if o is Outcome.OK:
        return None
    retry = {"Retry-After": str(retry_after)}
    if o is Outcome.JS_ERROR:
        return FunctionFailed("the function threw an error")
    if o is Outcome.UNSETTLED:
        return FunctionUnsettled("the function's promise never settled")
    if o is Outcome.LOAD_ERROR:
        return FunctionLoadFailed("the function's code could not load")
    if o is Outcome.CRASHED:
        return RuntimeCrashed("the function's runtime died")
    if o is Outcome.OVERLOADED:
        return Overloaded("no executor free; retry later", retry)
    if o is Outcome.BUSY:
        return TenantBusy(
            "too many of this tenant's calls are waiting for an executor; retry later", retry
        )
    if o is Outcome.QUARANTINED:
        return Quarantined(
            # the runtime says which: this version, this code, or the tenant's budget
            result.detail or "the function crashed its runtime repeatedly; redeploy it",
            retry,
        )
    if o is Outcome.CODE_UNAVAILABLE:
        return CodeUnavailable("the function's code could not be fetched; retry later", retry)
    if o is Outcome.TIMEOUT:
        return TimeLimit("the function ran too long")
    if o is Outcome.CPU_LIMIT:
        return CpuLimit(result.detail or "the function used more CPU time than its cpu_ms allows")
    if o is Outcome.TOO_LARGE:
        if "request" in result.detail.lower():
            return BodyTooLarge("the request is too large")
        return ResponseTooLarge("the function's response is too large")
    assert_never(o)  # every Outcome is mapped above (checked by mypy)


def runtime_failure() -> Problem:
    """The runtime call raised or missed its deadline (never the function's fault)."""
    return RuntimeFailed("the runtime did not answer")


def runtime_deadline() -> Problem:
    """The runtime did not answer within the function's limit plus grace."""
    return TimeLimit("the function ran too long")


def runtime_unavailable(retry_after: int) -> Problem:
    """No runtime worker can take the call right now (one is restarting)."""
    return RuntimeUnavailable(
        "the runtime is restarting; retry later", {"Retry-After": str(retry_after)}
    )


def responses_full(retry_after: int) -> Problem:
    """Too many response bytes wait for clients that do not read (response buffer caps)."""
    return ResponseBuffersFull(
        "too many responses are waiting for their clients; retry later",
        {"Retry-After": str(retry_after)},
    )
