"""Crash soak: the load shape under which runtime workers used to die of SIGSEGV.

    python bench/crash_soak.py [--duration 1800] [--concurrency 64] [--tenants 3]
                               [--workers 2] [--stress] [--core-dir DIR] [--json out.json]

Starts a real ``isogate serve`` on loopback (embedded defaults, a temporary data dir),
registers ``--tenants`` tenants and deploys for each: ``hello`` (public), ``json``
(keyed, echoes the URL as JSON), ``error`` (keyed, throws: 500) and ``timeout``
(public, spins past its 100 ms limit: 504), with one API key per tenant. Then
``--concurrency`` clients call them back to back (closed loop) for ``--duration``
seconds and the run reports:

* requests, and answers other than the one each function must give (200, 200, 500
  ``function-error``, 504 ``timeout``): "unexpected";
* runtime worker deaths by cause (``isogate_runtime_crashes_total{reason}``) and the
  worker processes replaced;
* quarantined functions (``isogate_quarantined_functions``);
* new ``segfault`` / ``trap`` lines in the kernel log (``dmesg``, when readable).

``--stress`` recycles contexts and isolates all the time and forces V8 garbage
collections, so that a context dropped while its isolate lives is collected at once
(the crash of issue 16 showed within seconds this way): each tenant also gets 40
``churn`` functions called in turn, the warm-function budget is 16 MB per worker (each
new function evicts another), 2 functions share an isolate, and every executor runs a
full GC every 25 calls (``runtime.debug_gc_every``; never in production).

``--core-dir`` sets ``runtime.core_dump_dir``: a worker that dies by a signal leaves a
core file there (docs/operations.md, "Native crashes", for the gdb backtrace).

Exit status 0 for a clean run (no death, no unexpected answer, no quarantine, no new
kernel fault line), 1 otherwise, 2 when set-up failed. Nothing here is timed against a
threshold: throughput is printed, not judged.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.procs import worker_pids  # noqa: E402
from tests.gateway.e2e.conftest import Tenant  # noqa: E402
from tests.gateway.e2e.server import GatewayProcess  # noqa: E402

FUNCTIONS = {
    # name: (code, options, public, weight, expected (status, problem slug))
    "hello": (
        "export default { fetch() { return new Response('hello') } };",
        {},
        True,
        8,
        (200, None),
    ),
    "json": (
        "export default { fetch(req, env) { return Response.json({ url: req.url,"
        " tenant: env.T, n: [1, 2, 3].map(x => x * 2) }) } };",
        {},
        False,
        6,
        (200, None),
    ),
    "error": (
        "export default { fetch() { throw new Error('boom') } };",
        {},
        False,
        2,
        (500, "function-error"),
    ),
    "timeout": (
        "export default { fetch() { for (;;) {} } };",
        {"timeout_ms": 100},
        True,
        1,
        (504, "timeout"),
    ),
}
CHURN = 40  # functions per tenant in --stress mode
STRESS_ENV = {
    "ISOGATE_RUNTIME__MEMORY_BUDGET_MB": "16",
    "ISOGATE_RUNTIME__FUNCTIONS_PER_ISOLATE": "2",
    "ISOGATE_RUNTIME__SPARE_IDLE_SECONDS": "1",
    "ISOGATE_RUNTIME__DEBUG_GC_EVERY": "25",
}
FAULT = re.compile(r"segfault|traps:|general protection", re.I)


@dataclass(frozen=True)
class Call:
    label: str
    path: str
    headers: dict[str, str]
    expected: tuple[int, str | None]


def kernel_faults() -> list[str] | None:
    """Fault lines of the kernel log, or None when it cannot be read here."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return [line for line in out.stdout.splitlines() if FAULT.search(line)]


def metrics(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=10).text
    found: dict[str, float] = {}
    for m in re.finditer(
        r"^(isogate_runtime_crashes_total\{reason=\"(\w+)\"\}|isogate_quarantined_functions"
        r"|isogate_runtime_retried_invocations_total) (\S+)$",
        text,
        re.M,
    ):
        name = f"crashes_{m[2]}" if m[2] else m[1]
        found[name] = float(m[3])
    return found


def set_up(gw: GatewayProcess, tenants: int, stress: bool) -> list[Call]:
    calls: list[Call] = []
    for i in range(tenants):
        t = Tenant(gw.url, f"soak{i}")
        for name, (code, opts, public, weight, expected) in FUNCTIONS.items():
            fn = f"{name}-{i}"
            r = t.deploy(fn, code, public=public, env={"T": t.name}, **opts)
            if r.status_code != 201:
                raise RuntimeError(f"deploy {fn}: {r.status_code} {r.text}")
            headers = {} if public else {"X-API-Key": KEYS.setdefault(i, _key(t))}
            calls += [Call(name, f"/fn/{fn}", headers, expected)] * weight
        if stress:
            for j in range(CHURN):
                fn = f"churn{j}-{i}"
                code = (
                    f"const big = new Array(2000).fill('{j}');"
                    f" export default {{ fetch() {{ return new Response(big.length + ' {j}') }} }};"
                )
                r = t.deploy(fn, code, public=True)
                if r.status_code != 201:
                    raise RuntimeError(f"deploy {fn}: {r.status_code} {r.text}")
                calls.append(Call("churn", f"/fn/{fn}", {}, (200, None)))
        t.http.close()
    return calls


KEYS: dict[int, str] = {}


def _key(t: Tenant) -> str:
    return t.key(rate_limit={"requests": 1_000_000, "per_seconds": 1})["key"]


async def load(url: str, calls: list[Call], concurrency: int, seconds: float) -> dict:
    outcomes: Counter[tuple[str, str]] = Counter()
    unexpected: Counter[str] = Counter()
    cycle = itertools.cycle(calls)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                c = next(cycle)
                try:
                    r = await client.get(c.path, headers=c.headers)
                    slug = None
                    if r.headers.get("content-type", "").startswith("application/problem"):
                        slug = r.json().get("type", "").rsplit("/", 1)[-1]
                    got = (r.status_code, slug)
                except httpx.HTTPError as exc:
                    got = (0, type(exc).__name__)
                outcomes[(c.label, f"{got[0]} {got[1] or ''}".strip())] += 1
                if got != c.expected:
                    unexpected[f"{c.label}: {got[0]} {got[1] or ''}".strip()] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    total = sum(outcomes.values())
    return {
        "requests": total,
        "per_second": round(total / seconds, 1),
        "outcomes": {f"{k[0]} -> {k[1]}": v for k, v in sorted(outcomes.items())},
        "unexpected": dict(unexpected),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=1800.0, help="seconds of load")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--tenants", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="runtime worker processes")
    p.add_argument("--stress", action="store_true", help="recycle contexts and force GC")
    p.add_argument("--core-dir", type=Path, help="runtime.core_dump_dir for the workers")
    p.add_argument("--json", type=Path, help="write the report here")
    args = p.parse_args()
    if args.tenants < 1 or args.concurrency < 1 or args.duration <= 0:
        p.error("--tenants, --concurrency and --duration must be positive")

    env = {
        "ISOGATE_RUNTIME__WORKERS": str(args.workers),
        "ISOGATE_RUNTIME__THREADS_PER_WORKER": "2",
        "ISOGATE_RUNTIME__PREWARM_ISOLATES": "4",
        "ISOGATE_LOG_LEVEL": "error",
        "ISOGATE_MAX_DEPLOYS_PER_MINUTE": "0",  # set-up deploys dozens of functions
    }
    if args.stress:
        env.update(STRESS_ENV)
    if args.core_dir:
        env["ISOGATE_RUNTIME__CORE_DUMP_DIR"] = str(args.core_dir.resolve())
    faults_before = kernel_faults()
    with tempfile.TemporaryDirectory(prefix="isogate-crash-soak-") as tmp:
        gw = GatewayProcess(Path(tmp) / "data", env)
        try:
            gw.start()
            calls = set_up(gw, args.tenants, args.stress)
        except Exception as exc:
            print(f"set-up failed: {exc}", file=sys.stderr)
            gw.stop()
            return 2
        try:
            assert gw.proc is not None
            pids_before = set(worker_pids(gw.proc.pid))
            started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            report = asyncio.run(load(gw.url, calls, args.concurrency, args.duration))
            pids_after = set(worker_pids(gw.proc.pid))
            m = metrics(gw.url)
        finally:
            gw.stop()
    faults_after = kernel_faults()
    new_faults = (
        None
        if faults_before is None or faults_after is None
        else faults_after[len(faults_before) :]
    )
    deaths = {k.removeprefix("crashes_"): int(v) for k, v in m.items() if k.startswith("crashes_")}
    report.update(
        {
            "started": started,
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "tenants": args.tenants,
            "workers": args.workers,
            "stress": args.stress,
            "worker_deaths": deaths,
            "workers_replaced": len(pids_before - pids_after),
            "quarantined": int(m.get("isogate_quarantined_functions", 0)),
            "retried": int(m.get("isogate_runtime_retried_invocations_total", 0)),
            "kernel_fault_lines": new_faults,
        }
    )
    clean = (
        not report["unexpected"]
        and sum(deaths.values()) == 0
        and report["workers_replaced"] == 0
        and report["quarantined"] == 0
        and not new_faults
    )
    report["verdict"] = "clean" if clean else "NOT CLEAN"
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
