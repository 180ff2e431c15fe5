"""``isogate serve`` and ``isogate migrate``: the commands that run on the server itself."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from isogate.cli.client import EXIT_INTERRUPTED
from isogate.cli.common import _print, _settings


def cmd_serve(args: argparse.Namespace) -> int:
    from isogate.gateway.server import StartupError, serve

    settings = _settings(args)

    def bound(url: str) -> None:
        print(f"isogate listening on {url} (data: {settings.data_dir})", flush=True)

    try:
        stopped_by = asyncio.run(serve(settings, on_bound=bound))
    except StartupError as exc:
        print(f"isogate serve: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C ends with the shell's convention for SIGINT; SIGTERM is a normal stop.
    return EXIT_INTERRUPTED if stopped_by == signal.SIGINT else 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from isogate.backends.database import DatabaseUnavailable, create_engine, migrate

    settings = _settings(args)

    async def run() -> list[str]:
        engine = create_engine(settings)
        try:
            return await migrate(engine)
        finally:
            await engine.dispose()

    try:
        applied = asyncio.run(run())
    except DatabaseUnavailable as exc:
        print(f"isogate migrate: {exc}", file=sys.stderr)
        return 1
    _print(args, {"applied": applied}, "\n".join(applied) or "schema is up to date")
    return 0
