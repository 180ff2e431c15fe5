"""Fixtures: an in-process app on the fake runtime (fast) and helpers shared by tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from isogate.config import load_settings
from isogate.gateway.app import create_app

from .fake_runtime import FakeRuntime

ADMIN = "admin-token-for-tests"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)


def make_settings(data_dir: Path, **kw: Any):
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_token": ADMIN,
        "open_registration": True,
    }
    base.update(kw)
    return load_settings(**base)


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path)
    app = create_app(settings, runtime_factory=FakeRuntime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def register(c: httpx.AsyncClient, name: str, password: str = "password123") -> str:
    r = await c.post("/v1/tenants", json={"name": name, "password": password})
    assert r.status_code == 201, r.text
    r = await c.post("/v1/auth/token", json={"name": name, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(r: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith("https://isogate.dev/problems/")
    assert "title" in body
    assert "Traceback" not in r.text
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body


async def grant_hostless(c: httpx.AsyncClient, tenant: str) -> None:
    """The operator lets ``tenant`` claim host-less route patterns."""
    r = await c.put(f"/v1/admin/hostless-grants/{tenant}", headers=bearer(ADMIN))
    assert r.status_code in (200, 201), r.text


async def assign_host(c: httpx.AsyncClient, host: str, tenant: str) -> None:
    """The operator assigns ``host`` to ``tenant``."""
    r = await c.put(f"/v1/admin/hosts/{host}", headers=bearer(ADMIN), json={"tenant": tenant})
    assert r.status_code in (200, 201), r.text
