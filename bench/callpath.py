"""The call path's figures (issue 19) in one command, each against a baseline measured
in the same run, printed as one table (and, with ``--write``, added to
docs/benchmarks.md):

    python bench/callpath.py [--duration 5] [--rounds 2] [--tenants 1000] [--write LABEL]

Baselines: "bare" is a Starlette route returning the same small JSON document on the
gateway's own Hypercorn settings (``bench/gateway.py bare``); the worker's time per call
is set beside the raw stpyv8 call of a warm handler (``bench/runtime.py``'s RAW);
memory beside an idle worker. Load: ``wrk`` (Debian: ``apt-get install -y wrk``), one
thread, keep-alive. CPU per request comes from ``/proc/PID/stat`` (utime + stime of the
whole process, all threads) over the load run, divided by the requests wrk counted.
Throughput and latency figures are medians over ``--rounds`` alternating rounds: the
machine is shared, so only ratios within a run mean anything. Not a test: nothing is
asserted.

Figures:
  1. keyed hello-world, c=32 and c=64: req/s ÷ bare
  2. public hello-world (no key), c=64: req/s ÷ bare
  3. c=1: p50 latency ÷ bare
  4. gateway process CPU per request ÷ bare's, c=64 keyed
  5. runtime worker CPU per call (hello-world, c=64 keyed), and ÷ the raw stpyv8 call
  6. a ~5 ms CPU-bound function at c=8: throughput with 2 executor threads ÷ 1
  7. RSS per warm function, 1 tenant and N tenants (one function each), through the
     Runtime API; and after the idle-isolate eviction time
  8. seed: 200 distinct functions' first calls at once over HTTP ÷ 200 requests at once
     to bare; beside it, the same 200 again once warm, and 200 at once to a gateway whose
     runtime call is answered in process
  9. bounds (bench/bounds.py): the CPU-bound function on raw stpyv8 with 1 and 2
     threads, RSS per isolate of an empty context and of a minimal shim, and the CPU
     per call of a minimal worker over a pipe
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import all as ab  # noqa: E402  (bench/all.py: Gateway, wrk runner, burst, calibration)
import bounds  # noqa: E402  (bench/bounds.py: the prototypes that bound a rewrite)
import gateway as gwbench  # noqa: E402
import httpx  # noqa: E402
import runtime as rtbench  # noqa: E402

HELLO_JSON = gwbench.HELLO_JS  # the same JSON document as the bare route
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pids: list[int]) -> float:
    """utime + stime of processes (all their threads), seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


class BareJson:
    """The baseline: bench/gateway.py's bare route answering the same JSON."""

    def __init__(self) -> None:
        self.port = gwbench.free_port()
        self.url = f"http://127.0.0.1:{self.port}/hello"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "gateway.py"), "bare", str(self.port)], env=env, cwd=ROOT
        )
        gwbench.wait_ready(self.url)

    def stop(self) -> None:
        gwbench.stop(self.proc)


def load(url: str, headers: dict[str, str], conc: int, dur: int, lua: Path, pids: list[int], workers: list[int] | None = None) -> dict:  # fmt: skip
    """Warm up 1 s, then a measured wrk run; CPU per request of ``pids`` (and workers)."""
    ab.run_load(url, headers, conc, 1, lua, warmup=False)
    workers = workers or []
    c0, w0 = cpu_s(pids), cpu_s(workers)
    r = ab.run_load(url, headers, conc, dur, lua, warmup=False)
    n = max(r["requests"], 1)
    r["cpu_us"] = (cpu_s(pids) - c0) / n * 1e6
    r["worker_us"] = (cpu_s(workers) - w0) / n * 1e6 if workers else float("nan")
    return r


def phase_http(tmp: Path, dur: int, rounds: int, lua: Path) -> dict:
    bare = BareJson()
    gw = ab.Gateway(tmp, "callpath").start()
    # the prototype bounding any work on the runtime hop: the same gateway with its
    # runtime call answered in process (bench/all.py's "canned" mode)
    canned = ab.Gateway(tmp, "canned", profiled="canned").start()
    try:
        canned.deploy("hello", HELLO_JSON)
        gw.deploy("hello", HELLO_JSON)
        with httpx.Client(base_url=gw.url, timeout=30) as c:
            c.put(
                "/v1/functions/pub", headers=gw.auth, json={"code": HELLO_JSON, "public": True}
            ).raise_for_status()
            assert c.get("/fn/pub").status_code == 200
            assert c.get("/fn/hello", headers=gw.key_header).json() == {"hello": "world"}
        workers = ab.worker_pids(gw.proc.pid)
        gpid, bpid = [gw.proc.pid], [bare.proc.pid]
        runs: dict[str, list[dict]] = {}
        plan = [
            ("bare c=1", bare.url, {}, 1, bpid),
            ("keyed c=1", f"{gw.url}/fn/hello", gw.key_header, 1, gpid),
            ("bare c=32", bare.url, {}, 32, bpid),
            ("keyed c=32", f"{gw.url}/fn/hello", gw.key_header, 32, gpid),
            ("bare c=64", bare.url, {}, 64, bpid),
            ("keyed c=64", f"{gw.url}/fn/hello", gw.key_header, 64, gpid),
            ("public c=64", f"{gw.url}/fn/pub", {}, 64, gpid),
            ("canned c=64", f"{canned.url}/fn/hello", canned.key_header, 64, [canned.proc.pid]),
            ("canned c=1", f"{canned.url}/fn/hello", canned.key_header, 1, [canned.proc.pid]),
        ]
        for rnd in range(rounds):
            for label, url, headers, conc, pids in plan:
                r = load(url, headers, conc, dur, lua, pids, workers if pids is gpid else None)
                runs.setdefault(label, []).append(r)
                ab.log(f"round {rnd + 1} {label}: {r['rps']:,.0f}/s p50 {r['p50_ms']:.2f} ms, CPU {r['cpu_us']:.0f} µs/req, worker {r['worker_us']:.0f} µs/req, errors {r['errors']}")  # fmt: skip
        return runs
    finally:
        canned.stop()
        gw.stop()
        bare.stop()


def phase_executors(tmp: Path, iters: int, dur: int, rounds: int, lua: Path) -> dict:
    """The CPU-bound function on 1 worker with 1 and with 2 executor threads."""
    gws = {
        t: ab.Gateway(tmp, f"exec{t}", {"ISOGATE_RUNTIME__THREADS_PER_WORKER": str(t)})
        for t in (1, 2)
    }
    out: dict[int, list[float]] = {1: [], 2: []}
    try:
        for gw in gws.values():
            gw.start()
            gw.deploy("cpu", ab.CPU_JS, {"N": str(iters)})
            asyncio.run(gw.invoke_many(["cpu"] * 16, parallel=8))
        for rnd in range(rounds):
            for t, gw in gws.items():
                r = ab.run_load(f"{gw.url}/fn/cpu", gw.key_header, 8, dur, lua)
                out[t].append(r["rps"])
                ab.log(f"round {rnd + 1}: {t} executor(s): {r['rps']:.0f}/s (errors {r['errors']})")  # fmt: skip
    finally:
        for gw in gws.values():
            gw.stop()
    return out


def phase_seed(tmp: Path, n: int, rounds: int) -> dict:
    """``n`` first calls at once over HTTP (fresh functions each round) ÷ ``n`` requests
    at once to bare, alternating."""
    bare = BareJson()
    caps = {  # the seed deploys 3 x 200 functions of one tenant as fast as it can
        "ISOGATE_MAX_DEPLOY_CHECKS_PER_TENANT": "8",
        "ISOGATE_MAX_DEPLOYS_PER_MINUTE": "0",
        "ISOGATE_MAX_FUNCTIONS_PER_TENANT": "0",
    }
    gw = ab.Gateway(tmp, "seed", caps).start()
    # the bound of the gateway side: the same burst with the runtime call answered in
    # process (no worker, no cold start)
    canned = ab.Gateway(tmp, "seedcanned", caps, profiled="canned").start()
    seeds, bares, warms, canneds = [], [], [], []
    try:
        canned.deploy("hello", HELLO_JSON)
        for rnd in range(rounds):
            code = "export default {{ fetch() {{ return new Response('hello world {}') }} }}"
            items = [(f"seed{rnd}x{i}", code.format(i)) for i in range(n)]
            asyncio.run(gw.deploy_many(items))
            ab.settled_rss_kb(gw)  # idle: pre-warmed isolates replenished
            ms, st = asyncio.run(ab.burst(bare.port, ["/hello"] * n, {}))
            bares.append(ms)
            ms, st = asyncio.run(ab.burst(gw.port, [f"/fn/{nm}" for nm, _ in items], gw.key_header))  # fmt: skip
            seeds.append(ms)
            bad = sum(s != 200 for s in st)
            ab.settled_rss_kb(gw)
            # the same 200 functions again, now warm: what is left without the cold starts
            ms, st = asyncio.run(ab.burst(gw.port, [f"/fn/{nm}" for nm, _ in items], gw.key_header))  # fmt: skip
            warms.append(ms)
            ms, st = asyncio.run(ab.burst(canned.port, ["/fn/hello"] * n, canned.key_header))
            canneds.append(ms)
            ab.log(f"seed round {rnd + 1}: {seeds[-1]:.0f} ms, warm {warms[-1]:.0f} ms, runtime answered in process {canneds[-1]:.0f} ms, bare {bares[-1]:.0f} ms, non-200 {bad}")  # fmt: skip
    finally:
        canned.stop()
        gw.stop()
        bare.stop()
    return {"seed": seeds, "bare": bares, "warm": warms, "canned": canneds}


async def _memory(n: int, idle_s: float) -> dict:
    """RSS per warm function through the Runtime API (1 worker, 1 executor, no pool):
    ``n`` functions of one tenant, then ``n`` tenants with one function each; then (a
    third runtime, whose ``idle_evict_seconds`` is ``idle_s``) the RSS left once the
    tenants' functions stayed idle past that time."""
    from isogate.config.runtime import RuntimeSettings
    from isogate.runtime import InvokeRequest, Runtime

    req = InvokeRequest("GET", "http://x/")
    out: dict[str, Any] = {}
    labels = ["one tenant", "a tenant each"]
    if idle_s and "idle_evict_seconds" in RuntimeSettings.model_fields:
        labels.append("evicted")
    for label in labels:
        kw: dict[str, Any] = {"idle_evict_seconds": idle_s} if label == "evicted" else {}
        settings = RuntimeSettings(
            workers=1, threads_per_worker=1, prewarm_isolates=0, memory_budget_mb=100_000, **kw
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            await rt.wait_prewarmed()
            pid = rt.worker_pids()[0]
            await asyncio.sleep(0.5)
            base = rtbench.rss_kb(pid)
            t = time.perf_counter()
            for i in range(n):
                f = rtbench.ref(f"m{i}", f"export default {{ fetch() {{ return new Response('m{i}') }} }}")  # fmt: skip
                if label == "one tenant":
                    f = replace(f, tenant="one")
                r = await rt.invoke(f, req)
                assert r.body == f"m{i}".encode(), r
            load_s = time.perf_counter() - t
            await asyncio.sleep(0.5)
            warm_kb = rtbench.rss_kb(pid)
            res = {"per_fn_mb": (warm_kb - base) / 1024 / n, "load_s": load_s, "base_mb": base / 1024}  # fmt: skip
            if label == "evicted":  # the functions loaded first may be gone already
                await asyncio.sleep(idle_s * 2 + 1)
                res["after_idle_mb"] = (rtbench.rss_kb(pid) - base) / 1024
                res["isolates_after_idle"] = rt.stats().isolates
            out[label] = res
        finally:
            await rt.close()
    return out


def phase_memory(n: int, idle_s: float) -> dict:
    return asyncio.run(_memory(n, idle_s))


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def report(r: dict, args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """(figure, isogate, baseline, ratio and target) rows."""
    rows: list[tuple[str, str, str, str]] = []
    h = r.get("http", {})

    def rps(label: str) -> float:
        return med([x["rps"] for x in h[label]])

    def ok(good: bool) -> str:
        return "met" if good else "MISSED"

    for c in (32, 64) if h else ():
        ratio = rps(f"keyed c={c}") / rps(f"bare c={c}")
        rows.append((f"keyed hello-world, c={c}: req/s", f"{rps(f'keyed c={c}'):,.0f}", f"{rps(f'bare c={c}'):,.0f}", f"{ratio:.2f} (≥ 0.70: {ok(ratio >= 0.7)})"))  # fmt: skip
    if h:
        http_rows(rows, h, rps, ok, r["raw_us"])
    return _rest(rows, r, args, ok)


def http_rows(rows: list, h: dict, rps: Any, ok: Any, raw_us: float) -> None:
    ratio = rps("public c=64") / rps("bare c=64")
    rows.append(("public hello-world, c=64: req/s", f"{rps('public c=64'):,.0f}", f"{rps('bare c=64'):,.0f}", f"{ratio:.2f} (≥ 0.75: {ok(ratio >= 0.75)})"))  # fmt: skip
    k1 = med([x["p50_ms"] for x in h["keyed c=1"]])
    b1 = med([x["p50_ms"] for x in h["bare c=1"]])
    rows.append(("c=1: p50 latency", f"{k1 * 1000:.0f} µs", f"{b1 * 1000:.0f} µs", f"{k1 / b1:.2f}x (≤ 2.0x: {ok(k1 / b1 <= 2)})"))  # fmt: skip
    if "canned c=1" in h:
        c1 = med([x["p50_ms"] for x in h["canned c=1"]])
        rows.append(("  ceiling: c=1 p50, runtime call answered in process", f"{c1 * 1000:.0f} µs", f"{b1 * 1000:.0f} µs", f"{c1 / b1:.2f}x"))  # fmt: skip
    kc = med([x["cpu_us"] for x in h["keyed c=64"]])
    bc = med([x["cpu_us"] for x in h["bare c=64"]])
    rows.append(("gateway process CPU per request, c=64 keyed", f"{kc:.0f} µs", f"{bc:.0f} µs", f"{kc / bc:.2f}x (≤ 1.4x: {ok(kc / bc <= 1.4)})"))  # fmt: skip
    pc = med([x["cpu_us"] for x in h["public c=64"]])
    rows.append(("  the same, public", f"{pc:.0f} µs", f"{bc:.0f} µs", f"{pc / bc:.2f}x"))
    cr, cc = rps("canned c=64"), med([x["cpu_us"] for x in h["canned c=64"]])
    rows.append(("  ceiling: keyed, runtime call answered in process, c=64", f"{cr:,.0f}/s, {cc:.0f} µs CPU", f"{rps('bare c=64'):,.0f}/s, {bc:.0f} µs", f"{cr / rps('bare c=64'):.2f} req/s, {cc / bc:.2f}x CPU"))  # fmt: skip
    wk = med([x["worker_us"] for x in h["keyed c=64"]])
    rows.append(("runtime worker CPU per call (hello-world, c=64)", f"{wk:.0f} µs", f"raw call {raw_us:.1f} µs", f"{wk / raw_us:.1f}x raw (≤ 80 µs: {ok(wk <= 80)})"))  # fmt: skip


def _rest(rows: list, r: dict, args: argparse.Namespace, ok: Any) -> list:
    if "exec" in r:
        e1, e2 = med(r["exec"][1]), med(r["exec"][2])
        rows.append((f"CPU-bound ({r['cpu_ms']:.1f} ms) c=8: 2 executors ÷ 1", f"{e2:.0f}/s", f"{e1:.0f}/s", f"{e2 / e1:.2f}x (≥ 1.85x: {ok(e2 / e1 >= 1.85)})"))  # fmt: skip
    if "memory" in r:
        m = r["memory"]
        one, each = m["one tenant"], m["a tenant each"]
        rows.append((f"RSS per warm function, {args.tenants} tenants (one function each)", f"{each['per_fn_mb']:.2f} MB", f"idle worker {each['base_mb']:.0f} MB", f"(≤ 1.2 MB: {ok(each['per_fn_mb'] <= 1.2)})"))  # fmt: skip
        rows.append((f"  the same {args.tenants} functions, one tenant", f"{one['per_fn_mb']:.2f} MB", f"idle worker {one['base_mb']:.0f} MB", ""))  # fmt: skip
        if "evicted" in m:
            ev = m["evicted"]
            rows.append((f"  {args.tenants} tenants idle past idle_evict_seconds={args.idle:g}: RSS above idle worker", f"{ev['after_idle_mb']:.0f} MB", f"warm {each['per_fn_mb'] * args.tenants:.0f} MB", f"{ev['isolates_after_idle']} isolates left"))  # fmt: skip
    if "seed" in r:
        s, b = med(r["seed"]["seed"]), med(r["seed"]["bare"])
        rows.append((f"seed: {args.seed} distinct first calls at once over HTTP", f"{s:.0f} ms", f"{b:.0f} ms ({args.seed} bare)", f"{s / b:.2f}x (≤ 1.5x: {ok(s / b <= 1.5)})"))  # fmt: skip
        if "warm" in r["seed"]:
            w, c = med(r["seed"]["warm"]), med(r["seed"]["canned"])
            rows.append(("  bound: the same functions again, warm", f"{w:.0f} ms", f"{b:.0f} ms", f"{w / b:.2f}x"))  # fmt: skip
            rows.append(("  bound: runtime call answered in process", f"{c:.0f} ms", f"{b:.0f} ms", f"{c / b:.2f}x"))  # fmt: skip
    if "bounds" in r:
        bd = r["bounds"]
        sc = bd["scaling"]
        rows.append(("  bound: the CPU-bound function on raw stpyv8, 2 threads ÷ 1", f"{sc['two']:.0f}/s", f"{sc['one']:.0f}/s", f"{sc['ratio']:.2f}x"))  # fmt: skip
        mem = bd["memory"]
        rows.append(("  bound: RSS per isolate, empty context / minimal Request-Response shim", f"{mem['empty'] / 1024:.2f} / {mem['shim'] / 1024:.2f} MB", f"isogate Sandbox {mem['sandbox'] / 1024:.2f} MB", ""))  # fmt: skip
        wk = bd["worker"]
        rows.append(("  bound: minimal worker over a pipe (2 evals), CPU per call c=1 / c=8", f"{wk['c1']:.0f} / {wk['c8']:.0f} µs", "", ""))  # fmt: skip
        rows.append(("  bound: the same, 8 requests started in one script", f"{wk['batch8']:.0f} µs", "", ""))  # fmt: skip
    return rows


def render(rows: list[tuple[str, str, str, str]], meta: dict) -> tuple[str, str]:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    head = ("figure", "isogate", "baseline", "ratio (target)")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    md = ["| figure | isogate | baseline | ratio (target) |", "|---|---|---|---|"]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    info = f"`{meta['command']}`, {meta['date']}, load average {meta['load_start']} → {meta['load_end']}, {meta['total_s']:.0f} s"  # fmt: skip
    return info + "\n" + "\n".join(lines), info + "\n\n" + "\n".join(md)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (medians)")
    p.add_argument("--tenants", type=int, default=1000)
    p.add_argument("--idle", type=float, default=5.0, help="idle-isolate eviction time for the memory phase (0: not set)")  # fmt: skip
    p.add_argument("--seed", type=int, default=200)
    p.add_argument("--only", default="http,exec,memory,seed,bounds", help="phases to run")
    p.add_argument("--write", metavar="LABEL", help="append the table to docs/benchmarks.md")
    args = p.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")
    only = set(args.only.split(","))
    meta: dict[str, Any] = {
        "command": " ".join(["python bench/callpath.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": ab.loadavg(),
    }
    started = time.perf_counter()
    r: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="isogate-callpath-") as tmpname:
        tmp = Path(tmpname)
        lua = tmp / "report.lua"
        lua.write_text(ab.WRK_LUA)
        r["raw_us"], iters, r["cpu_ms"] = ab.baseline_b(2000)
        ab.log(f"raw call {r['raw_us']:.1f} µs; CPU function {iters} iterations = {r['cpu_ms']:.2f} ms")  # fmt: skip
        if "http" in only:
            r["http"] = phase_http(tmp, args.duration, args.rounds, lua)
        if "exec" in only:
            r["exec"] = phase_executors(tmp, iters, args.duration, args.rounds, lua)
        if "seed" in only:
            r["seed"] = phase_seed(tmp, args.seed, max(args.rounds, 3))
        if "memory" in only:
            r["memory"] = phase_memory(args.tenants, args.idle)
        if "bounds" in only:  # bench/bounds.py: the prototypes that bound a rewrite
            r["bounds"] = {
                "scaling": bounds.scaling(iters, args.duration),
                "memory": bounds.memory(),
                "worker": bounds.worker(),
            }
            ab.log(f"bounds: {r['bounds']}")
    meta["load_end"] = ab.loadavg()
    meta["total_s"] = time.perf_counter() - started
    console, md = render(report(r, args), meta)
    print("\n" + console)
    if args.write:
        path = ROOT / "docs" / "benchmarks.md"
        text = path.read_text()
        marker = "<!-- bench/callpath.py runs -->"
        if marker not in text:
            raise SystemExit(f"no {marker!r} in {path}: add the section first")
        text = text.replace(marker, marker + f"\n\n**{args.write}**: " + md, 1)
        path.write_text(text)
        ab.log(f"wrote {path}")


if __name__ == "__main__":
    main()
