"""Issue 24, item 6: the next owner of a name never reads the previous owner's records.

Records were keyed by function name: records queued by the write-behind when the owner
deleted the function (or written after, by calls still in flight) were shown to whoever
deployed that name next. Now records carry tenant and incarnation, a delete drops what is
queued, and reads filter by owner. On SQLite and on PostgreSQL; the gateway in process
on the fake runtime (what is tested is the record keeping above it).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import httpx
import pytest

from isogate.config import load_settings
from isogate.gateway.app import create_app
from isogate.registry.models import InvocationRecord
from tests.gateway.conftest import bearer, register
from tests.gateway.fake_runtime import FakeRuntime

CODE = "export default { fetch() { return new Response('secret of ' + 'A') } }"


async def test_next_owner_sees_no_previous_records(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)
    settings = load_settings(data_dir=tmp_path, admin_token="admin", database_url=database_url)
    app = create_app(settings, runtime_factory=FakeRuntime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
            svc = app.state.services
            a = bearer(await register(c, "alice"))
            r = await c.put("/v1/functions/shared", headers=a, json={"code": CODE, "public": True})
            assert r.status_code == 201, r.text
            old = await svc.functions.get("alice", "shared")
            # calls whose records are still queued (write-behind) when alice deletes
            for _ in range(3):
                assert (await c.get("/fn/shared")).status_code == 200
            assert (await c.delete("/v1/functions/shared", headers=a)).status_code == 204
            # a call that was still in flight during the delete records afterwards
            inflight = {
                "id": "inv_inflight_of_alice",
                "function": "shared",
                "version": 1,
                "time": time.time(),
                "status": 200,
                "outcome": "ok",
                "duration_ms": 1.0,
                "cold": False,
                "logs": ("alice's secret log line",),
                "error": None,
                "tenant": "alice",
                "incarnation": old.created_at,
            }
            known = {f.name for f in dataclasses.fields(InvocationRecord)}
            svc.invocations.record(
                InvocationRecord(**{k: v for k, v in inflight.items() if k in known})
            )
            await svc.invocations.flush()

            b = bearer(await register(c, "bob"))
            r = await c.put("/v1/functions/shared", headers=b, json={"code": CODE, "public": True})
            assert r.status_code == 201, r.text
            r = await c.get("/v1/functions/shared/invocations", headers=b)
            assert r.status_code == 200, r.text
            assert r.json()["invocations"] == []
            # bob's own calls are his to read
            assert (await c.get("/fn/shared")).status_code == 200
            r = await c.get("/v1/functions/shared/invocations", headers=b)
            got = r.json()["invocations"]
            assert len(got) == 1 and "alice" not in r.text

            # the same owner after delete and redeploy starts over too
            assert (await c.delete("/v1/functions/shared", headers=b)).status_code == 204
            r = await c.put("/v1/functions/shared", headers=b, json={"code": CODE, "public": True})
            assert r.status_code == 201, r.text
            r = await c.get("/v1/functions/shared/invocations", headers=b)
            assert r.json()["invocations"] == []
