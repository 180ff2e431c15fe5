"""Settings of cron schedules (issue 23). Env vars: ``ISOGATE_SCHEDULER__<FIELD>``.

Every replica runs one scheduler (docs/reliability.md, "Cron schedules"): it claims each
tick of each function's crons in the SQL database, so a tick runs once across replicas.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SchedulerSettings(BaseModel):
    """The cron scheduler of each replica (docs/api.md "Cron schedules",
    docs/reliability.md "Cron schedules")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        True,
        description="this replica runs due cron ticks (off: it claims none; schedules are "
        "still stored and shown, and run on the replicas where it is on)",
    )
    poll_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="how often the scheduler looks for due ticks"
    )
    run_retention_seconds: float = Field(
        7 * 86400.0, ge=60, description="how long the record of a finished run is kept"
    )
    max_crons_per_function: int = Field(
        5, ge=1, le=100, description="cron expressions one function may have (400 beyond)"
    )
    catch_up_seconds: float = Field(
        300.0,
        ge=0,
        description="missed ticks at most this late still run (each once); of older "
        "missed ticks only the most recent runs, once",
    )
    max_attempts: int = Field(
        3, ge=1, le=10, description="runs of one tick whose handler failed or crashed"
    )
    concurrency: int = Field(4, ge=1, le=1024, description="runs one replica does at once")
    lease_grace_seconds: float = Field(
        30.0, gt=0, description="slack on a run's lease beyond the longest run"
    )
    seconds_field: bool = Field(
        False,
        description="for tests only: crons take a sixth field, seconds (croniter's "
        "form: 'm h dom mon dow s'), so ticks come every second",
    )
