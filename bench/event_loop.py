"""Event-loop benchmark (issue 18): prints figures against baselines of the same run.

    python bench/event_loop.py [--calls 1000] [--delay-ms 200]

Figures (nothing is asserted; the machine is shared and noisy):
  1. N concurrent calls of a function that awaits a DELAY ms timer, on default settings
     (1 worker, 2 executors): wall time for all of them, against DELAY itself
  2. executor CPU per awaited timer: a handler awaiting 200 zero-delay timers one after
     another, minus one awaiting none, per timer (the host-operation round trip)
  3. executor CPU and wall time per loopback fetch, the same way (upstream on 127.0.0.1)
  4. worker RSS per waiting invocation: N calls awaiting a 3 s timer, RSS while they wait
     minus RSS before, per call
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.server
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isogate.config.egress import EgressSettings
from isogate.config.runtime import RuntimeSettings
from isogate.runtime import FunctionRef, InvokeRequest, Runtime

GET = InvokeRequest("GET", "http://bench.test/")


def ref(name: str, source: str, **kw: object) -> FunctionRef:
    digest = hashlib.sha256(source.encode()).hexdigest()
    return FunctionRef(name, 1, "bench", digest, source=source, **kw)  # type: ignore[arg-type]


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (else Nagle + delayed ACK: ~40 ms each)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _cpu_ms(rt: Runtime, f: FunctionRef, rounds: int = 20) -> tuple[float, float]:
    """Median executor CPU (ms, the result's run_ms) and wall time (ms) of warm calls."""
    await rt.invoke(f, GET)
    cpu, wall = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = await rt.invoke(f, GET)
        wall.append((time.perf_counter() - t0) * 1000)
        assert r.ok, r
        cpu.append(r.timings.run_ms)
    return statistics.median(cpu), statistics.median(wall)


async def main(calls: int, delay_ms: int) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}/"
    rt = Runtime(RuntimeSettings(), egress=EgressSettings(allow=["127.0.0.1"]))
    await rt.start()
    await rt.wait_prewarmed()
    try:
        wait = ref(
            "wait",
            f"export default {{ async fetch() {{ await scheduler.wait({delay_ms});"
            " return new Response('ok') } }",
        )
        await rt.invoke(wait, GET)
        for attempt in range(3):
            t0 = time.perf_counter()
            rs = await asyncio.gather(*(rt.invoke(wait, GET) for _ in range(calls)))
            took = time.perf_counter() - t0
            ok = sum(r.ok for r in rs)
            print(
                f"1. {calls} concurrent calls awaiting {delay_ms} ms (run {attempt + 1}):"
                f" all answered in {took * 1000:.0f} ms ({ok} ok); baseline: one timer"
                f" {delay_ms} ms; overhead {took * 1000 - delay_ms:.0f} ms"
            )
        n = 200
        none = ref("t0", "export default { async fetch() { return new Response('ok') } }")
        timers = ref(
            "tn",
            f"export default {{ async fetch() {{ for (let i = 0; i < {n}; i++)"
            " await scheduler.wait(0); return new Response('ok') } }",
        )
        base_cpu, base_wall = await _cpu_ms(rt, none)
        t_cpu, t_wall = await _cpu_ms(rt, timers)
        print(
            f"2. awaited timer: {(t_cpu - base_cpu) * 1000 / n:.1f} µs executor CPU,"
            f" {(t_wall - base_wall) * 1000 / n:.1f} µs wall each (baseline call: "
            f"{base_cpu * 1000:.0f} µs CPU, {base_wall * 1000:.0f} µs wall)"
        )
        m = 50
        fetches = ref(
            "fn",
            f"export default {{ async fetch() {{ for (let i = 0; i < {m}; i++)"
            f" await (await fetch('{upstream}')).text(); return new Response('ok') }} }}",
            timeout_ms=10_000,
        )
        f_cpu, f_wall = await _cpu_ms(rt, fetches, rounds=10)
        print(
            f"3. loopback fetch: {(f_cpu - base_cpu) * 1000 / m:.1f} µs executor CPU,"
            f" {(f_wall - base_wall) * 1000 / m:.0f} µs wall each"
            " (wall includes the upstream, Python's http.server)"
        )
        long = ref(
            "long",
            "export default { async fetch() { await scheduler.wait(3000);"
            " return new Response('ok') } }",
            timeout_ms=10_000,
        )
        await rt.invoke(long, GET)
        pid = rt.worker_pids()[0]
        before = _rss(pid)
        tasks = [asyncio.create_task(rt.invoke(long, GET)) for _ in range(calls)]
        while rt.stats().waiting < calls:
            await asyncio.sleep(0.05)
        during = _rss(pid)
        await asyncio.gather(*tasks)
        print(
            f"4. RSS per waiting invocation: {(during - before) / calls / 1024:.1f} KiB"
            f" ({calls} waiting: worker RSS {before >> 20} -> {during >> 20} MiB)"
        )
    finally:
        await rt.close()
        server.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.delay_ms))
