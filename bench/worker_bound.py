"""The V8 part of a warm call, alone: the prototype that bounds the runtime worker's
time per call (issue 19). On a Sandbox with a JSON hello-world loaded, thread CPU per
call (best of 3 x N) of the two evals a warm call makes (its start script, then the
step), with the start script built as the executor builds it (a new script every call)
and variants: one fixed seed, an ASCII seed, and the same script every call (compiled
once). Nothing else the executor does (frames, JSON of the step, bookkeeping) is in it.

    PYTHONPATH=<checkout> python bench/worker_bound.py [N]
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from isogate.runtime.icu import start_v8

start_v8()

from isogate.runtime.isolate import (  # noqa: E402
    SEED_LENGTH,
    STEP_SCRIPT,
    Sandbox,
    check_source,
    host_call,
    wire,
)
from isogate.runtime.types import InvokeRequest  # noqa: E402

CODE = (
    "export default { fetch() { return new Response(JSON.stringify({hello: 'world'}),"
    " {headers: {'content-type': 'application/json'}}) } };"
)
HEADERS = (
    ("host", "127.0.0.1:8000"),
    ("user-agent", "wrk"),
    ("x-forwarded-for", "127.0.0.1"),
    ("x-isogate-key-id", "k1"),
)


def main(n: int, out: dict[str, float]) -> None:
    sb = Sandbox()
    sb.enter()
    sb.load(check_source(CODE), (), 1 << 20)
    ctx = sb.context
    w = wire(InvokeRequest("GET", "http://127.0.0.1:8000/fn/hello", HEADERS, b""))
    fixed = os.urandom(SEED_LENGTH).decode("latin-1")

    def seeded(i: int) -> str:
        return host_call("invoke", str(i), os.urandom(SEED_LENGTH).decode("latin-1") + w)

    variants: dict[str, Callable[[int], str]] = {
        "a new start script per call (as the executor does)": seeded,
        "a new script per call, one fixed seed": lambda i: host_call("invoke", str(i), fixed + w),
        "a new script per call, ASCII seed": lambda i: host_call(
            "invoke", str(i), "a" * SEED_LENGTH + w
        ),
        "the same script every call (compiled once)": lambda i: host_call(
            "invoke", "same", fixed + w
        ),
    }
    for r in range(3):
        for k, (name, make) in enumerate(variants.items()):
            scripts = [make(i + (r * len(variants) + k) * n) for i in range(n)]
            t = time.thread_time()
            for s in scripts:
                ctx.eval(s)
                ctx.eval(STEP_SCRIPT)
            out[name] = min(out.get(name, 1e9), (time.thread_time() - t) / n * 1e6)
        t = time.thread_time()
        for _ in range(n):
            ctx.eval(STEP_SCRIPT)
        key = "a step eval with nothing to do"
        out[key] = min(out.get(key, 1e9), (time.thread_time() - t) / n * 1e6)
    del ctx  # every context goes before its isolate (isolate.py)
    sb.leave()
    sb.close()


if __name__ == "__main__":
    results: dict[str, float] = {}
    threading.stack_size(16 << 20)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    th = threading.Thread(target=main, args=(n, results))
    th.start()
    th.join()
    for name, us in results.items():
        print(f"{name}: {us:.1f} µs CPU per call")
