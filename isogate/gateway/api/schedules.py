"""Cron schedules of a function: ``GET /v1/functions/{name}/schedules`` (issue 23).

Each cron with its next tick and the latest runs of its ticks (status, outcome, HTTP
status, attempts, duration, error). Crons are set by the deploy body's ``crons``; the
runs are made by each replica's scheduler (gateway/scheduler.py).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.errors import InvalidRequest
from isogate.gateway.shapes.schedules import CronRun, Schedule, ScheduleList
from isogate.gateway.views import iso, json_response, services
from isogate.registry.names import check_function_name
from isogate.state.crons import next_tick

#: runs shown per cron by default, and at most (``?limit=N``)
DEFAULT_RUNS, MAX_RUNS = 10, 100


def run_view(row: dict[str, Any]) -> CronRun:
    """One run of a tick."""
    return CronRun(
        id=row["id"],
        scheduled_time=iso(row["scheduled_at"] / 1000),
        scheduled_time_ms=int(row["scheduled_at"]),
        status=row["status"],
        outcome=row["outcome"],
        http_status=row["http_status"],
        attempts=row["attempts"],
        started_at=iso(row["started_at"]) if row["started_at"] is not None else None,
        finished_at=iso(row["finished_at"]) if row["finished_at"] is not None else None,
        duration_ms=row["duration_ms"],
        error=row["error"],
        no_retry=bool(row["no_retry"]),
    )


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_RUNS
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidRequest("limit must be an integer")
    return max(1, min(int(raw), MAX_RUNS))


async def list_schedules(request: Request) -> Response:
    """The crons of an owned function, their next tick and latest runs (``?limit=N``
    runs per cron)."""
    tenant = await require_tenant(request)
    name = check_function_name(request.path_params["name"])
    svc = services(request)
    await svc.functions.get(tenant, name)  # owner check: another tenant's name is a 404
    limit = _limit(request)
    store = svc.schedules
    crons = await store.crons(name) if store is not None else []
    now = time.time()
    out: list[Schedule] = []
    for cron, since in crons:
        rows = await store.runs_of(name, cron, limit) if store is not None else []
        upcoming = next_tick(cron, max(now, since))
        out.append(
            Schedule(
                cron=cron,
                since=iso(since),
                next_run=iso(upcoming),
                next_run_ms=round(upcoming * 1000),
                last_runs=[run_view(r) for r in rows],
            )
        )
    return json_response(
        ScheduleList(name=name, scheduler_enabled=svc.settings.scheduler.enabled, schedules=out)
    )
