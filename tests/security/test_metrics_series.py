"""Issue 24, item 12: /metrics does not grow without bound, and who reads it is decided.

Series of deleted functions lived forever (300 deploy/delete cycles grew /metrics to
550 KB, its render from 3 to 52 ms). Now a delete removes them, a tenant's functions
create at most ``metrics_max_series_per_tenant`` series (more are counted under
``function="_over_limit"``), and ``metrics_token`` puts /metrics behind a bearer token.
In process on the fake runtime: what is tested is the gateway's metrics above it.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from isogate.config import load_settings
from isogate.gateway.app import create_app
from tests.gateway.conftest import bearer, register
from tests.gateway.fake_runtime import FakeRuntime

CODE = "export default { fetch() { return new Response('ok') } }"


@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(
            load_settings(data_dir=tmp_path, admin_token="admin", **settings),
            runtime_factory=FakeRuntime,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
                yield c

    return start


def functions_in(text: str) -> set[str]:
    return set(re.findall(r'function="([^"]+)"', text))


async def test_deleted_functions_leave_no_series(gateway: Callable[..., Any]) -> None:
    async with gateway() as c:
        h = bearer(await register(c, "churn"))
        for i in range(30):
            name = f"churn-{i}"
            r = await c.put(f"/v1/functions/{name}", headers=h, json={"code": CODE, "public": True})
            assert r.status_code == 201, r.text
            assert (await c.get(f"/fn/{name}")).status_code == 200
            assert name in functions_in((await c.get("/metrics")).text)
            assert (await c.delete(f"/v1/functions/{name}", headers=h)).status_code == 204
        left = {f for f in functions_in((await c.get("/metrics")).text) if f.startswith("churn")}
        assert left == set()


async def test_series_per_tenant_are_capped(gateway: Callable[..., Any]) -> None:
    cap = 10
    async with gateway(metrics_max_series_per_tenant=cap) as c:
        h = bearer(await register(c, "many"))
        other = bearer(await register(c, "other"))
        r = await c.put("/v1/functions/theirs", headers=other, json={"code": CODE, "public": True})
        assert r.status_code == 201
        for i in range(20):
            r = await c.put(
                f"/v1/functions/many-{i}", headers=h, json={"code": CODE, "public": True}
            )
            assert r.status_code == 201, r.text
            assert (await c.get(f"/fn/many-{i}")).status_code == 200
            assert (await c.get(f"/fn/many-{i}/x", headers={"X-API-Key": "nope"})).status_code
        text = (await c.get("/metrics")).text
        counters = re.findall(
            r'^isogate_invocations_total\{code="\d+",function="(many-\d+)"}', text, re.M
        )
        histograms = re.findall(
            r'^isogate_invocation_duration_seconds_count\{function="(many-\d+)"}', text, re.M
        )
        assert 0 < len(counters) + len(histograms) <= cap, (counters, histograms)
        assert "_over_limit" in functions_in(text)
        # the other tenant's series are not squeezed out by the first one's
        assert (await c.get("/fn/theirs")).status_code == 200
        text = (await c.get("/metrics")).text
        assert re.search(r'isogate_invocations_total\{code="200",function="theirs"} 1\.0', text)


async def test_metrics_token(gateway: Callable[..., Any]) -> None:
    async with gateway(metrics_token="scrape-secret-123") as c:
        r = await c.get("/metrics")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await c.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = await c.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert r.status_code == 200 and "isogate_executors" in r.text
