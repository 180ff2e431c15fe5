"""The operator's route controls over the in-process app (fake runtime): who may call
them, the per-tenant route cap from settings, and withdrawals taking effect at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from isogate.gateway.app import create_app

from ..conftest import (
    ADMIN,
    assert_problem,
    assign_host,
    bearer,
    grant_hostless,
    make_settings,
    register,
)
from ..fake_runtime import FakeRuntime

HELLO = "export default { fetch() { return new Response('hi') } }"


async def _client(settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime_factory=FakeRuntime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
            yield c


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(make_settings(tmp_path, max_routes_per_tenant=3)):
        yield c


async def test_admin_api_needs_the_admin_token(capped: httpx.AsyncClient, tmp_path: Path) -> None:
    c = capped
    token = await register(c, "acme")
    assert_problem(await c.get("/v1/admin/hosts"), 401, "unauthorized")
    assert_problem(await c.get("/v1/admin/hosts", headers=bearer(token)), 403, "admin-only")
    r = await c.put("/v1/admin/hosts/a.example", headers=bearer(ADMIN), json={"tenant": "nobody"})
    assert_problem(r, 404, "tenant-not-found")
    r = await c.put("/v1/admin/hosts/bad_host:80", headers=bearer(ADMIN), json={"tenant": "acme"})
    assert_problem(r, 400, "invalid-route")
    async for plain in _client(make_settings(tmp_path / "noadmin", admin_token=None)):
        assert_problem(
            await plain.get("/v1/admin/hosts", headers=bearer(ADMIN)), 403, "admin-disabled"
        )


async def test_cap_and_withdrawals(capped: httpx.AsyncClient) -> None:
    c = capped
    h = bearer(await register(c, "acme"))
    await grant_hostless(c, "acme")
    await assign_host(c, "a.example", "acme")
    spec = {"code": HELLO, "public": True, "routes": ["/x/*", "/y", "a.example/z"]}
    assert (await c.put("/v1/functions/f", headers=h, json=spec)).status_code == 201
    r = await c.put("/v1/functions/g", headers=h, json={"code": HELLO, "routes": ["/w"]})
    assert_problem(r, 403, "route-limit")
    assert 'isogate_route_refusals_total{reason="limit"} 1.0' in (await c.get("/metrics")).text
    assert (await c.get("/x/1")).status_code == 200
    assert (await c.get("/z", headers={"host": "a.example"})).status_code == 200
    r = await c.delete("/v1/admin/hosts/a.example", headers=bearer(ADMIN))
    assert r.status_code == 200 and r.json()["functions_affected"] == 1
    assert_problem(await c.get("/z", headers={"host": "a.example"}), 404)  # at once
    r = await c.delete("/v1/admin/hostless-grants/acme", headers=bearer(ADMIN))
    assert r.json()["functions_affected"] == 1
    assert_problem(await c.get("/x/1"), 404)
    assert (await c.get("/fn/f")).status_code == 200  # the function itself stays
    hosts = (await c.get("/v1/admin/hosts", headers=bearer(ADMIN))).json()["hosts"]
    assert hosts == []
