"""Runtime benchmark: prints figures against baselines measured in the same run.

    python bench/runtime.py [--functions 1000] [--rounds 2000]

Figures (no timing is ever asserted; the machine is shared and noisy):
  1. raw stpyv8 call of a warm handler, in-process (baseline)
  2. warm invocation through the Runtime API (worker process + IPC), overhead over 1
  3. cold start of a new function (p50/p99)
  4. the seed experiment: 200 distinct functions at once, vs the seed's way
     (a thread and a new isolate per call) measured here
  5. RSS per warm function with N functions warm
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import FunctionRef, InvokeRequest, Runtime

HELLO = "export default { fetch() { return new Response('hello') } }"

RAW = textwrap.dedent(
    """
    import json, sys, threading, time
    import STPyV8

    def main():
        iso = STPyV8.JSIsolate(True); iso.enter()
        ctx = STPyV8.JSContext(); ctx.enter()
        ctx.eval("function h(req) { const r = JSON.parse(req); return JSON.stringify({status: 200, body: 'hello ' + r.url}) }")
        lit = json.dumps(json.dumps({"method": "GET", "url": "http://x/", "headers": [], "body": None}))
        src = "h(" + lit + ")"
        n = int(sys.argv[1])
        for _ in range(200): json.loads(ctx.eval(src))
        t = time.perf_counter()
        for _ in range(n): json.loads(ctx.eval(src))
        print((time.perf_counter() - t) / n * 1e6)
        ctx.leave(); del ctx; iso.leave(); del iso

    threading.stack_size(16 << 20)
    t = threading.Thread(target=main); t.start(); t.join()
    """
)

SEED = textwrap.dedent(
    """
    import sys, threading, time
    import STPyV8

    def one(i, out):
        iso = STPyV8.JSIsolate(True); iso.enter()
        ctx = STPyV8.JSContext(); ctx.enter()
        out[i] = ctx.eval("'hello ' + 'world ' + %d" % i)
        ctx.leave(); del ctx; iso.leave(); del iso

    out = [None] * 200
    threading.stack_size(4 << 20)
    t = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i, out)) for i in range(200)]
    for th in threads: th.start()
    for th in threads: th.join()
    print((time.perf_counter() - t) * 1000)
    assert all(out[i] == "hello world %d" % i for i in range(200))
    """
)


def ref(name: str, source: str, version: int = 1) -> FunctionRef:
    return FunctionRef(
        name, version, name, hashlib.sha256(source.encode()).hexdigest(), source=source
    )


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def throughput(
    rt: Runtime, fn: FunctionRef, req: InvokeRequest, conc: int, seconds: float
) -> tuple[float, float]:
    """Calls per second with ``conc`` callers, and the event-loop thread's CPU per call."""
    done = 0
    stop = False

    async def caller() -> None:
        nonlocal done
        while not stop:
            await rt.invoke(fn, req)
            done += 1

    tasks = [asyncio.create_task(caller()) for _ in range(conc)]
    await asyncio.sleep(0.5)  # warm-up: every executor holds a copy
    done, cpu0, t0 = 0, time.thread_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    n, cpu, wall = done, time.thread_time() - cpu0, time.perf_counter() - t0
    stop = True
    await asyncio.gather(*tasks)
    return n / wall, cpu / max(n, 1) * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--functions", type=int, default=1000)
    args = parser.parse_args()

    raw_us = float(subprocess.check_output([sys.executable, "-c", RAW, str(args.rounds)]))
    seed_ms = statistics.median(
        float(subprocess.check_output([sys.executable, "-c", SEED])) for _ in range(3)
    )

    # Every seed function has a tenant of its own, so an isolate of its own: pooled
    # isolates need no contexts made ahead for further functions of their tenant.
    settings = RuntimeSettings(
        workers=1,
        threads_per_worker=2,
        prewarm_isolates=110,
        functions_per_isolate=1,
        memory_budget_mb=4096,
    )
    rt = Runtime(settings)
    await rt.start()
    try:
        await rt.wait_prewarmed()
        hello = ref("hello", HELLO)
        req = InvokeRequest("GET", "http://x/")
        for _ in range(200):
            await rt.invoke(hello, req)
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            await rt.invoke(hello, req)
            times.append((time.perf_counter() - t) * 1e6)
        warm_us = statistics.median(times)
        run_us = []
        for _ in range(200):
            r = await rt.invoke(hello, req)
            run_us.append(r.timings.run_ms * 1000)
        tput, loop_us = await throughput(rt, hello, req, 64, 3.0)

        cold = []
        for i in range(200):
            f = ref(f"cold{i}", f"export default {{ fetch() {{ return new Response('c{i}') }} }}")
            t = time.perf_counter()
            r = await rt.invoke(f, req)
            cold.append((time.perf_counter() - t) * 1000)
            assert r.cold and r.body == f"c{i}".encode()
        await rt.wait_prewarmed()  # replenish pre-warmed isolates

        fns = [
            ref(
                f"seed{i}",
                f"export default {{ fetch() {{ return new Response('hello world {i}') }} }}",
            )
            for i in range(200)
        ]
        t = time.perf_counter()
        results = await asyncio.gather(*(rt.invoke(f, req) for f in fns))
        seed_isogate_ms = (time.perf_counter() - t) * 1000
        assert all(r.body == f"hello world {i}".encode() for i, r in enumerate(results))
    finally:
        await rt.close()

    # Time limits and crash recovery.
    lim = Runtime(RuntimeSettings(workers=1, threads_per_worker=2, heap_limit_mb=32))
    await lim.start()
    try:
        over = []
        for i in range(10):
            loop_fn = ref(f"loop{i % 2}", "export default { fetch() { while (true) {} } }")
            loop_fn = FunctionRef(
                loop_fn.name,
                1,
                loop_fn.tenant,
                loop_fn.sha256,
                timeout_ms=100,
                source=loop_fn.source,
            )
            t = time.perf_counter()
            r = await lim.invoke(loop_fn, req)
            over.append((time.perf_counter() - t) * 1000 - 100)
            assert r.outcome.value == "timeout"
        restart = []
        bomb = "export default { fetch() { const a = []; while (true) a.push(new Array(1e6).fill(1)) } }"
        for i in range(3):
            r = await lim.invoke(ref(f"bomb{i}", bomb), req)
            assert r.outcome.value == "crashed"
            t = time.perf_counter()
            while not lim.ready:
                await asyncio.sleep(0.005)
            restart.append((time.perf_counter() - t) * 1000)
    finally:
        await lim.close()

    # Memory: a worker with N warm functions vs the same worker idle; each function of a
    # tenant of its own (an isolate each), then all of one tenant (isolates shared).
    per_fn_mb: dict[bool, float] = {}
    warm_count = 0
    for one_tenant in (False, True):
        mem = Runtime(
            RuntimeSettings(
                workers=1, threads_per_worker=1, prewarm_isolates=0, memory_budget_mb=100_000
            )
        )
        await mem.start()
        try:
            await mem.wait_prewarmed()
            pid = mem.worker_pids()[0]
            base = rss_kb(pid)
            for i in range(args.functions):
                f = ref(f"m{i}", f"export default {{ fetch() {{ return new Response('m{i}') }} }}")
                if one_tenant:
                    f = replace(f, tenant="one")
                await mem.invoke(f, req)
            per_fn_mb[one_tenant] = (rss_kb(pid) - base) / 1024 / args.functions
            warm_count = mem.stats().warm_functions
        finally:
            await mem.close()

    print("isogate runtime benchmark (one run, same machine; compare within the run)")
    print(f"{'figure':<58}{'value':>14}{'target':>16}")
    rows = [
        ("raw stpyv8 call of a warm handler (baseline)", f"{raw_us:.1f} us", ""),
        ("warm invocation through Runtime API (p50)", f"{warm_us:.1f} us", ""),
        ("  overhead over raw call", f"{warm_us - raw_us:.1f} us", "<= 100 us"),
        ("  ratio to raw call", f"{warm_us / raw_us:.1f}x", ""),
        (
            "  of which in the isolate (executor-measured, p50)",
            f"{statistics.median(run_us):.1f} us",
            "",
        ),
        ("warm throughput through Runtime API, 64 concurrent calls", f"{tput:,.0f}/s", ""),
        ("  event-loop thread CPU per call (gateway side)", f"{loop_us:.0f} us", ""),
        ("cold start, new function (p50)", f"{pct(cold, 0.5):.2f} ms", "<= 2 ms"),
        ("cold start, new function (p99)", f"{pct(cold, 0.99):.2f} ms", ""),
        (
            "seed experiment, seed's way: thread + new isolate each",
            f"{seed_ms:.0f} ms",
            "(baseline)",
        ),
        (
            "seed experiment, isogate: 200 distinct functions at once",
            f"{seed_isogate_ms:.0f} ms",
            "<= 100 ms",
        ),
        (
            f"RSS per warm function ({warm_count} warm, a tenant each)",
            f"{per_fn_mb[False]:.2f} MB",
            "<= 1.5 MB",
        ),
        (
            f"RSS per warm function ({warm_count} warm, one tenant)",
            f"{per_fn_mb[True]:.2f} MB",
            "",
        ),
        ("time limit 100 ms: answered after limit + (p50)", f"{pct(over, 0.5):.1f} ms", "<= 50 ms"),
        ("time limit 100 ms: answered after limit + (max)", f"{max(over):.1f} ms", "<= 50 ms"),
        ("worker restart after a heap crash (max of 3)", f"{max(restart):.0f} ms", "<= 1000 ms"),
    ]
    for name, value, target in rows:
        print(f"{name:<58}{value:>14}{target:>16}")


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop

        sys.argv.remove("--uvloop")
        uvloop.run(main())
    else:
        asyncio.run(main())
