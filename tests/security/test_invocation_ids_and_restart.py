"""Issue 24, "also": invocation ids tell nothing about other tenants' traffic, and a
runtime restart is answered as a clean 503 problem (no exception escapes to the server,
which logged it as an "Error in ASGI Framework" traceback).

In process on the fake runtime: what is tested is the gateway's handling above it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from isogate.config import load_settings
from isogate.gateway.app import create_app
from isogate.runtime.errors import RuntimeStartError
from isogate.runtime.types import FunctionRef, InvokeRequest, InvokeResult, ValidationResult
from tests.gateway.conftest import assert_problem, bearer, register
from tests.gateway.fake_runtime import FakeRuntime

HELLO = "export default { fetch() { return new Response('hi') } }"


class RestartingRuntime(FakeRuntime):
    """A runtime whose workers are all restarting when ``restarting`` is set."""

    restarting = False

    async def validate(
        self, source: str, env: tuple[tuple[str, str], ...] = (), timeout_ms: int | None = None
    ) -> ValidationResult:
        if self.restarting:
            raise RuntimeStartError("no runtime worker is running")
        return await super().validate(source, env, timeout_ms)

    async def invoke(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult:
        if self.restarting:
            raise RuntimeStartError("no runtime worker is running")
        return await super().invoke(ref, request)


@pytest.fixture
async def client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)
    settings = load_settings(data_dir=tmp_path, admin_token="admin")
    app = create_app(settings, runtime_factory=RestartingRuntime)
    async with app.router.lifespan_context(app):
        # raise_app_exceptions (the default): an exception that escapes the app, as it
        # escaped to Hypercorn, fails the request here instead of passing unseen
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def test_invocation_ids_are_random(client: httpx.AsyncClient) -> None:
    h = bearer(await register(client, "acme"))
    r = await client.put("/v1/functions/hello", headers=h, json={"code": HELLO, "public": True})
    assert r.status_code == 201, r.text
    ids = []
    for _ in range(40):
        r = await client.get("/fn/hello")
        assert r.status_code == 200
        ids.append(r.headers["x-invocation-id"])
    assert len(set(ids)) == len(ids)
    # a per-process prefix plus a counter shares everything but the last digits; random
    # ids share nothing after "inv_" (40 ids agreeing on one more hex digit: 16**-39)
    assert all(i.startswith("inv_") and len(i) >= 4 + 24 for i in ids), ids[:3]
    shared = 4
    while all(len(i) > shared and i[shared] == ids[0][shared] for i in ids):
        shared += 1
    assert shared == 4, ids[:3]


async def test_runtime_restart_is_a_clean_503(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    h = bearer(await register(client, "acme"))
    r = await client.put("/v1/functions/hello", headers=h, json={"code": HELLO, "public": True})
    assert r.status_code == 201, r.text
    runtime = client.app.state.services.runtime  # type: ignore[attr-defined]
    runtime.restarting = True
    caplog.set_level(logging.INFO)
    caplog.clear()
    # a deploy while no worker runs: 503 problem, nothing raised out of the app
    r = await client.put("/v1/functions/other", headers=h, json={"code": HELLO})
    assert_problem(r, 503, "runtime-unavailable")
    # an invocation meanwhile: the same 503 (not a 502 with a logged traceback)
    r = await client.get("/fn/hello")
    body = assert_problem(r, 503, "runtime-unavailable")
    assert "Retry-After" in r.headers and "no runtime worker" not in body.get("detail", "")
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert not tracebacks, [rec.getMessage() for rec in tracebacks]
    runtime.restarting = False
    assert (await client.get("/fn/hello")).status_code == 200
