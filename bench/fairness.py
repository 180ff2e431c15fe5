"""Fairness benchmark: how long tenant A's backlog delays tenant B's calls.

    python bench/fairness.py [--run-ms 20] [--backlogs 0,32,128,256] [--calls 10]

For each backlog size, tenant A fires that many calls of a function that busies its
executor for ``--run-ms`` at once; then tenant B calls a hello-world function
``--calls`` times, one after another, while A's backlog drains. Printed per backlog:
B's latency (p50 / max) and how long each B call waited for an executor, next to the
bound docs/reliability.md states (ceil(T/E) x L: T tenants waiting, E executors, L the
longest run time) and to what FIFO across tenants would have cost (backlog x L / E).
Baseline: B alone (backlog 0) in the same run. Nothing here is asserted; the machine
is shared, so compare figures only within one run. Runs in ~10 s with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import FunctionRef, InvokeRequest, Runtime

THREADS = 2


def ref(name: str, tenant: str, source: str) -> FunctionRef:
    sha = hashlib.sha256(source.encode()).hexdigest()
    return FunctionRef(name=name, version=1, tenant=tenant, sha256=sha, source=source)


async def main(run_ms: int, backlogs: list[int], calls: int) -> None:
    busy = (
        "export default { fetch() { const t = Date.now();"
        f" while (Date.now() - t < {run_ms}) {{}} return new Response('a'); }} }}"
    )
    hello = "export default { fetch() { return new Response('b'); } }"
    a, b = ref("busy", "tenant-a", busy), ref("hello", "tenant-b", hello)
    settings = RuntimeSettings(
        workers=1,
        threads_per_worker=THREADS,
        prewarm_isolates=2,
        max_queue=4096,
        max_queue_per_tenant=max([*backlogs, 1]),
        queue_timeout_ms=120_000,
    )
    rt = Runtime(settings)
    await rt.start()
    req = InvokeRequest("GET", "http://bench/")
    try:
        for r in (a, b):  # warm both, on both executors
            await asyncio.gather(*(rt.invoke(r, req) for _ in range(THREADS)))
        bound = math.ceil(2 / THREADS) * run_ms
        print(f"executors {THREADS}, A's run time {run_ms} ms, B calls {calls} per backlog")
        print(f"bound for B (2 tenants waiting): ceil(T/E) x L = {bound} ms")
        print("backlog | B p50 ms | B max ms | B max wait ms | FIFO would wait ms")
        for backlog in backlogs:
            flood = [asyncio.create_task(rt.invoke(a, req)) for _ in range(backlog)]
            await asyncio.sleep(0)
            latencies, waits = [], []
            for _ in range(calls):
                t0 = time.perf_counter()
                result = await rt.invoke(b, req)
                latencies.append((time.perf_counter() - t0) * 1000)
                waits.append(result.timings.queued_ms)
                assert result.ok, result
            fifo = backlog * run_ms / THREADS
            print(
                f"{backlog:7d} | {statistics.median(latencies):8.1f} | {max(latencies):8.1f}"
                f" | {max(waits):13.1f} | {fifo:18.0f}"
            )
            results = await asyncio.gather(*flood)
            assert all(r.ok for r in results), {r.outcome for r in results}
    finally:
        await rt.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-ms", type=int, default=20)
    parser.add_argument("--backlogs", default="0,32,128,256")
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.run_ms, [int(x) for x in args.backlogs.split(",")], args.calls))
