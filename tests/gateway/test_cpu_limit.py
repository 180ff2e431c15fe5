"""Per-function CPU limits through the deploy API and the CLI (fake runtime): ``cpu_ms``
is checked against ``runtime.max_cpu_ms``, stored per version, shown, and reaches the
runtime in the invocation's :class:`FunctionRef`."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import httpx
import pytest
from hypercorn.asyncio.run import worker_serve
from hypercorn.utils import wrap_app

from isogate.cli import main as cli
from isogate.gateway.app import create_app
from isogate.gateway.server import bind, hypercorn_config

from .conftest import assert_problem, bearer, make_settings, register
from .fake_runtime import FakeRuntime

HELLO = "export default { fetch() { return new Response('hi') } }"
JS = "application/javascript"


async def test_cpu_ms_stored_shown_and_passed_to_the_runtime(
    app_client: httpx.AsyncClient,
) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    body = {"code": HELLO, "public": True, "timeout_ms": 900, "cpu_ms": 120}
    r = await c.put("/v1/functions/f", headers=h, json=body)
    assert r.status_code == 201, r.text
    r = await c.put(
        "/v1/functions/f",
        headers={**h, "content-type": JS},
        params={"cpu_ms": "80", "public": "true"},
        content=HELLO,
    )
    assert r.status_code == 201, r.text
    info = (await c.get("/v1/functions/f", headers=h)).json()
    assert info["cpu_ms"] == 80 and info["timeout_ms"] is None
    assert [(v["timeout_ms"], v["cpu_ms"]) for v in info["versions"]] == [(900, 120), (None, 80)]
    assert (await c.get("/v1/functions", headers=h)).json()["functions"][0]["cpu_ms"] == 80
    runtime = c.app.state.services.runtime  # type: ignore[attr-defined]
    assert (await c.get("/fn/f")).status_code == 200
    assert runtime.invocations[-1][0].cpu_ms == 80
    assert (await c.post("/v1/functions/f/rollback", headers=h, json={"version": 1})).is_success
    assert (await c.get("/fn/f")).status_code == 200
    ref = runtime.invocations[-1][0]
    assert (ref.version, ref.timeout_ms, ref.cpu_ms) == (1, 900, 120)
    # without one, the runtime's default applies (None reaches it)
    assert (await c.put("/v1/functions/g", headers=h, json={"code": HELLO})).status_code == 201
    assert (await c.get("/v1/functions/g", headers=h)).json()["cpu_ms"] is None


@pytest.mark.parametrize("field", ["cpu_ms", "timeout_ms"])
async def test_limits_out_of_range_are_refused_naming_the_field(
    app_client: httpx.AsyncClient, field: str
) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    rt = c.app.state.services.settings.runtime  # type: ignore[attr-defined]
    maximum = {"cpu_ms": rt.max_cpu_ms, "timeout_ms": rt.max_timeout_ms}[field]
    for value in (0, -1, maximum + 1, "100", 1.5, True):
        r = await c.put("/v1/functions/f", headers=h, json={"code": HELLO, field: value})
        body = assert_problem(r, 422)
        assert [e["field"] for e in body["errors"]] == [field], body
        assert field in body["detail"]
    # the same in the query of a raw JS upload (before: ?timeout_ms=0 was a 500)
    for value in ("0", str(maximum + 1), "x"):
        r = await c.put(
            "/v1/functions/f",
            headers={**h, "content-type": JS},
            params={field: value},
            content=HELLO,
        )
        body = assert_problem(r, 422)
        assert field in body["detail"], body
    # nothing was stored; the maximum itself is accepted
    assert_problem(await c.get("/v1/functions/f", headers=h), 404)
    r = await c.put("/v1/functions/f", headers=h, json={"code": HELLO, field: maximum})
    assert r.status_code == 201, r.text


async def test_openapi_documents_cpu_ms(app_client: httpx.AsyncClient) -> None:
    doc = (await app_client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert schemas["FunctionDeploy"]["properties"]["cpu_ms"]["anyOf"][0]["minimum"] == 1
    for name in ("FunctionInfo", "Version"):
        assert "cpu_ms" in schemas[name]["properties"], name


# ---------------------------------------------------------------- the CLI, over real HTTP


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    """The app on the fake runtime behind a real Hypercorn on 127.0.0.1, in a thread."""
    settings = make_settings(tmp_path, host="127.0.0.1", port=0)
    config = hypercorn_config(settings)
    sockets = bind(settings, config)
    port = sockets.insecure_sockets[0].getsockname()[1]
    app = create_app(settings, FakeRuntime)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def run() -> None:
        started.set()
        await worker_serve(
            wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
            config,
            sockets=sockets,
            shutdown_trigger=stop.wait,
        )

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    started.wait(10)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.05)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        for sock in sockets.insecure_sockets:
            sock.close()


def run_cli(monkeypatch: pytest.MonkeyPatch, home: Path, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("ISOGATE_URL", url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue() + err.getvalue()


def test_cli_deploy_cpu_ms_and_show(
    gateway_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = httpx.post(
        gateway_url + "/v1/tenants", json={"name": "acme", "password": "password123"}
    ).status_code
    assert token == 201
    pw = ("--password", "password123")
    assert run_cli(monkeypatch, tmp_path, gateway_url, "login", "acme", *pw)[0] == 0
    src = tmp_path / "f.js"
    src.write_text(HELLO)
    code, out = run_cli(
        monkeypatch, tmp_path, gateway_url, "deploy", "f", str(src), "--cpu-ms", "150",
        "--timeout-ms", "700",
    )  # fmt: skip
    assert code == 0 and "version 1" in out, out
    assert run_cli(monkeypatch, tmp_path, gateway_url, "deploy", "f", str(src))[0] == 0
    code, out = run_cli(monkeypatch, tmp_path, gateway_url, "functions", "show", "f")
    assert code == 0, out
    lines = out.splitlines()
    assert "timeout 700ms cpu 150ms" in lines[1] and "timeout - cpu -" in lines[2], out
    code, out = run_cli(monkeypatch, tmp_path, gateway_url, "functions", "show", "f", "--json")
    assert [v["cpu_ms"] for v in json.loads(out)["versions"]] == [150, None]
    # the gateway's refusal reaches the user as one line naming the option's field
    code, out = run_cli(
        monkeypatch, tmp_path, gateway_url, "deploy", "f", str(src), "--cpu-ms", "999999"
    )
    assert code == 1 and "cpu_ms must be at most" in out and len(out.splitlines()) == 1, out
