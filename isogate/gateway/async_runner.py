"""Runs asynchronous invocations (``Prefer: respond-async``) taken from the SQL queue.

Every replica runs one :class:`AsyncRunner`: it claims queued invocations (see
:mod:`isogate.state.async_queue`), up to ``async_concurrency`` at a time, and calls the
function through the same runtime, limits and deadline as a synchronous call. Quota was
counted once, when the call was accepted; a retry does not count again.

Outcomes: a Response from the function (any status) is ``succeeded``; a thrown error,
timeout, CPU limit or unloadable code is ``failed`` (a retry would fail the same way); a
crashed runtime worker or no worker at all is retried up to ``async_max_attempts`` runs,
then ``failed``. A run cut short by this replica's shutdown goes back to the queue without
spending an attempt; one cut short by a replica dying is retried when its lease lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from isogate.gateway.claimed_runs import (
    NOT_RUN,
    claimed_function,
    end_loop,
    give_back,
    invoke_in_time,
    lease_seconds,
)
from isogate.gateway.errors import RuntimeFailed
from isogate.gateway.invoke import (
    _BAD_VALUE,
    _TOKEN,
    HOP_BY_HOP,
    _function_ref,
    _kv_bindings_of,
    _record,
    _secrets_of,
)
from isogate.gateway.outcomes import outcome_problem, runtime_deadline
from isogate.gateway.problems import Problem, to_problem
from isogate.gateway.services import Services
from isogate.periodic import Periodic
from isogate.runtime.errors import RuntimeFailure
from isogate.runtime.types import InvokeRequest, InvokeResult, Outcome
from isogate.state.async_queue import Job, Response, SqlAsyncQueue
from isogate.state.leases import FAILED, SUCCEEDED

log = logging.getLogger(__name__)


def _problem_response(problem: Problem) -> Response:
    resp = problem.response()
    headers = [("content-type", "application/problem+json")]
    return Response(problem.status, headers, bytes(resp.body))


def _function_answer(result: InvokeResult) -> Response:
    headers = [
        (k.lower(), v)
        for k, v in result.headers
        if k.lower() not in HOP_BY_HOP and _TOKEN.fullmatch(k) and not _BAD_VALUE.search(v)
    ]
    return Response(result.status or 200, headers, result.body)


class AsyncRunner:
    """Claims and runs asynchronous invocations on this replica (see the module)."""

    def __init__(self, svc: Services, queue: SqlAsyncQueue) -> None:
        self._svc = svc
        self._queue = queue
        self._running: dict[asyncio.Task[None], Job] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        s = svc.settings
        self._purger = Periodic(
            queue.purge,
            min(60.0, max(1.0, s.async_result_retention_seconds / 4)),
            name="async-purge",
            log=log,
            failure="purging asynchronous invocations failed",
        )
        self._lease = lease_seconds(s, s.async_lease_grace_seconds)

    def start(self) -> None:
        """Start polling the queue (and the purge of expired results)."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="async-runner")
            self._purger.start()

    def wake(self) -> None:
        """Look at the queue now (an invocation was just accepted here)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; runs in progress are cancelled and given back to the queue
        (another replica, or this one after its restart, runs them)."""
        task, self._loop_task = self._loop_task, None
        if task is not None:
            self._stopping = True
        await end_loop(task, self._wake)
        await self._purger.stop()
        await give_back(
            self._running, self._queue.release, log, lambda j: f"asynchronous invocation {j.id}"
        )

    async def _loop(self) -> None:
        interval = self._svc.settings.async_poll_interval_seconds
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self._queue.expire_leases()
                room = self._svc.settings.async_concurrency - len(self._running)
                for job in await self._queue.claim(room, self._lease):
                    task = asyncio.create_task(self._run(job), name=f"async-{job.id}")
                    self._running[task] = job
                    task.add_done_callback(self._done)
            except Exception:
                log.exception("claiming asynchronous invocations failed")

    def _done(self, task: asyncio.Task[None]) -> None:
        if self._running.pop(task, None) is not None and not task.cancelled():
            self._wake.set()  # room for the next one

    async def _run(self, job: Job) -> None:
        try:
            await self._attempt(job)
        except Exception as exc:
            # a problem of the gateway (secrets unreadable, store down): the attempt is
            # spent and the run retried; if even that cannot be stored, the lease lapses
            log.warning("asynchronous invocation %s: %s", job.id, to_problem(exc).detail)
            with contextlib.suppress(Exception):
                await self._queue.retry(job, to_problem(exc).detail or "gateway error")

    async def _attempt(self, job: Job) -> None:
        svc = self._svc
        fn = await claimed_function(svc, job.function, job.tenant, job.incarnation)
        if fn is None:
            await self._queue.finish(job, FAILED, None, "the function was deleted")
            return
        started = time.perf_counter()
        ref = _function_ref(
            svc.function_refs, fn, await _secrets_of(svc, fn), await _kv_bindings_of(svc, fn)
        )
        req = InvokeRequest(
            method=job.method,
            url=job.url,
            headers=job.headers,
            body=job.body,
            invocation_id=job.id,
        )
        try:
            result = await invoke_in_time(svc, fn, ref, req)
        except TimeoutError:
            failure = runtime_deadline()
            _record(svc, fn, job.id, failure.status, "timeout", started, None)
            await self._queue.finish(job, FAILED, _problem_response(failure), "timeout")
            return
        except RuntimeFailure as exc:  # no worker now (a restart): another attempt
            _record(svc, fn, job.id, 503, "crashed", started, None)
            await self._queue.retry(job, f"runtime unavailable: {exc}")
            return
        if result.outcome in NOT_RUN:
            await self._queue.release(job)
            return
        problem = outcome_problem(result, svc.settings.retry_after_seconds)
        if problem is None and not 200 <= (result.status or 200) <= 599:
            problem = RuntimeFailed("the function sent an invalid status")
        status = problem.status if problem else (result.status or 200)
        _record(svc, fn, job.id, status, result.outcome.value, started, result)
        if result.outcome is Outcome.CRASHED:
            await self._queue.retry(job, "the runtime worker crashed")
            return
        if problem is not None:
            error = result.outcome.value
            if result.error is not None:
                error = f"{result.error.name}: {result.error.message}"
            await self._queue.finish(job, FAILED, _problem_response(problem), error)
            return
        await self._queue.finish(job, SUCCEEDED, _function_answer(result), None)
