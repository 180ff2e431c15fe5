"""A large body proxied through a function, with gateway and worker memory sampled
(issue 20, item 3).

Starts a real ``isogate serve`` (Hypercorn, one worker) on loopback, a loopback
upstream that generates ``--mb`` MiB (never held whole), and deploys two functions:

* ``pass``: ``return fetch(upstream)`` — the fetched body is passed on untouched, so the
  worker sends it on from the open upstream response (it never enters JavaScript);
* ``pipe``: the body piped through a ``TransformStream`` — every chunk crosses into
  JavaScript and out again (``fread`` deliveries, the prelude's pump).

For each, the client reads the whole body while the RSS of the gateway process and of
its worker process(es) is sampled every 16 chunks; the report gives their baseline and
peak growth, and the throughput.

``upload`` goes the other way: the client sends ``--upload-mb`` MiB (chunked, generated
as it goes) to a function that reads its ``request.body`` to the end and counts it; the
body streams into the function as it reads (parts from the gateway, through
JavaScript), with the same RSS samples. ``relay`` sends the same upload to a function
that passes ``request.body`` on to the upstream untouched (``fetch(url, {body:
request.body})``): the worker sends the parts on as they come, outside JavaScript.
Run from a checkout:

    PYTHONPATH=$PWD python bench/stream_proxy.py [--mb 100] [--upload-mb 24] [--runs 2]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ADMIN = "bench-admin-token-0123456789abcdef"
BLOCK = bytes(range(256)) * 256  # 64 KiB

PASS = "export default { fetch(req, env) { return fetch(env.UPSTREAM + '/big'); } }"
PIPE = """export default { async fetch(req, env) {
  const up = await fetch(env.UPSTREAM + '/big');
  return new Response(up.body.pipeThrough(new TransformStream()));
} }"""

RELAY = """export default { fetch(req, env) {
  return fetch(env.UPSTREAM + '/count', { method: 'POST', body: req.body });
} }"""

COUNT = """export default { async fetch(req) {
  let n = 0;
  for await (const part of req.body) n += part.length;
  return new Response(String(n));
} }"""


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upstream(size: int) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(size))
            self.end_headers()
            for _ in range(size // len(BLOCK)):
                self.wfile.write(BLOCK)

        def do_POST(self) -> None:  # counts a chunked body (relay's upload), answers n
            n = 0
            while size_line := self.rfile.readline():
                length = int(size_line.split(b";")[0], 16)
                n += len(self.rfile.read(length)) if length else 0
                self.rfile.readline()
                if length == 0:
                    break
            text = str(n).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--upload-mb", type=int, default=24)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    size = args.mb << 20
    up = upstream(size)
    up_url = f"http://127.0.0.1:{up.server_address[1]}"
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="stream-proxy-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update(
        {
            "ISOGATE_ADMIN_TOKEN": ADMIN,
            "ISOGATE_LOG_LEVEL": "warning",
            "ISOGATE_RUNTIME__WORKERS": "1",
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": "2",
            "ISOGATE_RUNTIME__PREWARM_ISOLATES": "1",
            "ISOGATE_RUNTIME__MAX_RESPONSE_BODY": str(size * 2),
            "ISOGATE_RUNTIME__MAX_REQUEST_BODY": str((args.upload_mb + 1) << 20),
            "ISOGATE_RUNTIME__MAX_TIMEOUT_MS": "120000",
            "ISOGATE_EGRESS__ALLOW": '["127.0.0.1"]',
            "ISOGATE_EGRESS__MAX_RESPONSE_BYTES": str(size * 2),
        }
    )
    cmd = [sys.executable, "-m", "isogate.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--data-dir", str(data / "data")]
    with open(data / "server.log", "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    report: dict[str, object] = {"mb": args.mb}
    try:
        http = httpx.Client(base_url=base, timeout=120)
        for _ in range(300):
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        admin = {"Authorization": f"Bearer {ADMIN}"}
        r = http.post(
            "/v1/tenants", json={"name": "bench", "password": "password-123"}, headers=admin
        )
        r.raise_for_status()
        token = http.post(
            "/v1/auth/token", json={"name": "bench", "password": "password-123"}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for name, code in (("pass", PASS), ("pipe", PIPE), ("upload", COUNT), ("relay", RELAY)):
            r = http.put(
                f"/v1/functions/{name}",
                headers=auth,
                json={
                    "code": code,
                    "env": {"UPSTREAM": up_url},
                    "public": True,
                    "timeout_ms": 120000,
                },
            )
            r.raise_for_status()
        for name in ("pass", "pipe"):
            runs = []
            for _ in range(args.runs):
                pids = [proc.pid, *children(proc.pid)]
                before = {pid: rss(pid) for pid in pids}
                peak = dict(before)
                total = 0
                t0 = time.perf_counter()
                try:
                    with http.stream("GET", f"/fn/{name}") as resp:
                        resp.raise_for_status()
                        for i, chunk in enumerate(resp.iter_raw()):
                            total += len(chunk)
                            if i % 16 == 0:
                                for pid in peak:
                                    peak[pid] = max(peak[pid], rss(pid))
                except httpx.HTTPError as exc:  # cut short: say so, with what arrived
                    tail = (data / "server.log").read_text(errors="replace")
                    oom = "out of memory" in tail
                    runs.append({"error": type(exc).__name__, "MiB": total >> 20, "oom": oom})
                    continue
                elapsed = time.perf_counter() - t0
                assert total == size, (total, size)
                runs.append(
                    {
                        "seconds": round(elapsed, 2),
                        "MiB_per_s": round(args.mb / elapsed, 1),
                        "gateway_rss_MiB": before[proc.pid] >> 20,
                        "gateway_growth_MiB": round((peak[proc.pid] - before[proc.pid]) / 2**20, 1),
                        "children": {
                            str(pid): {
                                "rss_MiB": before[pid] >> 20,
                                "growth_MiB": round((peak[pid] - before[pid]) / 2**20, 1),
                            }
                            for pid in pids[1:]
                        },
                    }
                )
            report[name] = runs
        report["upload"] = [upload(http, proc.pid, args.upload_mb) for _ in range(args.runs)]
        # the same upload passed on to the upstream untouched (never read in JavaScript)
        report["relay"] = [
            upload(http, proc.pid, args.upload_mb, "relay") for _ in range(args.runs)
        ]
        print(json.dumps(report, indent=1))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        up.shutdown()
        shutil.rmtree(data, ignore_errors=True)


def upload(http: httpx.Client, gateway: int, mb: int, fn: str = "upload") -> dict[str, object]:
    """``mb`` MiB sent to function ``fn`` (``upload`` counts it in JavaScript, ``relay``
    passes it on to the upstream, which counts it), chunked, RSS sampled every 4 MiB."""
    pids = [gateway, *children(gateway)]
    before = {pid: rss(pid) for pid in pids}
    peak = dict(before)

    def parts() -> Iterator[bytes]:
        for i in range(mb * 16):  # 64 KiB each
            if i % 64 == 0:
                for pid in peak:
                    peak[pid] = max(peak[pid], rss(pid))
            yield BLOCK

    t0 = time.perf_counter()
    r = http.post(f"/fn/{fn}", content=parts())
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200 and r.text == str(mb << 20), (r.status_code, r.text[:200])
    return {
        "seconds": round(elapsed, 2),
        "MiB_per_s": round(mb / elapsed, 1),
        "gateway_rss_MiB": before[gateway] >> 20,
        "gateway_growth_MiB": round((peak[gateway] - before[gateway]) / 2**20, 1),
        "children": {
            str(pid): {
                "rss_MiB": before[pid] >> 20,
                "growth_MiB": round((peak[pid] - before[pid]) / 2**20, 1),
            }
            for pid in pids[1:]
        },
    }


if __name__ == "__main__":
    main()
