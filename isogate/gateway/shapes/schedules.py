"""Cron schedules of a function: ``GET /v1/functions/{name}/schedules``."""

from __future__ import annotations

from typing import Literal

from isogate.gateway.shapes.base import NullableTime, Number, Shape, Time


class CronRun(Shape):
    """One run of a tick."""

    id: str
    scheduled_time: Time
    scheduled_time_ms: int
    status: Literal["queued", "running", "succeeded", "failed"]
    outcome: str | None
    http_status: int | None
    attempts: int
    started_at: NullableTime
    finished_at: NullableTime
    duration_ms: Number | None
    error: str | None
    no_retry: bool


class Schedule(Shape):
    """A cron, its next tick and its latest runs."""

    cron: str
    since: Time
    next_run: Time
    next_run_ms: int
    last_runs: list[CronRun]


class ScheduleList(Shape):
    """The crons of a function."""

    name: str
    scheduler_enabled: bool
    schedules: list[Schedule]
