"""A runtime worker process: executor threads running tenant JavaScript.

Started by the supervisor as ``python -m isogate.runtime.worker``; speaks frames
(protocol.py) on stdin/stdout. Tenant JS never runs in the gateway process: a heap
blown past its limit aborts this process only, and the supervisor restarts it.

Order matters at start-up (DESIGN.md): V8 flags are set before ``import STPyV8``,
one at a time; threads get stacks large enough that deep recursion is a catchable
RangeError rather than a segfault.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from .icu import start_v8

THREAD_STACK = 16 << 20  # bytes; V8's own stack limit (~1 MB) stays well inside it


def _set_flags(heap_limit_mb: int, expose_gc: bool = False) -> None:
    import _STPyV8

    flags = [
        f"--max-old-space-size={heap_limit_mb}",
        "--stack-size=984",
        # eval, new Function and their kin throw EvalError, as on workerd (and tenant
        # code can then never compile code it did not upload); the prelude needs none
        "--disallow-code-generation-from-strings",
        # Float16Array and Math.f16round (ES2025), behind a flag in this V8; workerd has them
        "--js-float16array",
    ]
    if expose_gc:  # runtime.debug_gc_every: stress runs only
        flags.append("--expose-gc")
    # One flag per call: an unknown flag silently voids the ones after it.
    for flag in flags:
        _STPyV8.JSEngine.setFlags(flag)


def _enable_core_dumps(directory: str | None) -> None:
    """Let a native crash leave a core file in ``directory`` (runtime.core_dump_dir).

    The kernel writes ``core_pattern`` relative to the crashing process's working
    directory; an absolute or piped pattern (systemd-coredump) is the system's choice.
    """
    if not directory:
        return
    import resource

    os.makedirs(directory, exist_ok=True)
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    os.chdir(directory)


def self_test() -> dict[str, Any]:
    """Check Intl in a real isolate: with a bad ICU data file it errors or aborts."""
    from .isolate import Sandbox

    sandbox = Sandbox()
    sandbox.enter()
    try:
        text = sandbox.eval_str(
            "(function(){try{return (1234.5).toLocaleString('en-US') + '|' +"
            " new Intl.DateTimeFormat('en-US',{timeZone:'UTC'}).format(new Date(0)) + '|' +"
            " new Date(0).toLocaleString('en-US',{timeZone:'UTC'}) + '|' +"
            " '\\uFB01'.normalize('NFKC')}"
            "catch(e){return 'ERROR ' + String(e)}})()"
        )
    finally:
        sandbox.leave()
        sandbox.close()
    ok = text == "1,234.5|1/1/1970|1/1/1970, 12:00:00 AM|fi"
    return {"ok": ok, "intl": text}


def _start_io(egress_json: str) -> tuple[Any, Any]:
    """The process's I/O loop for fetch (hostio.py), when egress settings were given."""
    if not egress_json:
        return None, None
    from isogate.config.egress import EgressSettings

    from .hostio import HostIO

    data = json.loads(egress_json)
    own = [(str(h), int(p)) for h, p in data.pop("own_addresses", [])]
    settings = EgressSettings(**data)
    io = HostIO(settings, own)
    io.start()
    return io, settings


RSS_POLL_S = 0.01
EGRESS_REPORT_S = 0.5


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _guard_rss(limit_bytes: int) -> None:
    """Stop this process when its resident memory passes ``limit_bytes``.

    V8's heap limit does not cover ArrayBuffer backing stores or WebAssembly
    memories (calloc'ed / mmap'ed outside the heap): one invocation could commit
    gigabytes and keep them in a global. Past the limit the worker exits like a
    heap over its limit does; the supervisor fails its in-flight invocations as
    ``crashed``, gives them a strike and restarts it.
    """
    import time

    while True:
        time.sleep(RSS_POLL_S)
        try:
            rss = _rss_bytes()
        except (OSError, ValueError, IndexError):
            return  # no /proc: nothing to watch
        if rss > limit_bytes:
            message = f"runtime worker over its memory limit ({rss >> 20} MB); exiting\n"
            os.write(2, message.encode())
            os._exit(70)


def _bad_frame(exc: Exception) -> None:
    """A request frame that is no message of messages.py: a supervisor bug. The executor
    serves on (other tenants' calls share it); the call it carried, unanswered, is
    ended by the supervisor's deadline sweep."""
    os.write(2, f"executor: malformed request frame skipped: {exc}\n".encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="isogate-runtime-worker")
    parser.add_argument("--config", required=True, help="RuntimeSettings as JSON")
    parser.add_argument("--pipes", default="", help="per executor: request-fd,result-fd,...")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--egress", default="", help="EgressSettings (+ own addresses) as JSON")
    parser.add_argument("--uts46-tables", default="", help="tables saved by the runtime")
    args = parser.parse_args(argv)
    config = json.loads(args.config)
    if args.uts46_tables:  # made once by the runtime (uts46.py), not again per worker
        from . import uts46

        uts46.load(args.uts46_tables)
    # Ctrl-C in a terminal reaches the whole process group: the gateway shuts down and
    # closes our pipes; a KeyboardInterrupt here would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # Control frames on a private copy of stdout; fd 1 goes to stderr so nothing (a
    # stray print, V8's fatal messages) can corrupt a frame stream.
    control_fd = os.dup(1)
    os.dup2(2, 1)

    _set_flags(config["heap_limit_mb"], expose_gc=bool(config.get("debug_gc_every")))
    start_v8()  # after the flags: V8 starts here, with the wheel's ICU data (icu.py)
    _enable_core_dumps(config.get("core_dump_dir"))
    threading.stack_size(THREAD_STACK)

    from .code_cache import SharedLRU, prepared_cache, source_cache
    from .executor import Executor
    from .messages import Egress, FromWorker, Ready, SelfTest
    from .protocol import FrameReader, decode_to_executor, frame, write_all
    from .watchdog import Watchdog

    if args.self_test:
        result: dict[str, Any] = {}
        t = threading.Thread(target=lambda: result.update(self_test()))
        t.start()
        t.join()
        write_all(control_fd, frame(SelfTest(bool(result.get("ok")), str(result.get("intl")))))
        return 0

    fds = [int(x) for x in args.pipes.split(",") if x]
    pairs = list(zip(fds[0::2], fds[1::2], strict=True))
    watchdog = Watchdog()
    watchdog.start()
    sources = source_cache(max_bytes=256 << 20)
    prepared = prepared_cache(max_bytes=256 << 20)
    budget = config["memory_budget_mb"] * 1_000_000 // max(1, len(pairs))
    io, egress_settings = _start_io(args.egress)

    def sender(fd: int) -> Callable[[FromWorker], None]:
        # Each executor thread owns its result pipe: no lock, no hand-off.
        return lambda message: write_all(fd, frame(message))

    executors = [
        Executor(
            i,
            inbox=FrameReader(request_fd, decode_to_executor, skip=_bad_frame),
            watchdog=watchdog,
            send=sender(result_fd),
            sources=sources,
            prepared=prepared,
            prewarm=config["prewarm_isolates"],
            budget_bytes=budget,
            max_response_body=config["max_response_body"],
            functions_per_isolate=config["functions_per_isolate"],
            gc_every=config.get("debug_gc_every") or 0,
            io=io,
            wait_until_ms=config.get("wait_until_ms", 30000),
            max_subrequests=egress_settings.max_subrequests if egress_settings else 50,
            recycle_bytes=config.get("isolate_recycle_mb", 4) << 20,
        )
        for i, (request_fd, result_fd) in enumerate(pairs)
    ]
    threads = [
        threading.Thread(target=ex.run, name=f"isogate-executor-{i}", daemon=True)
        for i, ex in enumerate(executors)
    ]
    for t in threads:
        t.start()
    from isogate.config.runtime import RuntimeSettings

    rss_limit = RuntimeSettings(**config).worker_rss_limit_mb
    threading.Thread(
        target=_guard_rss, args=(rss_limit << 20,), name="isogate-rss-guard", daemon=True
    ).start()
    write_all(control_fd, frame(Ready(os.getpid(), len(pairs))))

    def report() -> None:
        # fetch() counts for the gateway's isogate_egress_requests_total, and the code
        # caches' for its isogate_cache_* (deltas, so a worker's death loses no count)
        import time

        caches: tuple[SharedLRU[Any], ...] = (sources, prepared)
        last = [(0, 0, 0)] * len(caches)
        while True:
            time.sleep(EGRESS_REPORT_S)
            counts = io.take_counts() if io is not None else []
            report: list[tuple[str, int, int, int, int, int]] = []
            for i, cache in enumerate(caches):
                s = cache.stats
                now = (s.hits, s.misses, s.evictions)
                if now != last[i]:  # a put looks up first: sizes change only then
                    h, m, e = (a - b for a, b in zip(now, last[i], strict=True))
                    report.append((cache.name, h, m, e, int(cache.currsize), cache.maxsize))
                    last[i] = now
            if counts or report:
                write_all(control_fd, frame(Egress(tuple(counts), tuple(report))))

    threading.Thread(target=report, name="isogate-report", daemon=True).start()
    # The supervisor stops us by closing stdin (and the request pipes, which ends
    # every executor's loop); a dead supervisor does the same.
    while os.read(0, 4096):
        pass
    for t in threads:
        t.join(timeout=5)
    watchdog.stop()
    return 0


if __name__ == "__main__":
    # Leave without running interpreter teardown: V8 objects still referenced by
    # daemon threads must never be destroyed after their isolate (DESIGN.md).
    os._exit(main())
