"""``isogate schedules NAME``: a function's cron schedules, next ticks and latest runs."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote


def _run_line(r: dict[str, Any]) -> str:
    took = "" if r["duration_ms"] is None else f" {r['duration_ms']:.1f}ms"
    status = "" if r["http_status"] is None else f" {r['http_status']}"
    tries = f" (attempt {r['attempts']})" if r["attempts"] > 1 else ""
    line = f"    {r['scheduled_time']}  {r['status']:<9}{status}{took}{tries}"
    if r["error"]:
        line += f"\n      ! {r['error']}"
    return line


def cmd_schedules(args: argparse.Namespace) -> int:
    from isogate.cli.common import _client, _print

    c = _client(args)
    data = c.call(
        "GET", f"/v1/functions/{quote(args.name, safe='')}/schedules", params={"limit": args.limit}
    )
    lines: list[str] = []
    for s in data["schedules"]:
        lines.append(f"{s['cron']}  (UTC)  next {s['next_run']}")
        lines += [_run_line(r) for r in s["last_runs"]] or ["    no runs yet"]
    if not data["schedules"]:
        lines.append(f"{data['name']} has no cron schedules (deploy with --cron EXPR)")
    _print(args, data, "\n".join(lines))
    return 0


def add_commands(sub: Any, client: argparse.ArgumentParser) -> None:
    """The ``schedules`` command of ``isogate``."""
    from isogate.cli.main import _command

    s = _command(
        sub,
        "schedules",
        "a function's cron schedules, next ticks and latest runs",
        "Show the cron schedules of function NAME (set with deploy --cron, or a wrangler\n"
        "project's triggers.crons): each cron's next tick and its latest runs with their\n"
        "outcome (succeeded or failed, status, duration, error).",
        parents=(client,),
        func=cmd_schedules,
    )
    s.add_argument("name", help="function name")
    s.add_argument(
        "--limit", type=int, default=10, help="runs shown per cron (default %(default)s)"
    )
