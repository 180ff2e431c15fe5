"""A real ``isogate serve`` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ADMIN = "e2e-admin-token"


@contextlib.contextmanager
def loopback_upstream(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 (a thread per request) for functions to fetch from;
    yields its base URL, and shuts it down after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess:
    """Start/stop ``isogate serve`` with a data dir and ``ISOGATE_*`` overrides."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"{data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
        env.update(
            {
                "ISOGATE_ADMIN_TOKEN": ADMIN,
                "ISOGATE_LOG_LEVEL": "warning",
                "ISOGATE_RUNTIME__WORKERS": "1",
                "ISOGATE_RUNTIME__THREADS_PER_WORKER": "2",
                "ISOGATE_RUNTIME__PREWARM_ISOLATES": "1",
                # suites register tenants and log in far more often than a person would,
                # all from 127.0.0.1 (tests/security/test_password_flood.py sets its own)
                "ISOGATE_AUTH_ATTEMPT_LIMIT": "100000",
            }
        )
        env.update(self.env)
        cmd = [
            sys.executable,
            "-m",
            "isogate.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gateway not ready in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until ``/readyz`` answers 200 again (e.g. a runtime worker restarted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gateway not ready again in {timeout}s")

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        code = self.proc.returncode
        self.proc = None
        return code
