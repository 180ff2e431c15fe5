"""Runs the cron schedules of functions (issue 23): one :class:`Scheduler` per replica.

Every ``scheduler.poll_interval_seconds`` it reads every function's crons, works out the
ticks due under the missed-tick policy (:func:`isogate.state.crons.due_ticks`: each tick
at most ``catch_up_seconds`` late, and the newest due tick whatever its lateness), and
claims each with an insert-or-nothing of its run row (:mod:`isogate.state.schedules`):
across replicas exactly one claim of a tick succeeds, and only that replica runs it. A
run calls the function's ``scheduled(controller, env, ctx)`` through the runtime with the
limits, bindings and secrets of a fetch call.

Outcomes: the handler's promise fulfilled is ``succeeded``; a failure (thrown error,
time or CPU limit, crash of the runtime worker, no worker at all) is run again, at the
next poll on any replica, until ``max_attempts`` runs were spent, unless the handler
called ``controller.noRetry()`` (then ``failed`` at once). At shutdown the scheduler
stops claiming and lets runs in progress finish (up to the shutdown timeout); one still
running then is cancelled and queued again without spending an attempt.

The clock is injectable (``clock``) so tests can move time without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from isogate.gateway.claimed_runs import (
    NOT_RUN,
    claimed_function,
    end_loop,
    give_back,
    invoke_in_time,
    lease_seconds,
)
from isogate.gateway.invoke import _function_ref, _kv_bindings_of, _record, _secrets_of
from isogate.gateway.outcomes import runtime_deadline
from isogate.gateway.problems import to_problem
from isogate.gateway.services import Services
from isogate.periodic import Periodic
from isogate.runtime.errors import RuntimeFailure
from isogate.runtime.types import InvokeRequest, Outcome
from isogate.state.crons import due_ticks, next_tick
from isogate.state.leases import FAILED, SUCCEEDED
from isogate.state.schedules import Run, SqlScheduleStore

log = logging.getLogger(__name__)

#: seconds between looks for runs whose lease lapsed (their replica died)
EXPIRE_EVERY = 5.0
#: the URL a scheduled invocation's (unused) request names; never fetched
CRON_URL = "http://cron.invalid/"


class Scheduler:
    """Claims and runs this replica's share of cron ticks (see the module)."""

    def __init__(
        self,
        svc: Services,
        store: SqlScheduleStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._svc = svc
        self._store = store
        self._clock = clock
        self._cfg = svc.settings.scheduler
        #: the newest tick known claimed per (function, cron), Unix ms: by this replica,
        #: or learnt from the database (another replica's claim, before a restart)
        self._done: dict[tuple[str, str], int] = {}
        #: the first tick after the last poll that looked at each (function, cron): until
        #: then nothing of it can be due, so the poll skips it
        self._next: dict[tuple[str, str], float] = {}
        self._running: dict[asyncio.Task[None], Run] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._expired_at = float("-inf")  # when lapsed leases were last looked for
        self._purger = Periodic(
            store.purge,
            min(60.0, max(1.0, self._cfg.run_retention_seconds / 4)),
            name="cron-purge",
            log=log,
            failure="purging cron runs failed",
        )
        self._lease = lease_seconds(svc.settings, self._cfg.lease_grace_seconds)

    @property
    def running(self) -> int:
        """Runs in progress on this replica."""
        return len(self._running)

    def start(self) -> None:
        """Start polling (and purging expired run records)."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="cron-scheduler")
            self._purger.start()

    async def stop(self) -> None:
        """Stop claiming; let runs in progress finish within the shutdown timeout, then
        cancel the rest and give them back (queued, the attempt not counted)."""
        task, self._loop_task = self._loop_task, None
        if task is not None:
            self._stopping = True
        await end_loop(task, self._wake)
        await self._purger.stop()
        if self._running:
            drain = max(0.5, self._svc.settings.shutdown_timeout_seconds - 2.0)
            await asyncio.wait(list(self._running), timeout=drain)
        await give_back(self._running, self._store.release, log, lambda r: f"cron run {r.id}")

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.poll()
            except Exception:
                log.exception("the cron scheduler's poll failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._cfg.poll_interval_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def poll(self) -> int:
        """One look at the schedules: claim what is due (and runs queued again) and
        start running them. Returns how many runs it started."""
        store = self._store
        if time.monotonic() - self._expired_at >= EXPIRE_EVERY:
            # a lease lapses only when a replica died mid-run: a rare look is enough, and
            # spares the database a write transaction on every poll
            await store.expire_leases()
            self._expired_at = time.monotonic()
        schedules = await store.active()
        if any((s.function, s.cron) not in self._done for s in schedules):
            for key, tick in (await store.last_ticks()).items():
                if tick > self._done.get(key, -1):
                    self._done[key] = tick
        live = {(s.function, s.cron) for s in schedules}
        for key in [k for k in self._done if k not in live]:
            del self._done[key]  # cron removed, or function deleted
        for key in [k for k in self._next if k not in live]:
            del self._next[key]
        started = 0
        now = self._clock()
        for s in schedules:
            key = (s.function, s.cron)
            if now < self._next.get(key, now):
                continue  # its next tick is not due yet: no cron arithmetic this poll
            done_ms = self._done.get(key, 0)
            finished = True
            for t in due_ticks(s.cron, s.since, done_ms / 1000, now, self._cfg.catch_up_seconds):
                if self._stopping or self._room() <= 0:
                    finished = False  # still due at the next poll (here or elsewhere)
                    break
                ms = round(t * 1000)
                run = await store.claim_tick(s, ms, self._lease, self._cfg.max_attempts)
                self._done[key] = max(self._done.get(key, 0), ms)
                if run is not None:
                    self._svc.metrics.cron_lag.observe(max(0.0, self._clock() - t))
                    self._start(run)
                    started += 1
            if finished:
                self._next[key] = next_tick(s.cron, now)
            else:
                self._next.pop(key, None)
        if not self._stopping:
            for run in await store.claim_queued(self._room(), self._lease):
                self._start(run)
                started += 1
        return started

    def _room(self) -> int:
        return self._cfg.concurrency - len(self._running)

    def _start(self, run: Run) -> None:
        task = asyncio.create_task(self._run(run), name=f"cron-{run.id}")
        self._running[task] = run
        task.add_done_callback(self._done_callback)

    def _done_callback(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)

    async def wait_idle(self) -> None:
        """Wait until no run is in progress on this replica (tests)."""
        while self._running:
            await asyncio.wait(list(self._running))

    async def _run(self, run: Run) -> None:
        try:
            await self._attempt(run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # a problem of the gateway (secrets unreadable, store down): the attempt is
            # spent and the run tried again; if even that cannot be stored, the lease lapses
            detail = to_problem(exc).detail or "gateway error"
            log.warning("cron run %s: %s", run.id, detail)
            with contextlib.suppress(Exception):
                await self._store.retry(
                    run, outcome="error", http_status=503, error=detail, duration_ms=None
                )
            self._count("retried")

    def _count(self, outcome: str) -> None:
        self._svc.metrics.cron_runs.labels(outcome).inc()

    async def _attempt(self, run: Run) -> None:
        svc = self._svc
        store = self._store
        fn = await claimed_function(svc, run.function, run.tenant, run.incarnation)
        if fn is None:
            await store.finish(
                run,
                FAILED,
                outcome="deleted",
                http_status=None,
                error="the function was deleted",
                duration_ms=None,
            )
            self._count("failed")
            return
        started = time.perf_counter()
        inv_id = f"{run.id}-{run.attempts}"  # each attempt is an invocation record
        ref = _function_ref(
            svc.function_refs, fn, await _secrets_of(svc, fn), await _kv_bindings_of(svc, fn)
        )
        req = InvokeRequest(
            "GET", CRON_URL, invocation_id=inv_id, scheduled=(run.cron, run.scheduled_at)
        )
        try:
            result = await invoke_in_time(svc, fn, ref, req)
        except TimeoutError:
            problem = runtime_deadline()
            _record(svc, fn, inv_id, problem.status, "timeout", started, None)
            await self._failed(run, "timeout", problem.status, "timeout", started, False)
            return
        except RuntimeFailure as exc:  # no worker now (a restart): another attempt
            _record(svc, fn, inv_id, 503, "crashed", started, None)
            await self._failed(run, "crashed", 503, f"runtime unavailable: {exc}", started, False)
            return
        if result.outcome in NOT_RUN:
            await store.release(run)
            return
        ok = result.outcome is Outcome.OK
        status = 200 if ok else _STATUS.get(result.outcome, 500)
        _record(svc, fn, inv_id, status, result.outcome.value, started, result)
        if ok:
            await store.finish(
                run,
                SUCCEEDED,
                outcome="ok",
                http_status=200,
                error=None,
                duration_ms=_ms(started),
                no_retry=result.no_retry,
            )
            self._count("succeeded")
            return
        error = result.detail or result.outcome.value
        if result.error is not None:
            error = f"{result.error.name}: {result.error.message}"
        await self._failed(run, result.outcome.value, status, error, started, result.no_retry)

    async def _failed(
        self, run: Run, outcome: str, status: int, error: str, started: float, no_retry: bool
    ) -> None:
        """A failed attempt: run again later unless attempts are spent or the handler
        called ``noRetry()``."""
        duration = _ms(started)
        if no_retry:
            await self._store.finish(
                run,
                FAILED,
                outcome=outcome,
                http_status=status,
                error=error,
                duration_ms=duration,
                no_retry=True,
            )
            self._count("failed")
            return
        again = await self._store.retry(
            run, outcome=outcome, http_status=status, error=error, duration_ms=duration
        )
        self._count("retried" if again else "failed")


#: the status a failed run records (as a fetch call would have been answered)
_STATUS = {
    Outcome.TIMEOUT: 504,
    Outcome.CPU_LIMIT: 503,
    Outcome.CRASHED: 503,
    Outcome.QUARANTINED: 503,
    Outcome.CODE_UNAVAILABLE: 503,
    Outcome.TOO_LARGE: 502,
}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
