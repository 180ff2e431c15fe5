"""A restart of the server loses no tenant, key, function version, usage or setting."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from .conftest import Tenant
from .server import GatewayProcess

V1 = 'export default { fetch() { return new Response("v1") } };'
V2 = 'export default { fetch() { return new Response("v2") } };'

pytestmark = pytest.mark.timeout(300)


def test_restart_keeps_everything(data_dir: Path) -> None:
    settings_env = {"ISOGATE_TOKEN_TTL_SECONDS": "3600"}
    gw = GatewayProcess(data_dir, settings_env)
    gw.start()
    try:
        t = Tenant(gw.url, "durable")
        t.grant_hostless()
        assert t.deploy("keeper", V1, routes=["/keep/*"]).status_code == 201
        assert t.deploy("keeper", V2).status_code == 201
        r = t.http.post("/v1/functions/keeper/rollback", headers=t.auth, json={"version": 1})
        assert r.status_code == 200
        key = t.key(uses=3, rate_limit={"requests": 100, "per_seconds": 60})
        revoked = t.key()
        t.http.delete(f"/v1/keys/{revoked['id']}", headers=t.auth)
        renewed = t.key(ttl_seconds=60)
        r = t.http.post(
            f"/v1/keys/{renewed['id']}/renew", headers=t.auth, json={"ttl_seconds": 9000}
        )
        renewed_exp = r.json()["expires_at"]
        for _ in range(2):
            r = t.http.get("/fn/keeper", headers={"X-API-Key": key["key"]})
            assert r.text == "v1"
        time.sleep(0.3)
    finally:
        assert gw.stop() == 0

    gw2 = GatewayProcess(data_dir, settings_env)
    gw2.start()
    try:
        h = httpx.Client(base_url=gw2.url, timeout=60)
        # the token from before the restart is still valid (the signing key persisted)
        info = h.get("/v1/functions/keeper", headers=t.auth).json()
        assert info["version"] == 1
        assert [v["version"] for v in info["versions"]] == [1, 2]
        assert info["versions"][0]["routes"] == ["/keep/*"]
        assert h.get("/v1/functions/keeper/code?version=2", headers=t.auth).text == V2
        # password login works too
        r = h.post("/v1/auth/token", json={"name": "durable", "password": "password-123"})
        assert r.status_code == 200
        keys = {k["id"]: k for k in h.get("/v1/keys", headers=t.auth).json()["keys"]}
        assert keys[revoked["id"]]["state"] == "revoked"
        assert keys[renewed["id"]]["expires_at"] == renewed_exp
        assert h.get("/keep/x", headers={"X-API-Key": key["key"]}).text == "v1"  # use 3 of 3
        r = h.get("/fn/keeper", headers={"X-API-Key": key["key"]})
        assert r.status_code == 429  # uses counted before the restart were kept
        r = h.get("/fn/keeper", headers={"X-API-Key": revoked["key"]})
        assert r.status_code == 403
        # the name is still taken for other tenants
        other = Tenant(gw2.url, "other")
        assert other.deploy("keeper", V1).status_code == 409
        h.close()
    finally:
        gw2.stop()
    assert (data_dir / "jwt_secret").stat().st_mode & 0o777 == 0o600
