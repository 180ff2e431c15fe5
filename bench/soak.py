"""Soak: a steady fraction of the measured maximum throughput, with a mix of functions,
against one or two real ``isogate serve`` replicas on loopback; watches for leaks.

    python bench/soak.py [--duration 600] [--fraction 0.5] [--replicas 1] [--interval 5]
                         [--json out.json]

1. Starts the replica(s) (embedded SQLite in a temporary data dir, shared by both
   replicas with ``--replicas 2``), registers a tenant, deploys four functions: ``fast``
   (hello), ``slow`` (~20 ms of CPU), ``error`` (throws: 500) and ``timeout`` (spins past
   its 100 ms limit: 504), and creates one key.
2. Measures the maximum throughput of that mix (closed loop, ``--max-seconds``).
3. Runs ``--fraction`` of it open-loop for ``--duration`` seconds (the bounded load
   generator of ``tests/faults/load.py``), sampling every ``--interval`` seconds: RSS and
   open file descriptors of every process (gateways and their runtime workers, from
   ``/proc``), live isolates (``isogate_isolates`` on ``/metrics``) and p50/p99 latency and
   outcomes of the window.
4. Prints a table, the RSS slope of every process (least-squares fit, MB/min) and a verdict.

Exit status 0, or 1 when a leak or an unhealthy run is evident by these deliberately
generous rules (computed after a warm-up of 25 % of the run, at most 60 s):

* RSS: a process's slope exceeds max(10 MB/min, 20 % of its RSS at the end of warm-up per
  minute);
* file descriptors: a process holds > 100 more fds at the end than at warm-up and the last
  sample is its highest (still growing);
* isolates: more than max(2 x warm-up count, warm-up count + 20) live isolates at the end;
* outcomes: more than 1 % of the requests got an answer their function cannot produce
  (each function has exactly one expected status: 200, 200, 500 function-error, 504
  timeout), e.g. 502/503 or a transport error; or a runtime worker was replaced.

p99 stability is reported (first vs last third of the windows), not judged: a loaded CI
machine makes latency noisy, and a timing rule would make the soak flaky. 2 = set-up failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.load import (  # noqa: E402
    LoadGenerator,
    Sample,
    Target,
    by_status,
    percentile,
)
from tests.faults.procs import fd_count, rss_mb, worker_pids  # noqa: E402
from tests.gateway.e2e.server import ADMIN, GatewayProcess  # noqa: E402

FUNCTIONS = {
    # name: (code, options, weight in the mix, expected (status, problem))
    "fast": ("export default { fetch() { return new Response('fast') } };", {}, 10, (200, None)),
    "slow": (
        "export default { fetch() { const end = Date.now() + 20; let n = 0;"
        " while (Date.now() < end) n++; return new Response('slow ' + n) } };",
        {},
        4,
        (200, None),
    ),
    "error": (
        "export default { fetch() { throw new Error('boom') } };",
        {},
        2,
        (500, "function-error"),
    ),
    "timeout": (
        "export default { fetch() { for (;;) {} } };",
        {"timeout_ms": 100},
        1,
        (504, "timeout"),
    ),
}


# ---------------------------------------------------------------------- helpers


def linear_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def metric(url: str, name: str) -> float | None:
    try:
        text = httpx.get(url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return None
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def expected(sample: Sample) -> bool:
    fn = sample.target.rsplit("/", 1)[-1]
    return (sample.status, sample.problem) == FUNCTIONS[fn][3]


def setup(gateways: list[GatewayProcess]) -> str:
    """Register a tenant, deploy the mix, create a key; returns the key."""
    h = httpx.Client(base_url=gateways[0].url, timeout=60)
    r = h.post(
        "/v1/tenants",
        json={"name": "soak", "password": "password-123"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    r.raise_for_status()
    r = h.post("/v1/auth/token", json={"name": "soak", "password": "password-123"})
    r.raise_for_status()
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for name, (code, opts, _, _) in FUNCTIONS.items():
        r = h.put(f"/v1/functions/{name}", headers=auth, json={"code": code, **opts})
        r.raise_for_status()
    r = h.post(
        "/v1/keys", headers=auth, json={"rate_limit": {"requests": 1_000_000, "per_seconds": 1}}
    )
    r.raise_for_status()
    key = r.json()["key"]
    h.close()
    return key


def targets(gateways: list[GatewayProcess], key: str) -> list[Target]:
    h = {"x-api-key": key}
    return [
        Target(gw.url, f"/fn/{name}", h, weight, label=f"{i}/{name}")
        for i, gw in enumerate(gateways)
        for name, (_, _, weight, _) in FUNCTIONS.items()
    ]


def processes(gateways: list[GatewayProcess]) -> dict[str, int]:
    """role -> pid: ``gw0``, ``gw0.w0``, ``gw0.w1``, ..."""
    out: dict[str, int] = {}
    for i, gw in enumerate(gateways):
        assert gw.proc is not None
        out[f"gw{i}"] = gw.proc.pid
        for j, pid in enumerate(worker_pids(gw.proc.pid)):
            out[f"gw{i}.w{j}"] = pid
    return out


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=600.0, help="seconds of steady load")
    p.add_argument("--fraction", type=float, default=0.5, help="of the measured maximum")
    p.add_argument("--replicas", type=int, choices=(1, 2), default=1)
    p.add_argument("--workers", type=int, default=2, help="runtime workers per replica")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    p.add_argument("--max-seconds", type=float, default=5.0, help="max-throughput probe")
    p.add_argument("--concurrency", type=int, default=16, help="clients of the probe")
    p.add_argument("--json", type=Path, help="write every sample and the verdict here")
    args = p.parse_args(argv)
    if not (0 < args.fraction <= 1) or args.duration <= 0 or args.interval <= 0:
        p.error("need 0 < fraction <= 1, duration > 0, interval > 0")

    tmp = tempfile.TemporaryDirectory(prefix="isogate-soak-")
    data = Path(tmp.name) / "data"
    env = {"ISOGATE_RUNTIME__WORKERS": str(args.workers), "ISOGATE_LOG_LEVEL": "warning"}
    gateways = [GatewayProcess(data, env) for _ in range(args.replicas)]
    for i, gw in enumerate(gateways):
        gw.log = Path(tmp.name) / f"gw{i}.log"
    try:
        try:
            for gw in gateways:
                gw.start()
            key = setup(gateways)
        except Exception as exc:
            print(f"set-up failed: {exc}", file=sys.stderr)
            for gw in gateways:
                if gw.log.exists():
                    print(gw.log.read_text()[-3000:], file=sys.stderr)
            return 2
        return soak(args, gateways, key)
    finally:
        codes = [gw.stop() for gw in gateways]
        if any(c not in (0, None) for c in codes):
            print(f"gateway exit codes {codes}", file=sys.stderr)
        tmp.cleanup()


def soak(args: argparse.Namespace, gateways: list[GatewayProcess], key: str) -> int:
    mix = targets(gateways, key)
    # warm every function on every executor, then the maximum of the mix (closed loop)
    LoadGenerator(mix, concurrency=args.concurrency, max_requests=2000).run(2.0)
    started = time.monotonic()
    probe = LoadGenerator(mix, concurrency=args.concurrency, max_requests=10**6).run(
        args.max_seconds
    )
    max_rps = len(probe) / (time.monotonic() - started)
    rate = max(1.0, args.fraction * max_rps)
    print(
        f"max throughput of the mix: {max_rps:.0f} req/s ({by_status(probe)}); "
        f"soaking at {rate:.0f} req/s for {args.duration:.0f} s, "
        f"{len(gateways)} replica(s) x {args.workers} worker(s)"
    )

    load = LoadGenerator(
        mix,
        rate=rate,
        concurrency=64,
        max_seconds=args.duration,
        max_requests=int(rate * args.duration * 1.1) + 100,
    )
    t0 = time.monotonic()
    load.start()
    rows: list[dict] = []
    pids = processes(gateways)
    first_pids = dict(pids)
    last = t0
    header = (
        f"{'t(s)':>6} {'req/s':>6} {'bad':>4} {'p50ms':>6} {'p99ms':>7} {'iso':>4}  "
        + "  ".join(f"{role:>14}" for role in pids)
    )
    print(header + "\n" + " " * 44 + "  ".join(f"{'RSS MB/fds':>14}" for _ in pids))
    while not load.done:
        time.sleep(max(0.0, last + args.interval - time.monotonic()))
        now = time.monotonic()
        done = [s for s in load.samples if last <= s.end < now]
        last = now
        pids = processes(gateways)
        lat = [s.latency * 1000 for s in done]
        row = {
            "t": round(now - t0, 1),
            "rps": round(len(done) / args.interval, 1),
            "requests": len(done),
            "unexpected": sum(not expected(s) for s in done),
            "p50_ms": round(percentile(lat, 50), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "isolates": sum(metric(gw.url, "isogate_isolates") or 0 for gw in gateways),
            "rss_mb": {r: rss_mb(pid) for r, pid in pids.items()},
            "fds": {r: fd_count(pid) for r, pid in pids.items()},
            "pids": pids,
        }
        rows.append(row)
        cells = "  ".join(
            f"{(row['rss_mb'].get(r) or 0):>8.1f}/{(row['fds'].get(r) or 0):<5}" for r in pids
        )
        print(
            f"{row['t']:>6} {row['rps']:>6.0f} {row['unexpected']:>4} {row['p50_ms']:>6.1f} "
            f"{row['p99_ms']:>7.1f} {row['isolates']:>4.0f}  {cells}",
            flush=True,
        )
    samples = load.stop()
    verdict = judge(args, rows, samples, first_pids, load.skipped)
    if args.json:
        args.json.write_text(
            json.dumps({"max_rps": max_rps, "rate": rate, "rows": rows, **verdict}, indent=1)
        )
    return 1 if verdict["problems"] else 0


def judge(
    args: argparse.Namespace,
    rows: list[dict],
    samples: list[Sample],
    first_pids: dict[str, int],
    skipped: int,
) -> dict:
    problems: list[str] = []
    warmup = min(60.0, 0.25 * args.duration)
    steady = [r for r in rows if r["t"] >= warmup] or rows
    base = steady[0]
    end = rows[-1]
    slopes: dict[str, float] = {}
    print(f"\nRSS slopes after a {warmup:.0f} s warm-up (least squares, MB/min):")
    for role in first_pids:
        pts = [(r["t"] / 60, r["rss_mb"][role]) for r in steady if r["rss_mb"].get(role)]
        if len(pts) < 2:
            continue
        slope = linear_slope([x for x, _ in pts], [y for _, y in pts])
        slopes[role] = round(slope, 2)
        limit = max(10.0, 0.2 * pts[0][1])
        flag = "LEAK" if slope > limit else "ok"
        print(
            f"  {role:>8}: {pts[0][1]:7.1f} -> {pts[-1][1]:7.1f} MB, slope {slope:+7.2f} "
            f"MB/min (limit {limit:.1f}) {flag}"
        )
        if slope > limit:
            problems.append(f"RSS of {role} grows {slope:.1f} MB/min (limit {limit:.1f})")
        fds = [r["fds"][role] for r in steady if r["fds"].get(role) is not None]
        if fds and fds[-1] - fds[0] > 100 and fds[-1] >= max(fds):
            problems.append(f"fds of {role}: {fds[0]} -> {fds[-1]} and still growing")
    iso0, iso1 = base["isolates"], end["isolates"]
    if iso1 > max(2 * iso0, iso0 + 20):
        problems.append(f"isolates {iso0:.0f} -> {iso1:.0f}")
    replaced = [r for r, pid in first_pids.items() if end["pids"].get(r) != pid]
    if replaced:
        problems.append(f"processes replaced during the soak: {replaced}")
    bad = [s for s in samples if not expected(s)]
    if samples and len(bad) > 0.01 * len(samples):
        problems.append(f"{len(bad)}/{len(samples)} unexpected outcomes: {by_status(bad)}")
    third = max(1, len(rows) // 3)
    p99_first = max(r["p99_ms"] for r in rows[:third])
    p99_last = max(r["p99_ms"] for r in rows[-third:])
    lat = [s.latency * 1000 for s in samples]
    print(
        f"\n{len(samples)} requests ({skipped} skipped starts), outcomes {by_status(samples)}; "
        f"p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms overall; "
        f"worst window p99 first third {p99_first:.1f} ms, last third {p99_last:.1f} ms; "
        f"isolates {iso0:.0f} -> {iso1:.0f}"
    )
    fd_range = {role: (base["fds"].get(role), end["fds"].get(role)) for role in first_pids}
    print(f"fds (after warm-up -> end): {fd_range}")
    print("verdict:", "; ".join(problems) if problems else "no leak evident")
    return {
        "slopes_mb_per_min": slopes,
        "fds": fd_range,
        "isolates": [iso0, iso1],
        "p99_first_third_ms": p99_first,
        "p99_last_third_ms": p99_last,
        "requests": len(samples),
        "outcomes": by_status(samples),
        "skipped": skipped,
        "problems": problems,
    }


if __name__ == "__main__":
    sys.exit(main())
