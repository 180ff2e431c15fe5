"""Every layer in one run: prints one table with the targets of issue 7 and writes it
into docs/benchmarks.md.

    python bench/all.py [--quick] [--no-s3] [--no-write] [--duration 5]

All figures come from the same run on the same machine; load comes from a separate
process on loopback: ``wrk`` (Debian: ``apt-get install -y wrk``) when it is on PATH,
else the bounded asyncio load generator of ``bench/gateway.py`` (less efficient: it
competes with the server for the same cores). ``--profile`` uses ``pyinstrument``
(``pip install pyinstrument``) when installed. Not a test: nothing is asserted.

Phases:
  A. baseline A: a bare Starlette route answering "hello", the gateway's Hypercorn settings
  B. baseline B: the raw stpyv8 call of a warm hello-world handler, in-process
  1. warm hello-world through the whole stack at concurrency 1, 8, 64, 256 (and A at each)
  2. cold start: first invocation after deploy (code from the local blob folder), and from
     SeaweedFS (S3) when ``weed`` starts
  3. the seed experiment: 200 distinct functions deployed, then invoked at once over HTTP
  4. RSS per warm function with 1,000 functions warm (runtime workers, from /proc)
  5. a ~5 ms CPU-bound function: throughput vs workers x executor threads
  6. where the time goes: per-layer wall time (instrumented gateway, concurrency 1) and a
     pyinstrument CPU profile of the gateway process under load (concurrency 64)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import gateway as gwbench  # noqa: E402  (bench/gateway.py: bare server, Python load generator)
import httpx  # noqa: E402
import runtime as rtbench  # noqa: E402  (bench/runtime.py: raw stpyv8 and seed scripts)

HELLO_JS = rtbench.HELLO  # export default { fetch() { return new Response('hello') } }
CPU_JS = (
    "export default { fetch(req, env) { const n = Number(env.N); let x = 0;"
    " for (let i = 0; i < n; i++) { x = (x + Math.sqrt(i) * 1.0001) % 1e9 }"
    " return new Response(String(x)) } }"
)
CALIBRATE = textwrap.dedent(
    """
    import sys, threading, time
    import STPyV8

    def main():
        iso = STPyV8.JSIsolate(True); iso.enter()
        ctx = STPyV8.JSContext(); ctx.enter()
        ctx.eval("function f(n) { let x = 0; for (let i = 0; i < n; i++) { x = (x + Math.sqrt(i) * 1.0001) % 1e9 } return x }")
        def ms(n):
            best = 1e9
            for _ in range(7):
                t = time.perf_counter(); ctx.eval("f(%d)" % n); best = min(best, time.perf_counter() - t)
            return best * 1000
        n = 100000
        n = int(n * 5.0 / ms(n))
        print(n, ms(n))
        ctx.leave(); del ctx; iso.leave(); del iso

    threading.stack_size(16 << 20)
    t = threading.Thread(target=main); t.start(); t.join()
    """
)
WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %.1f, "p99_us": %.1f, "p999_us": %.1f, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.mean))
end
"""
PASSWORD = "bench-password-123"

# ------------------------------------------------------------------ small helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, {mem_kb / 2**20:.1f} GiB RAM, Linux {platform.release()}, Python {platform.python_version()}"


def pct(values: list[float], p: float) -> float:
    return rtbench.pct(values, p) if values else float("nan")


def children_of(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def worker_pids(gateway_pid: int) -> list[int]:
    pids = []
    for c in children_of(gateway_pid):
        with contextlib.suppress(OSError):
            if b"isogate.runtime.worker" in Path(f"/proc/{c}/cmdline").read_bytes():
                pids.append(c)
    return pids


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{name}(?:\{{[^}}]*\}})? ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


# ------------------------------------------------------------------ load


def run_load(
    url: str, headers: dict[str, str], conc: int, dur: int, lua: Path, warmup: bool = True
) -> dict:
    """Closed-loop keep-alive load from another process: wrk if installed, else Python
    (which always warms up for 1 s first)."""
    if shutil.which("wrk"):
        base = ["wrk", "-t1", f"-c{conc}", "--timeout", "10s", "-s", str(lua)]
        for k, v in headers.items():
            base += ["-H", f"{k}: {v}"]
        if warmup:
            subprocess.run([*base, "-d1s", url], capture_output=True, check=True, timeout=60)
        out = subprocess.run(
            [*base, f"-d{dur}s", url], capture_output=True, text=True, check=True, timeout=dur + 60
        ).stdout
        r = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
        n = r["requests"]
        return {
            "requests": n,
            "errors": r["errors"],
            "rps": n / (r["duration_us"] / 1e6),
            "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000,
            "p999_ms": r["p999_us"] / 1000,
            "mean_ms": r["mean_us"] / 1000,
        }
    return gwbench.load_from_other_process(url, headers, conc, dur)


class RawClient:
    """A minimal blocking HTTP/1.1 keep-alive client (a few µs of overhead, unlike httpx)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, float]:
        req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        req += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        for _attempt in range(2):
            if self.sock is None:
                self.sock = self._connect()
            t0 = time.perf_counter()
            try:
                self.sock.sendall(req.encode())
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    buf += chunk
                head, _, body = buf.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                while len(body) < length:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    body += chunk
                return int(head.split(b" ", 2)[1]), body, time.perf_counter() - t0
            except ConnectionError:
                self.sock.close()
                self.sock = None
        raise ConnectionError("the server closed the connection twice")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


async def burst(port: int, paths: list[str], headers: dict[str, str]) -> tuple[float, list[int]]:
    """Pre-open one connection per path, then send every request at once: ms until the
    last response is read, and the statuses."""
    conns = []
    for i in range(0, len(paths), 25):  # stay under Hypercorn's listen backlog (100)
        conns += await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in paths[i : i + 25])
        )
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # let the server accept them all
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str) -> int:
        reader, writer = conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(m.group(1)) if m else 0)
        return int(head.split(b" ", 2)[1])

    t0 = time.perf_counter()
    statuses = await asyncio.gather(*(one(c, p) for c, p in zip(conns, paths, strict=True)))
    ms = (time.perf_counter() - t0) * 1000
    for _, w in conns:
        w.close()
    return ms, list(statuses)


# ------------------------------------------------------------------ gateway processes


class Gateway:
    """One ``isogate serve`` process (or the instrumented variant) on a free port."""

    def __init__(
        self,
        tmp: Path,
        label: str,
        env: dict[str, str] | None = None,
        profiled: str | None = None,
    ) -> None:
        self.label = label
        self.port = gwbench.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tmp / label
        self.dir.mkdir(parents=True, exist_ok=True)
        full = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
        full.update({"ISOGATE_LOG_LEVEL": "warning", "ISOGATE_DATA_DIR": str(self.dir / "data")})
        full.update(env or {})
        self.profile_out = self.dir / "profile.json"
        if profiled:
            cmd = [sys.executable, __file__, "serve-profiled", profiled, str(self.port), str(self.profile_out)]  # fmt: skip
        else:
            cmd = [sys.executable, "-m", "isogate.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.log = open(self.dir / "gateway.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=full, cwd=ROOT, stdout=self.log, stderr=self.log)
        self.key = ""
        self.auth: dict[str, str] = {}

    def start(self) -> Gateway:
        t0 = time.perf_counter()
        try:
            gwbench.wait_ready(self.url + "/readyz", timeout=120)
        except SystemExit:
            raise SystemExit(f"gateway {self.label} did not start; see {self.dir / 'gateway.log'}") from None  # fmt: skip
        self.ready_s = time.perf_counter() - t0
        with httpx.Client(base_url=self.url, timeout=30) as c:
            cred = {"name": "bench", "password": PASSWORD}
            c.post("/v1/tenants", json=cred)  # may exist already (shared data dir)
            token = c.post("/v1/auth/token", json=cred).json()["access_token"]
            self.auth = {"Authorization": f"Bearer {token}"}
            r = c.post(
                "/v1/keys",
                headers=self.auth,
                json={"rate_limit": {"requests": 1_000_000, "per_seconds": 1}},
            )
            r.raise_for_status()
            self.key = r.json()["key"]
        # Measure from a steady state: the runtime serves once a few blank isolates are
        # made and fills the rest of its pool in idle time (no gateway may still be
        # pre-warming while another one, or a later phase, is measured).
        settled_rss_kb(self)
        return self

    @property
    def key_header(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def deploy(self, name: str, code: str, env: dict[str, str] | None = None) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as c:
            c.put(
                f"/v1/functions/{name}", headers=self.auth, json={"code": code, "env": env or {}}
            ).raise_for_status()

    async def deploy_many(self, items: list[tuple[str, str]], parallel: int = 8) -> None:
        sem = asyncio.Semaphore(parallel)
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as c:

            async def one(name: str, code: str) -> None:
                async with sem:
                    r = await c.put(f"/v1/functions/{name}", headers=self.auth, json={"code": code})
                    r.raise_for_status()

            await asyncio.gather(*(one(n, s) for n, s in items))

    async def invoke_many(self, names: list[str], parallel: int = 16) -> list[int]:
        sem = asyncio.Semaphore(parallel)
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as c:

            async def one(name: str) -> int:
                async with sem:
                    return (await c.get(f"/fn/{name}", headers=self.key_header)).status_code

            return list(await asyncio.gather(*(one(n) for n in names)))

    def metrics(self) -> str:
        return httpx.get(self.url + "/metrics", timeout=10).text

    def workers_rss_kb(self) -> int:
        return sum(rtbench.rss_kb(p) for p in worker_pids(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            gwbench.stop(self.proc)
        self.log.close()


class Bare:
    """Baseline A: bench/gateway.py's bare Starlette route (``hello`` as text/plain)."""

    def __init__(self) -> None:
        self.port = gwbench.free_port()
        self.url = f"http://127.0.0.1:{self.port}/hello"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "gateway.py"), "bare", str(self.port), "--text"], env=env
        )
        gwbench.wait_ready(self.url)

    def stop(self) -> None:
        gwbench.stop(self.proc)


# ------------------------------------------------------------------ instrumented gateway


def serve_profiled(mode: str, port: int, out: Path) -> None:
    """The gateway with per-layer timers (``instrument``) or pyinstrument (``pyinstrument``).
    SIGUSR1 starts (resets) measuring, SIGUSR2 stops and writes ``out`` as JSON."""
    from hypercorn.asyncio import serve

    from isogate.config import load_settings
    from isogate.gateway import invoke as inv
    from isogate.gateway.app import create_app
    from isogate.gateway.server import hypercorn_config
    from isogate.quota.leases import KeyVerifier
    from isogate.quota.limiter import InMemoryLimiter
    from isogate.registry.resolver import CodeLoader, FunctionResolver
    from isogate.runtime import Runtime

    stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    on = [False]
    # only time spent serving /fn requests counts (a deploy also resolves the function)
    in_fn: contextvars.ContextVar[bool] = contextvars.ContextVar("in_fn", default=False)

    def add(layer: str, dt: float) -> None:
        if on[0] and in_fn.get():
            s = stats[layer]
            s[0] += dt
            s[1] += 1

    def timed(owner: Any, attr: str, layer: str, is_async: bool) -> None:
        orig = getattr(owner, attr)
        if is_async:

            async def wrapper(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return await orig(*a, **k)
                finally:
                    add(layer, time.perf_counter() - t)
        else:

            def wrapper(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return orig(*a, **k)
                finally:
                    add(layer, time.perf_counter() - t)

        setattr(owner, attr, wrapper)

    if mode == "instrument":
        timed(KeyVerifier, "lookup", "auth", True)
        timed(KeyVerifier, "check", "auth", False)
        timed(inv, "_presented_key", "auth", False)
        timed(InMemoryLimiter, "acquire", "quota", True)
        timed(inv, "rate_headers", "quota", False)
        timed(FunctionResolver, "resolve", "routing", True)
        timed(inv, "check_function_name", "routing", False)
        timed(inv, "read_body", "body", True)
        timed(inv, "_function_response", "response", False)
        timed(inv, "_record", "records", False)
        timed(CodeLoader, "load", "code", True)
        orig_invoke = Runtime.invoke

        async def rt_invoke(self: Any, ref: Any, req: Any) -> Any:
            t = time.perf_counter()
            r = await orig_invoke(self, ref, req)
            add("runtime", time.perf_counter() - t)
            add("rt_run", r.timings.run_ms / 1000)
            add("rt_load", r.timings.load_ms / 1000)
            add("rt_queued", r.timings.queued_ms / 1000)
            return r

        Runtime.invoke = rt_invoke  # type: ignore[method-assign]

    if mode == "canned":
        # The ceiling of the gateway alone: every layer runs (HTTP, auth, quota, routing,
        # records, metrics) but the runtime answers "hello" without the worker round trip.
        from isogate.runtime.types import InvokeResult, Outcome

        canned = InvokeResult(
            Outcome.OK, 200, (("content-type", "text/plain;charset=UTF-8"),), b"hello",
            executor="canned",
        )  # fmt: skip
        orig_canned = Runtime.invoke

        async def canned_invoke(self: Any, ref: Any, req: Any) -> Any:
            if ref.name == "hello":
                return canned
            return await orig_canned(self, ref, req)

        Runtime.invoke = canned_invoke  # type: ignore[method-assign]

    settings = load_settings(host="127.0.0.1", port=port)
    app = create_app(settings)

    async def timed_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/fn/"):
            return await app(scope, receive, send)
        t = time.perf_counter()
        in_fn.set(True)  # this request's task only

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                add("app", time.perf_counter() - t)

        await app(scope, receive, timed_send)

    profiler: Any = None

    def start() -> None:
        nonlocal profiler
        stats.clear()
        on[0] = True
        if mode == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()

    def finish() -> None:
        on[0] = False
        data: dict[str, Any] = {"stats": dict(stats)}
        if profiler is not None:
            profiler.stop()
            data["layers"] = classify_profile(profiler.last_session.root_frame())
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(out)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, start)
        loop.add_signal_handler(signal.SIGUSR2, finish)
        await serve(timed_app, hypercorn_config(settings), shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(main())


LAYER_RULES = [  # (substring of the file path, function name or "", layer): first match wins
    ("/isogate/gateway/invoke.py", "_presented_key", "auth (key lookup + check)"),
    ("/isogate/gateway/invoke.py", "_function_response", "response building"),
    ("/isogate/gateway/invoke.py", "_record", "invocation records + metrics"),
    ("/isogate/quota/leases.py", "", "auth (key lookup + check)"),
    ("/isogate/quota/key_cache", "", "auth (key lookup + check)"),
    ("/isogate/quota/limiter", "", "quota (limiter)"),
    ("/isogate/gateway/ratelimit_headers.py", "", "quota (limiter)"),
    ("/isogate/registry/resolver.py", "", "routing (resolve function)"),
    ("/isogate/registry/names.py", "", "routing (resolve function)"),
    ("/isogate/runtime/protocol.py", "", "marshalling (msgpack frames)"),
    ("/msgpack/", "", "marshalling (msgpack frames)"),
    ("/isogate/runtime/", "", "IPC + runtime routing (supervisor)"),
    ("/isogate/registry/invocations.py", "", "invocation records + metrics"),
    ("/isogate/gateway/metrics.py", "", "invocation records + metrics"),
    ("/prometheus_client/", "", "invocation records + metrics"),
    ("/sqlalchemy/", "", "invocation records + metrics"),
    ("/aiosqlite/", "", "invocation records + metrics"),
    ("/isogate/gateway/bodies.py", "", "request body"),
    ("/isogate/gateway/", "", "gateway glue (invoke.py, middleware)"),
    ("/starlette/", "", "Starlette (routing, Request/Response)"),
    ("/hypercorn/", "", "HTTP (Hypercorn + h11)"),
    ("/h11/", "", "HTTP (Hypercorn + h11)"),
]


def classify_profile(root: Any) -> dict[str, float]:
    """Self time of every sampled frame, charged to the innermost frame on its stack
    that belongs to a known layer; pure asyncio stacks are the event loop, and time in
    ``select`` is idle."""
    out: dict[str, float] = defaultdict(float)

    def layer_of(stack: list[Any]) -> str:
        leaf = stack[-1]
        if leaf.function in ("select", "poll") and "selectors" in (leaf.file_path or ""):
            return "idle"
        for fr in reversed(stack):
            path = fr.file_path or ""
            for sub, fn, layer in LAYER_RULES:
                if sub in path and (not fn or fr.function == fn):
                    return layer
        return "event loop (asyncio) + other"

    def walk(fr: Any, stack: list[Any]) -> None:
        stack.append(fr)
        own = fr.time - sum(c.time for c in fr.children)
        if own > 0:
            real = [f for f in stack if not f.is_synthetic] or stack
            out[layer_of(real)] += own
        for c in fr.children:
            walk(c, stack)
        stack.pop()

    if root is not None:
        walk(root, [])
    return dict(out)


# ------------------------------------------------------------------ phases


def baseline_b(rounds: int) -> tuple[float, int, float]:
    raw_us = float(
        subprocess.check_output([sys.executable, "-c", rtbench.RAW, str(rounds)], cwd=ROOT)
    )
    n, ms = subprocess.check_output([sys.executable, "-c", CALIBRATE], cwd=ROOT).split()
    return raw_us, int(n), float(ms)


def phase_throughput(gw: Gateway, bare: Bare, levels: list[int], dur: int, lua: Path) -> dict:
    gw.deploy("hello", HELLO_JS)
    c = RawClient(gw.port)
    status, body, _ = c.get("/fn/hello", gw.key_header)
    c.close()
    log(f"warm check: {status} {body!r}")
    res: dict[str, dict[int, dict]] = {"bare": {}, "isogate": {}}
    for level in levels:
        res["bare"][level] = run_load(bare.url, {}, level, dur, lua)
        res["isogate"][level] = run_load(f"{gw.url}/fn/hello", gw.key_header, level, dur, lua)
        b, g = res["bare"][level], res["isogate"][level]
        log(f"c={level}: bare {b['rps']:.0f}/s p99 {b['p99_ms']:.2f} ms | isogate {g['rps']:.0f}/s p99 {g['p99_ms']:.2f} ms (errors {g['errors']})")  # fmt: skip
    return res


def phase_canned(tmp: Path, bare: Bare, dur: int, lua: Path, level: int = 64) -> dict:
    """Baseline A against the gateway with its runtime call answered in process."""
    gw = Gateway(tmp, "canned", profiled="canned").start()
    try:
        gw.deploy("hello", HELLO_JS)
        res = {
            "bare": run_load(bare.url, {}, level, dur, lua),
            "canned": run_load(f"{gw.url}/fn/hello", gw.key_header, level, dur, lua),
            "level": level,
        }
    finally:
        gw.stop()
    log(f"canned c={level}: bare {res['bare']['rps']:.0f}/s | gateway without runtime hop {res['canned']['rps']:.0f}/s")  # fmt: skip
    return res


#: idle time before each first call (and before its in-run baselines)
IDLE_S = 0.05


def cold_code(tag: str, i: int) -> str:
    """The ``i``-th function of a cold-start phase: it answers ``"{tag} {i}"``."""
    return f"export default {{ fetch() {{ return new Response('{tag} {i}') }} }}"


def phase_cold(
    gw: Gateway, n: int, prefix: str, bare: Bare | None = None, deployed: str | None = None
) -> dict:
    """Deploy a new function, then time its first invocation (raw client, keep-alive).
    With ``deployed`` (their tag), the functions ``{prefix}cold{i}`` were deployed
    earlier through another gateway process: nothing about them is cached in this one.

    Each first call follows 50 ms of idle time, and on these VMs any request after idle
    time is slower (a woken CPU, cold caches): the same function warm after the same
    idle time, and baseline A after it (``bare``), are measured beside each cold start."""
    c = RawClient(gw.port)
    c.get("/fn/hello", gw.key_header)  # connection open, hello warm
    b = RawClient(bare.port) if bare else None
    if b:
        b.get("/hello", {})
    tag = deployed or f"{prefix}{int(time.time() * 1000) % 10**8}"
    times, idle_warm, idle_bare, bad = [], [], [], 0
    for i in range(n):
        name = f"{prefix}cold{i}"
        if deployed is None:
            gw.deploy(name, cold_code(tag, i))
        time.sleep(IDLE_S)  # let the runtime replenish its pre-warmed isolates, as in idle time
        status, body, dt = c.get(f"/fn/{name}", gw.key_header)
        bad += status != 200 or body != f"{tag} {i}".encode()
        times.append(dt * 1000)
        time.sleep(IDLE_S)
        idle_warm.append(c.get(f"/fn/{name}", gw.key_header)[2] * 1000)
        if b:
            time.sleep(IDLE_S)
            idle_bare.append(b.get("/hello", {})[2] * 1000)
    warm = [c.get(f"/fn/{prefix}cold{n - 1}", gw.key_header)[2] * 1000 for _ in range(200)]
    c.close()
    if b:
        b.close()
    return {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "max": max(times), "n": n, "bad": bad,
            "warm_p50": statistics.median(warm), "idle_warm_p50": statistics.median(idle_warm),
            "own_p50": statistics.median(t - w for t, w in zip(times, idle_warm, strict=True)),
            "idle_bare_p50": statistics.median(idle_bare) if idle_bare else None}  # fmt: skip


def phase_seed(gw: Gateway, n: int, rounds: int = 3) -> dict:
    """``rounds`` bursts of ``n`` new functions (fresh ones each round: each burst is all
    first calls); the median is the figure, every burst is reported (one burst varies by
    ±30% on this shared machine)."""
    colds: list[float] = []
    errors = 0
    names: list[str] = []
    warm_ms = 0.0
    warm_errors = 0
    for rnd in range(rounds):
        code = "export default {{ fetch() {{ return new Response('hello world {}') }} }}"
        items = [(f"seed{rnd}x{i}", code.format(i)) for i in range(n)]
        asyncio.run(gw.deploy_many(items))
        time.sleep(1.0)  # idle: pre-warmed isolates replenished
        if rnd == 0:
            warm_ms, warm_st = asyncio.run(burst(gw.port, ["/fn/hello"] * n, gw.key_header))
            warm_errors = sum(s != 200 for s in warm_st)
            time.sleep(0.5)
        names = [f"/fn/{nm}" for nm, _ in items]
        cold_ms, cold_st = asyncio.run(burst(gw.port, names, gw.key_header))
        colds.append(cold_ms)
        errors += sum(s != 200 for s in cold_st)
    again_ms, _ = asyncio.run(burst(gw.port, names, gw.key_header))
    seed_way = statistics.median(
        float(subprocess.check_output([sys.executable, "-c", rtbench.SEED], cwd=ROOT))
        for _ in range(3)
    )
    return {
        "cold_ms": statistics.median(colds),
        "cold_all": colds,
        "cold_errors": errors,
        "again_ms": again_ms,
        "warm_ms": warm_ms,
        "warm_errors": warm_errors,
        "seed_way_ms": seed_way,
    }


def phase_seed_pool(tmp: Path, n: int) -> dict:
    """The seed again on a gateway whose pre-warmed pool is sized for the burst (an
    operator's settings: ``runtime.prewarm_isolates`` per executor thread, and an isolate
    per function so that every cold start takes a ready blank)."""
    from isogate.config.runtime import RuntimeSettings

    defaults = RuntimeSettings()
    per_executor = -(-n // (defaults.workers * defaults.threads_per_worker))
    env = {
        "ISOGATE_RUNTIME__PREWARM_ISOLATES": str(per_executor),
        "ISOGATE_RUNTIME__FUNCTIONS_PER_ISOLATE": "1",
        "ISOGATE_RUNTIME__MEMORY_BUDGET_MB": "100000",
    }
    gw = Gateway(tmp, "pool", env)
    try:
        gw.start()
        log(f"seed: {n} distinct functions at once, {per_executor} pre-warmed isolates per executor")  # fmt: skip
        deadline = time.monotonic() + 60  # let the pool fill before measuring it
        while metric(gw.metrics(), "isogate_isolates") < n and time.monotonic() < deadline:
            time.sleep(0.2)
        idle_kb = gw.workers_rss_kb()
        res = phase_seed(gw, n, rounds=1)  # one burst on the full pool
        res["per_executor"] = per_executor
        res["idle_rss_mb"] = idle_kb / 1024
    finally:
        gw.stop()
    return res


def settled_rss_kb(gw: Gateway, timeout: float = 30.0) -> int:
    """Workers' RSS once it stops changing: the runtime refills its pool of blank
    isolates and contexts made ahead in idle time, and the pool is part of both readings."""
    last = gw.workers_rss_kb()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = gw.workers_rss_kb()
        if abs(now - last) < 1024:
            return now
        last = now
    return last


def phase_memory(gw: Gateway, n: int) -> dict:
    before_kb = settled_rss_kb(gw)
    before_warm = metric(gw.metrics(), "isogate_warm_functions")
    items = [
        (f"mem{i}", f"export default {{ fetch() {{ return new Response('m{i}') }} }}")
        for i in range(n)
    ]
    t = time.perf_counter()
    asyncio.run(gw.deploy_many(items))
    deploy_s = time.perf_counter() - t
    t = time.perf_counter()
    statuses = asyncio.run(gw.invoke_many([nm for nm, _ in items]))
    invoke_s = time.perf_counter() - t
    after_kb = settled_rss_kb(gw)
    text = gw.metrics()
    warm = metric(text, "isogate_warm_functions") - before_warm
    return {
        "per_fn_mb": (after_kb - before_kb) / 1024 / max(warm, 1),
        "warm_added": warm,
        "warm_total": metric(text, "isogate_warm_functions"),
        "rss_mb": after_kb / 1024,
        "workers": len(worker_pids(gw.proc.pid)),
        "errors": sum(s != 200 for s in statuses),
        "deploy_s": deploy_s,
        "invoke_s": invoke_s,
    }


def phase_cpu(tmp: Path, iters: int, dur: int, lua: Path, rounds: int) -> dict:
    """Four gateways up at once (idle ones cost little), measured in turn for ``rounds``
    rounds; the best round of each counts (the machine is shared: a neighbour's burst
    should not decide a ratio)."""
    configs = ((1, 1), (1, 2), (2, 1), (2, 2))
    gws: dict[tuple[int, int], Gateway] = {}
    out: dict[tuple[int, int], dict] = {}
    try:
        for workers, threads in configs:
            env = {
                "ISOGATE_RUNTIME__WORKERS": str(workers),
                "ISOGATE_RUNTIME__THREADS_PER_WORKER": str(threads),
            }
            gws[(workers, threads)] = Gateway(tmp, f"cpu-{workers}x{threads}", env)
        for gw in gws.values():
            gw.start()
            gw.deploy("cpu", CPU_JS, {"N": str(iters)})
            asyncio.run(gw.invoke_many(["cpu"] * 16, parallel=8))
        for rnd in range(rounds):
            for (workers, threads), gw in gws.items():
                r = run_load(f"{gw.url}/fn/cpu", gw.key_header, 8, dur, lua)
                best = out.get((workers, threads))
                if best is None or r["rps"] > best["rps"]:
                    out[(workers, threads)] = r
                log(f"cpu round {rnd + 1}: {workers} worker(s) x {threads} thread(s): {r['rps']:.0f}/s p50 {r['p50_ms']:.1f} ms (errors {r['errors']})")  # fmt: skip
    finally:
        for gw in gws.values():
            gw.stop()
    return out


def phase_profile(tmp: Path, dur: int, lua: Path, cold: int) -> dict:
    out: dict[str, Any] = {}
    modes = [("instrument", 1)]
    try:
        import pyinstrument  # noqa: F401

        modes.append(("pyinstrument", 64))
    except ImportError:
        log("pyinstrument not installed: CPU profile skipped (pip install pyinstrument)")
    for mode, conc in modes:
        gw = Gateway(tmp, f"profile-{mode}", profiled=mode)
        try:
            gw.start()
            gw.deploy("hello", HELLO_JS)
            run_load(f"{gw.url}/fn/hello", gw.key_header, conc, 1, lua)  # warm
            gw.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            load = run_load(f"{gw.url}/fn/hello", gw.key_header, conc, dur, lua, warmup=False)
            out[mode] = {"load": load, "conc": conc, **profile_dump(gw)}
            if mode == "instrument":  # the same breakdown for cold starts
                c = RawClient(gw.port)
                c.get("/fn/hello", gw.key_header)
                time.sleep(0.5)  # a request wrk left in flight has finished
                gw.proc.send_signal(signal.SIGUSR1)
                time.sleep(0.2)
                times = []
                for i in range(cold):
                    gw.deploy(f"pc{i}", f"export default {{ fetch() {{ return new Response('pc{i}') }} }}")  # fmt: skip
                    time.sleep(0.05)
                    times.append(c.get(f"/fn/pc{i}", gw.key_header)[2])
                c.close()
                out["instrument_cold"] = {"mean_ms": statistics.mean(times) * 1000, "n": len(times), **profile_dump(gw)}  # fmt: skip
        finally:
            gw.stop()
    return out


def profile_dump(gw: Gateway) -> dict:
    """Ask the profiled gateway (SIGUSR2) for what it measured since SIGUSR1."""
    gw.profile_out.unlink(missing_ok=True)
    gw.proc.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 60
    while not gw.profile_out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return json.loads(gw.profile_out.read_text())


# ------------------------------------------------------------------ report


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def build_report(r: dict, args: argparse.Namespace) -> tuple[list[tuple[str, str, str]], list[str]]:
    rows: list[tuple[str, str, str]] = []
    extra: list[str] = []

    def row(name: str, value: str, target: str = "") -> None:
        rows.append((name, value, target))

    raw_us = r["raw_us"]
    row("baseline B: raw stpyv8 call of a warm hello handler, in-process", f"{raw_us:.1f} µs")
    tp = r["throughput"]
    for level in args.levels:
        b, g = tp["bare"][level], tp["isogate"][level]
        row(f"baseline A: bare Starlette 'hello', c={level}: req/s", f"{b['rps']:,.0f}")
        row("  p50 / p99 / p99.9 ms", f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f} / {b['p999_ms']:.2f}")  # fmt: skip
        ratio = g["rps"] / b["rps"]
        target = f"≥ 70% of A: {verdict(ratio >= 0.7)}" if level == 64 else ""
        row(f"isogate warm hello, full stack, c={level}: req/s", f"{g['rps']:,.0f} ({ratio:.0%} of A)", target)  # fmt: skip
        p99r = g["p99_ms"] / b["p99_ms"]
        target = f"p99 ≤ 2x A: {verdict(p99r <= 2)}" if level == 64 else ""
        row(f"  p50 / p99 / p99.9 ms (p99 {p99r:.1f}x A)", f"{g['p50_ms']:.2f} / {g['p99_ms']:.2f} / {g['p999_ms']:.2f}", target)  # fmt: skip
        if g["errors"]:
            row("  non-200 / errors", str(g["errors"]))
    best = max(tp["isogate"][lv]["rps"] / tp["bare"][lv]["rps"] for lv in args.levels)
    row("warm throughput, best ratio over the levels", f"{best:.0%} of A", f"≥ 70%: {verdict(best >= 0.7)}")  # fmt: skip
    if "canned" in r:
        c = r["canned"]
        ratio = c["canned"]["rps"] / c["bare"]["rps"]
        row(f"  ceiling: the gateway with its runtime call answered in process, c={c['level']}", f"{c['canned']['rps']:,.0f} ({ratio:.0%} of A measured beside it: {c['bare']['rps']:,.0f})")  # fmt: skip
    labels = (
        ("cold_local", "first invocation after deploy (local blob folder; the deploy cached the code)"),
        ("cold_s3", "first invocation on a gateway that did not take the deploy (function from SQL, code from SeaweedFS S3)"),
    )  # fmt: skip
    for key, label in labels:
        c = r.get(key)
        if not c:
            continue
        row(
            f"cold start, {label} (p50, n={c['n']})",
            f"{c['p50']:.2f} ms",
            f"≤ 3 ms: {verdict(c['p50'] <= 3)}",
        )
        row("  p99 / max", f"{c['p99']:.2f} / {c['max']:.2f} ms")
        row("  the same function warm, back to back, same client (p50)", f"{c['warm_p50']:.2f} ms")  # fmt: skip
        idle_ms = IDLE_S * 1000
        row(f"  the same function warm after the same {idle_ms:.0f} ms idle (p50)", f"{c['idle_warm_p50']:.2f} ms")  # fmt: skip
        if c["idle_bare_p50"] is not None:
            row(f"  baseline A after the same {idle_ms:.0f} ms idle (p50)", f"{c['idle_bare_p50']:.2f} ms")  # fmt: skip
        row("  the cold start's own cost: first call minus warm-after-idle (p50 of pairs)", f"{c['own_p50']:.2f} ms")  # fmt: skip
        if c["bad"]:
            row("  wrong answers", str(c["bad"]))
    s = r["seed"]
    row(f"seed: {args.seed} distinct functions invoked at once over HTTP (first calls; median of {len(s['cold_all'])} bursts)", f"{s['cold_ms']:.0f} ms", f"≤ 300 ms: {verdict(s['cold_ms'] <= 300)}")  # fmt: skip
    row("  each burst (new functions each time)", " / ".join(f"{v:.0f}" for v in s["cold_all"]) + " ms")  # fmt: skip
    row(f"  the same {args.seed} again (all warm)", f"{s['again_ms']:.0f} ms")
    row(f"  {args.seed} concurrent calls of one warm function (HTTP baseline)", f"{s['warm_ms']:.0f} ms")  # fmt: skip
    row("  the seed's way: a thread + a new isolate per call, in-process", f"{s['seed_way_ms']:.0f} ms")  # fmt: skip
    if s["cold_errors"]:
        row("  non-200 answers in the burst", str(s["cold_errors"]))
    sp = r.get("seed_pool")
    if sp:
        row(f"seed with the pre-warmed pool sized for the burst ({sp['per_executor']} isolates per executor, an isolate per function)", f"{sp['cold_ms']:.0f} ms", f"≤ 300 ms: {verdict(sp['cold_ms'] <= 300)}")  # fmt: skip
        row("  runtime workers' RSS before the burst (pool of blanks, idle)", f"{sp['idle_rss_mb']:.0f} MB")  # fmt: skip
        if sp["cold_errors"]:
            row("  non-200 answers in the burst", str(sp["cold_errors"]))
    m = r["memory"]
    row(f"RSS per warm function ({m['warm_added']:.0f} added, {m['warm_total']:.0f} warm)", f"{m['per_fn_mb']:.2f} MB", "(runtime: ≤ 1.5 MB)")  # fmt: skip
    row(f"  runtime workers' RSS ({m['workers']} process)", f"{m['rss_mb']:.0f} MB")
    row("  deploy / first-invoke time for those functions", f"{m['deploy_s']:.1f} / {m['invoke_s']:.1f} s")  # fmt: skip
    cpu = r["cpu"]
    base = cpu[(1, 1)]["rps"]
    row(f"CPU-bound function ({r['cpu_ms']:.1f} ms of JS in raw V8), c=8", "", "")
    for (w, t), v in cpu.items():
        ratio = v["rps"] / base
        target = ""
        if w * t == 2:
            target = f"≈ 2x (cores: {os.cpu_count()}): {verdict(ratio >= 1.6)}"
        row(f"  {w} worker(s) x {t} thread(s): req/s (scaling vs 1x1)", f"{v['rps']:.0f} ({ratio:.2f}x)", target)  # fmt: skip
    if "profile" in r:
        bare1 = tp["bare"].get(1, {}).get("mean_ms")
        extra += profile_lines(r["profile"], raw_us, bare1)
    return rows, extra


def breakdown(
    st: dict, client_us: float, raw_us: float, n: int | None = None
) -> list[tuple[str, float]]:
    """Mean µs per request of each layer from the instrumented gateway's timers."""
    n = n or max(st.get("app", [0, 1])[1], 1)

    def us(k: str) -> float:
        return st.get(k, [0.0, 0])[0] / n * 1e6

    run = us("rt_run")
    v8 = min(raw_us, run)
    ipc = us("runtime") - run - us("rt_load") - us("rt_queued") - us("code")
    parts = [
        ("routing: resolve the function (cache, else the database)", us("routing")),
        ("auth: API-key lookup + check", us("auth")),
        ("quota: limiter check-and-count + headers", us("quota")),
        ("request body read", us("body")),
        ("code fetch (code cache, else the blob store)", us("code")),
        ("IPC: supervisor, msgpack frames, pipes, worker read/write", ipc),
        ("runtime queue wait", us("rt_queued")),
        ("V8 load: compile + run the top level in a pre-warmed isolate", us("rt_load")),
        ("V8: the handler call itself (baseline B)", v8),
        ("marshalling in the executor: request/Response through the prelude, two evals", run - v8),
        ("response building (headers, Response)", us("response")),
        ("invocation record + metrics", us("records")),
    ]
    inner = sum(v for _, v in parts)
    return [
        ("HTTP: Hypercorn + h11 + event loop + loopback + client", client_us - us("app")),
        ("Starlette routing/middleware + invoke glue (rest of the app)", us("app") - inner),
        *parts,
    ]


def profile_lines(p: dict, raw_us: float, bare1_ms: float | None) -> list[str]:
    lines: list[str] = []
    ins, cold = p.get("instrument"), p.get("instrument_cold")
    if ins:
        warm_client = ins["load"]["mean_ms"] * 1000
        warm = breakdown(ins["stats"], warm_client, raw_us)
        n = ins["stats"].get("app", [0, 0])[1]
        cold_rows: dict[str, float] = {}
        cold_client = float("nan")
        if cold:
            cold_client = cold["mean_ms"] * 1000
            nc = cold["n"]
            cold_rows = dict(breakdown(cold["stats"], cold_client, raw_us, nc))
        lines.append(
            f"Where the time of one request goes: mean µs per layer, measured by timers inside an"
            f" instrumented gateway. Warm: wrk at concurrency 1, {n:,} requests."
            + (f" Cold: first invocation after deploy, {nc} functions, one client." if cold else "")
            + (
                f" For scale, baseline A's whole request at concurrency 1: {bare1_ms * 1000:.0f} µs."
                if bare1_ms
                else ""
            )
        )
        lines.append("")
        lines.append("| layer | warm µs | warm % | cold µs | cold % |")
        lines.append("|---|---:|---:|---:|---:|")
        for name, v in warm:
            c = cold_rows.get(name, float("nan"))
            lines.append(f"| {name} | {v:.0f} | {v / warm_client:.0%} | {c:.0f} | {c / cold_client:.0%} |")  # fmt: skip
        lines.append(f"| **total (client-measured mean)** | **{warm_client:.0f}** | 100% | **{cold_client:.0f}** | 100% |")  # fmt: skip
        lines.append("")
    pyi = p.get("pyinstrument")
    if pyi:
        layers = dict(pyi.get("layers", {}))
        idle = layers.pop("idle", 0.0)
        busy = sum(layers.values())
        reqs = max(pyi["stats"].get("app", [0, 0])[1], 1)
        lines.append(
            f"Gateway process CPU by layer (pyinstrument sampling the event-loop thread under wrk"
            f" at concurrency {pyi['conc']}, {reqs:,} requests at {pyi['load']['rps']:,.0f}/s with"
            f" the profiler on; the loop was idle {idle / max(idle + busy, 1e-9):.0%} of the time;"
            " runtime workers not included; µs include the profiler's overhead):"
        )
        lines.append("")
        lines.append("| layer | µs CPU per request | % of gateway CPU |")
        lines.append("|---|---:|---:|")
        for name, v in sorted(layers.items(), key=lambda kv: -kv[1]):
            lines.append(f"| {name} | {v / reqs * 1e6:.0f} | {v / max(busy, 1e-9):.0%} |")
        lines.append("")
    return lines


def render(rows: list[tuple[str, str, str]], extra: list[str], meta: dict) -> tuple[str, str]:
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    text = [f"{'figure':<{w0}}  {'value':>{w1}}  target"]
    text += [f"{a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in rows]
    md = ["| figure | value | target |", "|---|---|---|"]
    md += [f"| {a.strip() if not a.startswith('  ') else '↳ ' + a.strip()} | {b} | {c} |" for a, b, c in rows]  # fmt: skip
    head = [
        f"Command: `{meta['command']}`",
        f"Date: {meta['date']}; machine: {meta['machine']}",
        f"Load average (1/5/15 min): {meta['load_start']} at start, {meta['load_end']} at end; the machine is shared, so compare figures only within one run.",
        f"Load generator: {meta['loadgen']}; {meta['duration']} s per load level (after a 1 s warm-up); total run {meta['total_s']:.0f} s.",
    ]
    if meta["notes"]:
        head.append("Not measured: " + "; ".join(meta["notes"]) + ".")
    console = "\n".join([*head, "", *text, "", *extra])
    markdown = "\n\n".join(head) + "\n\n" + "\n".join(md) + "\n\n" + "\n".join(extra)
    return console, markdown


MARKER = "<!-- bench/all.py writes everything below this line -->"


def write_doc(markdown: str) -> Path:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    if MARKER in text:
        keep = text.split(MARKER)[0]
    elif "## Gateway" in text:
        keep = text.split("## Gateway")[0]
    else:
        keep = text.rstrip() + "\n\n"
    section = textwrap.dedent(
        """\
        ## Gateway and every layer (`bench/all.py`)

        ```sh
        apt-get install -y wrk                 # optional: without it a Python load generator is used
        .venv/bin/pip install pyinstrument     # optional: the CPU profile by layer
        .venv/bin/python bench/all.py          # ~5-8 min; --quick ~2 min; --no-s3, --no-write
        ```

        One command measures every layer in one run on the same machine: baseline A (a bare
        Starlette route answering `hello` on the gateway's own Hypercorn settings), baseline B
        (the raw stpyv8 call of a warm handler), the warm hello-world through the whole stack
        (key, quota, route, runtime) at fixed concurrency levels, cold starts, the seed
        experiment over HTTP, memory per warm function, CPU scaling over executor threads and
        worker processes, and where the time of a warm request goes. Load comes from a
        separate process on loopback; ratios are computed within the run. `bench/gateway.py`
        (one concurrency level, gateway vs bare) still works for quick comparisons.

        """
    )
    path.write_text(keep.rstrip() + "\n\n" + MARKER + "\n\n" + section + markdown.rstrip() + "\n")
    return path


# ------------------------------------------------------------------ main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (~2 min): fewer samples")
    p.add_argument("--duration", type=int, help="seconds per load level (default 5, quick 2)")
    p.add_argument("--levels", default="1,8,64,256", help="concurrency levels")
    p.add_argument("--cold", type=int, help="deploys timed for cold start (default 50)")
    p.add_argument("--seed", type=int, default=200, help="distinct functions in the seed burst")
    p.add_argument("--functions", type=int, help="functions warm for memory (default 1000)")
    p.add_argument("--no-s3", action="store_true", help="skip the SeaweedFS cold start")
    p.add_argument("--no-cpu", action="store_true", help="skip the CPU scaling phase")
    p.add_argument("--no-profile", action="store_true", help="skip the per-layer profile")
    p.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = p.parse_args()
    args.duration = args.duration or (2 if args.quick else 5)
    args.cold = args.cold or (20 if args.quick else 50)
    args.functions = args.functions or (300 if args.quick else 1000)
    args.levels = [int(x) for x in args.levels.split(",")]
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "command": " ".join(["python bench/all.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": loadavg(),
        "duration": args.duration,
        "loadgen": "wrk (1 thread, keep-alive)"
        if shutil.which("wrk")
        else "bench/gateway.py's asyncio generator (wrk not found)",
        "notes": [],
    }
    log(f"machine: {meta['machine']}; load average {meta['load_start']}; load: {meta['loadgen']}")
    r: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="isogate-bench-") as tmpname:
        tmp = Path(tmpname)
        lua = tmp / "report.lua"
        lua.write_text(WRK_LUA)
        log("baseline B: raw stpyv8 call; calibrating the CPU-bound function")
        r["raw_us"], cpu_iters, r["cpu_ms"] = baseline_b(2000)
        log(f"raw call {r['raw_us']:.1f} µs; CPU function: {cpu_iters} iterations = {r['cpu_ms']:.2f} ms")  # fmt: skip
        bare = Bare()
        gw = Gateway(tmp, "main", {"ISOGATE_RUNTIME__MEMORY_BUDGET_MB": "100000"})
        try:
            gw.start()
            log(f"gateway ready in {gw.ready_s:.1f} s; throughput at {args.levels}")
            r["throughput"] = phase_throughput(gw, bare, args.levels, args.duration, lua)
            r["canned"] = phase_canned(tmp, bare, args.duration, lua)
            log(f"cold start: {args.cold} deploys, local blob folder")
            r["cold_local"] = phase_cold(gw, args.cold, "l", bare)
            bare.stop()
            log(f"seed: {args.seed} distinct functions at once")
            r["seed"] = phase_seed(gw, args.seed)
            log(f"memory: {args.functions} functions warm")
            r["memory"] = phase_memory(gw, args.functions)
        finally:
            if bare.proc.poll() is None:
                bare.stop()
            gw.stop()
        r["seed_pool"] = phase_seed_pool(tmp, args.seed)
        if not args.no_s3:
            log("cold start from SeaweedFS (S3)")
            try:
                r["cold_s3"] = cold_s3(tmp, args.cold)
            except Exception as exc:  # weed missing or not starting: say so, go on
                meta["notes"].append(f"cold start from S3 ({type(exc).__name__}: {exc})"[:300])
        else:
            meta["notes"].append("cold start from S3 (--no-s3)")
        if not args.no_cpu:
            r["cpu"] = phase_cpu(tmp, cpu_iters, args.duration, lua, 1 if args.quick else 2)
        if not args.no_profile:
            log("profile: instrumented gateway (c=1), then pyinstrument (c=64)")
            r["profile"] = phase_profile(tmp, args.duration, lua, args.cold)
    meta["load_end"] = loadavg()
    meta["total_s"] = time.perf_counter() - started
    if "cpu" not in r:
        r["cpu"] = {(1, 1): {"rps": float("nan")}}
        meta["notes"].append("CPU scaling (--no-cpu)")
    rows, extra = build_report(r, args)
    console, markdown = render(rows, extra, meta)
    print("\n" + console)
    if not args.no_write:
        log(f"wrote {write_doc(markdown)}")


def cold_s3(tmp: Path, n: int) -> dict:
    from tests.fixtures.seaweedfs import SeaweedFS

    weed = SeaweedFS(tmp / "seaweedfs")
    weed.start(timeout=60)
    try:
        env = weed.env("isogate-bench")
        # Deployed through one gateway process, invoked through a second one on the same
        # database and bucket (a replica, or this one restarted): a deploy primes its own
        # gateway's code cache, so only there must the code come from the object store.
        tag = f"s{int(time.time() * 1000) % 10**8}"
        gw = Gateway(tmp, "s3", env)
        try:
            gw.start()
            gw.deploy("hello", HELLO_JS)
            asyncio.run(gw.deploy_many([(f"scold{i}", cold_code(tag, i)) for i in range(n)]))
        finally:
            gw.stop()
        gw = Gateway(tmp, "s3", env)
        try:
            gw.start()
            return phase_cold(gw, n, "s", deployed=tag)
        finally:
            gw.stop()
    finally:
        weed.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve-profiled":
        serve_profiled(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
