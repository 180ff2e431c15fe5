"""Cron expressions of functions (issue 23): checked at deploy, iterated by the scheduler.

Standard 5-field syntax (minute, hour, day of month, month, day of week), always UTC,
parsed with ``croniter`` (names like ``MON`` and ``JAN``, ranges, lists and steps). Test
mode (``scheduler.seconds_field``) adds croniter's sixth field, seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from croniter import croniter

from isogate.state.errors import InvalidCron as InvalidCron  # re-exported (state/errors.py)

MAX_CRON_LENGTH = 100
#: at most this many ticks are looked at per cron and poll (a catch-up window holding
#: more, e.g. seconds in test mode after a long pause, keeps the newest ones)
MAX_TICKS_PER_POLL = 1000


def normalise(expr: str) -> str:
    """One space between fields (two spellings of one schedule are one cron)."""
    return " ".join(expr.split())


def check_crons(crons: Sequence[str], *, max_crons: int, seconds: bool = False) -> list[str]:
    """The deploy's crons, normalised and without duplicates; InvalidCron naming the
    first bad one."""
    if len(crons) > max_crons:
        raise InvalidCron("", f"at most {max_crons} crons per function")
    fields = 6 if seconds else 5
    out: list[str] = []
    for raw in crons:
        expr = normalise(raw)
        shown = raw[:MAX_CRON_LENGTH]
        if len(raw) > MAX_CRON_LENGTH:
            raise InvalidCron(shown, f"cron {shown!r}…: at most {MAX_CRON_LENGTH} characters")
        if len(expr.split(" ")) != fields or not expr.isascii():
            raise InvalidCron(
                shown,
                f"cron {shown!r}: expected {fields} fields (minute hour day-of-month month "
                f"day-of-week{' second' if seconds else ''}), UTC",
            )
        if not croniter.is_valid(expr):
            raise InvalidCron(shown, f"cron {shown!r} is not a valid cron expression")
        try:
            croniter(expr, 0.0).get_next(float)
        except Exception:  # e.g. "0 0 31 2 *": valid fields, never due
            raise InvalidCron(shown, f"cron {shown!r} never runs") from None
        if expr not in out:
            out.append(expr)
    return out


def ticks_between(expr: str, after: float, until: float) -> Iterator[float]:
    """Ticks ``t`` of ``expr`` with ``after < t <= until`` (Unix seconds), oldest first."""
    it = croniter(expr, after)
    while True:
        t = it.get_next(float)
        if t > until:
            return
        yield t


def latest_tick(expr: str, at: float) -> float:
    """The newest tick of ``expr`` at or before ``at``."""
    return float(croniter(expr, at + 0.0005).get_prev(float))


def next_tick(expr: str, after: float) -> float:
    """The first tick of ``expr`` after ``after``."""
    return float(croniter(expr, after).get_next(float))


def due_ticks(expr: str, since: float, done: float, now: float, catch_up: float) -> list[float]:
    """The ticks to claim now (the missed-tick policy, docs/reliability.md): every tick
    after ``done`` (the newest tick already claimed, by any replica) and after ``since``
    (when the cron was set) that is at most ``catch_up`` seconds late; and the newest
    tick at or before ``now`` whatever its lateness. Ticks older than both are skipped."""
    floor = max(since, done)
    if now <= floor:
        return []
    newest = latest_tick(expr, now)
    if newest <= floor:
        return []
    lower = now - catch_up  # a tick exactly catch_up late still runs
    start = max(floor, lower - 0.001)
    ticks: list[float] = []
    if start < newest:
        for t in ticks_between(expr, start, now):
            if t < lower:
                continue
            ticks.append(t)
            if len(ticks) > MAX_TICKS_PER_POLL:
                ticks.pop(0)
    if not ticks or ticks[-1] != newest:
        ticks.append(newest)
    return ticks
