"""What the two runners of claimed work share (:mod:`isogate.gateway.async_runner` for
asynchronous invocations, :mod:`isogate.gateway.scheduler` for cron runs): the lease a
claim holds, the check that the claimed function still exists, the call under the
function's deadline, and giving runs back at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from isogate.config.settings import Settings
from isogate.gateway.services import Services
from isogate.registry.errors import FunctionNotFound
from isogate.registry.models import Function
from isogate.runtime.types import FunctionRef, InvokeRequest, InvokeResult, Outcome

T = TypeVar("T")

#: outcomes after which nothing of the function ran: the claim is given back as is
NOT_RUN = frozenset({Outcome.OVERLOADED, Outcome.BUSY})


def lease_seconds(settings: Settings, grace: float) -> float:
    """The lease of a claim: the longest a run may take on a replica, plus ``grace``. A
    lease shorter than a run would let another replica start it a second time."""
    rt = settings.runtime
    return (rt.max_timeout_ms + rt.queue_timeout_ms) / 1000 + settings.runtime_grace_seconds + grace


async def claimed_function(
    svc: Services, name: str, tenant: str, incarnation: float
) -> Function | None:
    """The function a claimed run was accepted for; None when it was deleted meanwhile
    (or deleted and created again: another incarnation is another function)."""
    try:
        fn = await svc.resolver.resolve(name)
    except FunctionNotFound:
        return None
    if fn.tenant != tenant or fn.created_at != incarnation:
        return None
    return fn


async def invoke_in_time(
    svc: Services, fn: Function, ref: FunctionRef, req: InvokeRequest
) -> InvokeResult:
    """Call the function through the runtime under its own time limit plus the queue's
    and the runtime's grace; TimeoutError past it (RuntimeFailure: no worker)."""
    rt = svc.settings.runtime
    limit_ms = min(fn.current.timeout_ms or rt.default_timeout_ms, rt.max_timeout_ms)
    deadline = (limit_ms + rt.queue_timeout_ms) / 1000 + svc.settings.runtime_grace_seconds
    async with asyncio.timeout(deadline):
        return await svc.runtime.invoke(ref, req)


async def end_loop(task: asyncio.Task[None] | None, wake: asyncio.Event) -> None:
    """Let a claim loop told to stop (its stop flag set) end its pass and return: not
    cancelled mid-claim, since rows it claimed would sit until their lease lapsed."""
    if task is not None:
        wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def give_back(
    running: dict[asyncio.Task[None], T],
    release: Callable[[T], Awaitable[None]],
    log: logging.Logger,
    what: Callable[[T], str],
) -> None:
    """Cancel the runs still in progress and give each back to its queue (queued again,
    the attempt not counted). One that cannot be given back keeps its claim until its
    lease lapses, then another replica takes it."""
    tasks = dict(running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for item in tasks.values():
        try:
            await release(item)
        except Exception:
            log.exception("could not give back %s", what(item))
