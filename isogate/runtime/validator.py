"""A deploy-check process: loads tenant code once, exactly as the runtime will.

Started by :class:`isogate.runtime.validation.Validators` as
``python -m isogate.runtime.validator``; speaks frames (protocol.py) on stdin/stdout,
one check at a time. Each check runs in a throwaway isolate under the same heap limit
and the same wrapper as a runtime worker's load (source.prepare, then
``Sandbox.load`` under a watchdog), so what deploys, loads, and a top level that
throws or names something undefined is refused at deploy.

Checks never run in the worker processes that serve calls (issue 24): a heap bomb at
the top level (or a source whose compile exhausts the heap) aborts this process only,
while it checks one deployer's code, so the crash is that deployer's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from typing import Any

#: resident memory beyond the heap limit at which a check stops this process
#: (ArrayBuffers live outside the V8 heap): the check is answered as a crash
RSS_SLACK_MB = 256


def check(msg: dict[str, Any], watchdog: Any) -> dict[str, Any]:
    """Load ``msg["src"]`` in a fresh isolate; the answer as a ``validated`` message."""
    from .isolate import HostError, Sandbox, SourceError, check_source
    from .types import InvokeResult, Outcome

    timeout_ms = int(msg["timeout_ms"])
    sandbox = Sandbox(warm_up=False)
    sandbox.enter()
    try:
        try:
            prepared = check_source(msg["src"])
        except SourceError as exc:
            return _answer(False, "invalid", exc.info)
        ticket = watchdog.arm(sandbox.isolate, timeout_ms / 1000.0)
        try:
            result = sandbox.load(
                prepared, tuple(tuple(kv) for kv in msg["env"]), int(msg["max_response_body"])
            )
        except HostError:  # V8 raised out of the load script (the runtime's own answer)
            result = None
        finally:
            fired = watchdog.disarm(ticket)
        if fired:
            sandbox.burn_termination()
            return _answer(False, "timeout", None, f"the top level ran over {timeout_ms} ms")
        if result is None:
            return _answer(False, "invalid", None, "the code could not be loaded")
        assert isinstance(result, InvokeResult)
        if result.outcome is not Outcome.OK:
            return _answer(False, "invalid", result.error, result.detail)
        return _answer(True, "", None)
    finally:
        sandbox.leave()
        sandbox.close()


def _answer(ok: bool, reason: str, error: Any, message: str = "") -> dict[str, Any]:
    if error is None and not ok:
        return {
            "op": "validated",
            "ok": False,
            "reason": reason,
            "error": {"name": "Error", "message": message or "the code could not be loaded"},
        }
    err = None
    if error is not None:
        err = {
            "name": error.name,
            "message": error.message,
            "line": error.line,
            "column": error.column,
        }
    return {"op": "validated", "ok": ok, "reason": reason, "error": err}


def _serve(control_fd: int, heap_limit_mb: int) -> None:
    from .protocol import FrameReader, pack, write_all
    from .watchdog import Watchdog
    from .worker import _guard_rss

    watchdog = Watchdog()
    watchdog.start()
    threading.Thread(
        target=_guard_rss,
        args=((heap_limit_mb * 4 + RSS_SLACK_MB) << 20,),
        name="isogate-rss-guard",
        daemon=True,
    ).start()
    reader = FrameReader(0)
    write_all(control_fd, pack({"op": "ready", "pid": os.getpid()}))
    while (msg := reader.read()) is not None:
        write_all(control_fd, pack(check(msg, watchdog)))
    watchdog.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="isogate-validator")
    parser.add_argument("--config", required=True, help="RuntimeSettings as JSON")
    parser.add_argument("--uts46-tables", default="", help="tables saved by the runtime")
    args = parser.parse_args(argv)
    config = json.loads(args.config)
    if args.uts46_tables:
        from . import uts46

        uts46.load(args.uts46_tables)

    # Frames on a private copy of stdout; fd 1 goes to stderr (V8's fatal messages).
    control_fd = os.dup(1)
    os.dup2(2, 1)

    from .icu import start_v8
    from .worker import THREAD_STACK, _set_flags

    # Ctrl-C reaches the whole process group; the gateway stops its check processes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_flags(config["heap_limit_mb"])  # the same heap limit as a runtime worker
    start_v8()  # with the wheel's ICU data, as a runtime worker (icu.py)
    threading.stack_size(THREAD_STACK)
    t = threading.Thread(
        target=_serve, args=(control_fd, config["heap_limit_mb"]), name="isogate-validator"
    )
    t.start()
    t.join()
    return 0


if __name__ == "__main__":
    # No interpreter teardown: V8 objects must never outlive their isolate (DESIGN.md).
    os._exit(main())
