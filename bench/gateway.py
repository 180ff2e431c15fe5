"""Benchmark: a warm hello-world through the whole gateway vs a bare Starlette route.

Both run on Hypercorn with the same settings (``isogate.gateway.server.hypercorn_config``)
on loopback, in the same run; load comes from a separate process (a bounded asyncio
HTTP/1.1 keep-alive load generator). Prints invocations/s, p50 and p99 of each, and the
ratio (gateway / bare). Not a test: nothing is asserted.

    python bench/gateway.py [--concurrency 32] [--duration 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HELLO_JS = (
    "export default { fetch() { return new Response(JSON.stringify({hello: 'world'}), "
    "{headers: {'content-type': 'application/json'}}) } };"
)


# ------------------------------------------------------------------ bare server


def run_bare(port: int, text: bool = False) -> None:
    """A bare Starlette route on Hypercorn, configured like the gateway (``text``: the
    route answers ``hello`` as text/plain instead of a small JSON document)."""
    from hypercorn.asyncio import serve
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from isogate.config import load_settings
    from isogate.gateway.server import hypercorn_config

    async def hello(request):  # type: ignore[no-untyped-def]
        await request.body()
        if text:
            return PlainTextResponse("hello")
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/hello", hello, methods=["GET", "POST"])])
    settings = load_settings(host="127.0.0.1", port=port, log_level="warning")
    config = hypercorn_config(settings)
    stop = asyncio.Event()

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(main())


# ------------------------------------------------------------------ load generator


async def _conn_loop(
    host: str, port: int, request: bytes, stop_at: float, max_requests: list[int], lat: list[float]
) -> int:
    """One keep-alive connection sending requests back to back (reconnects when the
    server closes it, e.g. after Hypercorn's keep_alive_max_requests)."""
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at and max_requests[0] > 0:
            t0 = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            max_requests[0] -= 1
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if status != 200:
                errors += 1
    finally:
        writer.close()
    return errors


async def _load(url: str, headers: dict[str, str], concurrency: int, duration: float) -> dict:
    u = httpx.URL(url)
    host, port = u.host, u.port or 80
    lines = [f"GET {u.raw_path.decode()} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    lat: list[float] = []
    budget = [5_000_000]  # bounded in count as well as time
    start = time.perf_counter()
    errors = await asyncio.gather(
        *(
            _conn_loop(host, port, request, start + duration, budget, lat)
            for _ in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - start
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    return {
        "requests": len(lat),
        "errors": sum(errors),
        "rps": len(lat) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "mean_ms": sum(lat) / len(lat) * 1000 if lat else float("nan"),
    }


def run_load(args: argparse.Namespace) -> None:
    """Entry of the load-generator process: prints one JSON line."""
    headers = dict(h.split(": ", 1) for h in args.header)
    asyncio.run(_load(args.url, headers, args.concurrency, 1.0))  # warm-up
    result = asyncio.run(_load(args.url, headers, args.concurrency, args.duration))
    print(json.dumps(result))


def load_from_other_process(url: str, headers: dict[str, str], conc: int, dur: float) -> dict:
    cmd = [sys.executable, __file__, "load", url, "-c", str(conc), "-d", str(dur)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + 120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ orchestration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode")
    lp = sub.add_parser("load")
    lp.add_argument("url")
    lp.add_argument("-c", "--concurrency", type=int, default=32)
    lp.add_argument("-d", "--duration", type=float, default=10)
    lp.add_argument("-H", "--header", action="append", default=[])
    bp = sub.add_parser("bare")
    bp.add_argument("port", type=int)
    bp.add_argument("--text", action="store_true", help="answer 'hello' as text/plain")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--workers", type=int, default=1, help="runtime worker processes")
    p.add_argument("--threads", type=int, default=2, help="executor threads per worker")
    args = p.parse_args()
    if args.mode == "load":
        run_load(args)
        return
    if args.mode == "bare":
        run_bare(args.port, args.text)
        return

    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update(
        {
            "ISOGATE_LOG_LEVEL": "warning",
            "ISOGATE_RUNTIME__WORKERS": str(args.workers),
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": str(args.threads),
            "ISOGATE_RUNTIME__MAX_CONCURRENCY_PER_FUNCTION": str(args.threads),
            "ISOGATE_ADMIN_TOKEN": "bench-admin",
        }
    )
    gw_port, bare_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        gw = subprocess.Popen(
            [sys.executable, "-m", "isogate.cli", "serve", "--port", str(gw_port),
             "--host", "127.0.0.1", "--data-dir", str(Path(tmp) / "data")],
            env=env,
        )  # fmt: skip
        bare = subprocess.Popen([sys.executable, __file__, "bare", str(bare_port)], env=env)
        try:
            gw_url = f"http://127.0.0.1:{gw_port}"
            wait_ready(gw_url + "/readyz")
            wait_ready(f"http://127.0.0.1:{bare_port}/hello")
            with httpx.Client(base_url=gw_url, timeout=30) as c:
                cred = {"name": "bench", "password": "bench-password"}
                c.post("/v1/tenants", json=cred).raise_for_status()
                token = c.post("/v1/auth/token", json=cred).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                c.put(
                    "/v1/functions/hello", headers=auth, json={"code": HELLO_JS}
                ).raise_for_status()
                key = c.post(
                    "/v1/keys",
                    headers=auth,
                    json={"rate_limit": {"requests": 1_000_000, "per_seconds": 1}},
                ).json()["key"]
                r = c.get("/fn/hello", headers={"X-API-Key": key})
                print(f"warm check: {r.status_code} {r.text.strip()}")
            results = {
                "bare starlette": load_from_other_process(
                    f"http://127.0.0.1:{bare_port}/hello", {}, args.concurrency, args.duration
                ),
                "isogate (key+quota+route+runtime)": load_from_other_process(
                    f"{gw_url}/fn/hello", {"X-API-Key": key}, args.concurrency, args.duration
                ),
            }
        finally:
            stop(gw)
            stop(bare)
    print(f"\nconcurrency {args.concurrency}, {args.duration:.0f} s each, loopback, same run")
    print(f"{'server':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:<36} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}"
        )
    g, b = results["isogate (key+quota+route+runtime)"], results["bare starlette"]
    print(f"\nratio gateway/bare: throughput {g['rps'] / b['rps']:.2f}x, "
          f"p50 {g['p50_ms'] / b['p50_ms']:.2f}x, p99 {g['p99_ms'] / b['p99_ms']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
