"""Over a real Hypercorn on 127.0.0.1 and real runtime workers: a client that hangs up
while its function awaits a timer ends that call in the executor (the supervisor sends
a Cancel), which frees the tenant's waiting place at once; errors of ``ctx.waitUntil``
work are logged under the ``X-Invocation-Id`` the caller was given."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypercorn.asyncio.run import worker_serve
from hypercorn.utils import wrap_app

from isogate.gateway.app import create_app
from isogate.gateway.server import bind, hypercorn_config

from .conftest import bearer, make_settings, register

SLEEPS = """export default { async fetch() {
  await scheduler.wait(60000);
  return new Response('late');
} }"""
QUICK = "export default { async fetch() { await scheduler.wait(10); return new Response('ok') } }"
LATE_ERROR = """export default { async fetch(req, env, ctx) {
  ctx.waitUntil(scheduler.wait(20).then(() => { throw new Error('late boom') }));
  return new Response('first');
} }"""


class Gateway:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url
        self.app = app

    @property
    def runtime(self) -> Any:
        return self.app.state.services.runtime


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """The app with a real runtime (one worker, one executor; one waiting place per
    tenant; limits up to 120 s) behind Hypercorn on 127.0.0.1, in a thread."""
    runtime = {
        "workers": 1,
        "threads_per_worker": 1,
        "max_waiting_per_tenant": 1,
        "max_timeout_ms": 120_000,
        "prewarm_isolates": 1,
    }
    settings = make_settings(tmp_path, host="127.0.0.1", port=0, runtime=runtime)
    config = hypercorn_config(settings)
    sockets = bind(settings, config)
    port = sockets.insecure_sockets[0].getsockname()[1]
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        await worker_serve(
            wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
            config,
            sockets=sockets,
            shutdown_trigger=stop.wait,
        )

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):  # the runtime's workers start first
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    try:
        yield Gateway(url, app)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        for sock in sockets.insecure_sockets:
            sock.close()


def until(predicate: Any, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def deploy(c: httpx.AsyncClient, h: dict[str, str], name: str, code: str) -> None:
    body = {"code": code, "public": True, "timeout_ms": 120_000}
    r = await c.put(f"/v1/functions/{name}", headers=h, json=body)
    assert r.status_code == 201, r.text


def test_a_client_hanging_up_frees_its_waiting_place(gateway: Gateway) -> None:
    async def setup() -> None:
        async with httpx.AsyncClient(base_url=gateway.url) as c:
            h = bearer(await register(c, "acme"))
            await deploy(c, h, "sleeps", SLEEPS)
            await deploy(c, h, "quick", QUICK)

    asyncio.run(setup())
    rt = gateway.runtime
    conn = socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])))
    conn.sendall(b"GET /fn/sleeps HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    until(lambda: rt.stats().waiting == 1, "the call awaits its timer")
    # the tenant's one waiting place is taken: a second waiting call is refused
    r = httpx.get(gateway.url + "/fn/quick", timeout=30)
    assert r.status_code in (429, 503), r.text
    conn.close()  # the client hangs up; the timer has ~60 s to go, the limit 120 s
    until(lambda: rt.stats().waiting == 0, "the executor ends the abandoned call")
    assert rt.stats().abandoned_running == 1
    r = httpx.get(gateway.url + "/fn/quick", timeout=30)
    assert (r.status_code, r.text) == (200, "ok")


def test_wait_until_errors_name_the_invocation_id(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="isogate.runtime")

    async def setup() -> None:
        async with httpx.AsyncClient(base_url=gateway.url) as c:
            h = bearer(await register(c, "acme"))
            await deploy(c, h, "late", LATE_ERROR)

    asyncio.run(setup())
    r = httpx.get(gateway.url + "/fn/late", timeout=30)
    assert (r.status_code, r.text) == (200, "first")
    inv = r.headers["x-invocation-id"]
    until(
        lambda: any("late boom" in rec.getMessage() for rec in caplog.records),
        "the waitUntil error is logged",
    )
    (line,) = [rec.getMessage() for rec in caplog.records if "late boom" in rec.getMessage()]
    assert line.startswith(f"invocation {inv} (after its response)"), line
