"""Faults and durability with the production backends: PostgreSQL and S3 (SeaweedFS).

Real ``isogate serve`` processes over HTTP, a fresh PostgreSQL database per test and a
private SeaweedFS where a test stops it. PostgreSQL is shared with other tests (and other
people): it is stopped only briefly and always started again in a ``finally``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fixtures.seaweedfs import SeaweedFS

from .conftest import Tenant, unique
from .server import GatewayProcess

pytestmark = pytest.mark.timeout(300)

JWT = "jwt-secret-shared-by-replicas-0123456789abcdef"
WARM = 'export default { fetch() { return new Response("warm") } };'
COLD = 'export default { fetch() { return new Response("cold") } };'
V1 = 'export default { fetch() { return new Response("v1") } };'
V2 = 'export default { fetch() { return new Response("v2") } };'
PROBLEM = "application/problem+json"


def backend_env(db_url: str, s3: SeaweedFS, bucket: str, **extra: str) -> dict[str, str]:
    return {
        "ISOGATE_DATABASE_URL": db_url,
        "ISOGATE_JWT_SECRET": JWT,
        "ISOGATE_TOKEN_TTL_SECONDS": "3600",
        **s3.env(bucket, prefix="code/"),
        **extra,
    }


def assert_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["status"] == status
    return body


def test_s3_down(data_dir: Path, pg_url: str, seaweedfs_factory: Callable[[], SeaweedFS]) -> None:
    s3 = seaweedfs_factory()
    # No in-process code cache: a deploy keeps its code at hand otherwise, and this test
    # needs a function whose first invocation must read the object store.
    env = backend_env(
        pg_url, s3, "faults", ISOGATE_BLOB_TIMEOUT_SECONDS="2", ISOGATE_CODE_CACHE_BYTES="0"
    )
    gw = GatewayProcess(data_dir, env)
    gw.start()
    try:
        t = Tenant(gw.url, unique("s3down"))
        assert t.deploy("warm", WARM, public=True).status_code == 201
        assert t.deploy("cold", COLD, public=True).status_code == 201
        assert t.http.get("/fn/warm").text == "warm"

        s3.stop()
        # still ready (warm functions serve), the blob store reported as degraded
        ready = httpx.get(gw.url + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["degraded"] == ["blobs"]
        # warm functions keep serving
        for _ in range(3):
            r = t.http.get("/fn/warm")
            assert (r.status_code, r.text) == (200, "warm")
        # a cold load answers 503 (its deadline), not a hang
        body = assert_problem(t.http.get("/fn/cold"), 503)
        assert body["type"].endswith("/code-unavailable"), body
        # a deploy fails cleanly: 503, and no version row without its blob
        assert_problem(t.deploy("warm", V2), 503)
        assert_problem(t.deploy("fresh", V1), 503)
        info = t.http.get("/v1/functions/warm", headers=t.auth).json()
        assert [v["version"] for v in info["versions"]] == [1]
        assert t.http.get("/v1/functions/fresh", headers=t.auth).status_code == 404
        assert t.http.get("/fn/warm").text == "warm"

        # S3 back: the cold function loads without restarting isogate
        s3.start()
        deadline = time.monotonic() + 20
        while True:
            r = t.http.get("/fn/cold")
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert (r.status_code, r.text) == (200, "cold")
        assert t.deploy("warm", V2, public=True).status_code == 201
        assert t.http.get("/fn/warm").text == "v2"
    finally:
        assert gw.stop() == 0, gw.log.read_text()[-3000:]


def _pg_cluster() -> tuple[str, str]:
    """``(version, cluster)`` of the local Debian PostgreSQL, or skip."""
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if p.is_dir())
    if not versions or shutil.which("pg_ctlcluster") is None:
        pytest.skip("no local PostgreSQL cluster to restart (pg_ctlcluster)")
    return versions[-1], "main"


def _pg_ctl(action: str) -> None:
    version, cluster = _pg_cluster()
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action]
    if action == "stop":
        cmd += ["-m", "fast"]
    subprocess.run(cmd, check=True, timeout=60, capture_output=True)


def _wait_ready(gw: GatewayProcess, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(gw.url + "/readyz", timeout=3).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready again after {timeout}s:\n{gw.log.read_text()[-3000:]}")


def test_postgres_restart(data_dir: Path, pg_url: str, s3_server: SeaweedFS) -> None:
    _pg_cluster()
    env = backend_env(pg_url, s3_server, "pg-restart", ISOGATE_STORE_TIMEOUT_SECONDS="2")
    gw = GatewayProcess(data_dir, env)
    gw.start()
    try:
        t = Tenant(gw.url, unique("pgdown"))
        assert t.deploy("hello", V1).status_code == 201
        key = t.key()
        assert t.http.get("/fn/hello", headers={"X-API-Key": key["key"]}).text == "v1"

        try:
            _pg_ctl("stop")
            # readiness is red while the database is down
            body = assert_problem(httpx.get(gw.url + "/readyz", timeout=10), 503)
            assert "database" in body["failing"]
            # requests get 503 problems, not 500s, and quickly
            assert_problem(t.http.get("/v1/functions", headers=t.auth), 503)
            assert_problem(t.http.post("/v1/keys", headers=t.auth, json={}), 503)
            assert_problem(t.deploy("hello", V2), 503)
            login = {"name": t.name, "password": "password-123"}
            assert_problem(t.http.post("/v1/auth/token", json=login), 503)
            r = t.http.get("/fn/hello", headers={"X-API-Key": "isg_" + "x" * 43})
            assert_problem(r, 503)
            time.sleep(2.5)  # past the function and key caches
            r = t.http.get("/fn/hello", headers={"X-API-Key": key["key"]})
            assert r.status_code in (200, 503), r.text  # a cached lease may still serve
            if r.status_code == 503:
                assert_problem(r, 503)
        finally:
            _pg_ctl("start")

        # the service recovers by itself (pool pre-ping replaces dead connections)
        _wait_ready(gw, 30)
        assert t.http.get("/fn/hello", headers={"X-API-Key": key["key"]}).text == "v1"
        assert t.http.get("/v1/functions", headers=t.auth).status_code == 200
        new_key = t.key()
        assert t.http.get("/fn/hello", headers={"X-API-Key": new_key["key"]}).text == "v1"
        info = t.http.get("/v1/functions/hello", headers=t.auth).json()
        assert [v["version"] for v in info["versions"]] == [1]  # the refused deploy left nothing
    finally:
        assert gw.stop() == 0, gw.log.read_text()[-3000:]


def test_no_accepted_write_lost(
    data_dir: Path, pg_url: str, seaweedfs_factory: Callable[[], SeaweedFS]
) -> None:
    s3 = seaweedfs_factory()
    env = backend_env(pg_url, s3, "durable")
    gw = GatewayProcess(data_dir, env)
    gw.start()
    try:
        t = Tenant(gw.url, unique("durable"))
        t.grant_hostless()
        assert t.deploy("keeper", V1, routes=["/keep/*"]).status_code == 201
        assert t.deploy("keeper", V2).status_code == 201
        r = t.http.post("/v1/functions/keeper/rollback", headers=t.auth, json={"version": 1})
        assert r.status_code == 200
        key = t.key(uses=3, rate_limit={"requests": 100, "per_seconds": 60})
        revoked = t.key()
        assert t.http.delete(f"/v1/keys/{revoked['id']}", headers=t.auth).status_code == 200
        renewed = t.key(ttl_seconds=60)
        r = t.http.post(
            f"/v1/keys/{renewed['id']}/renew", headers=t.auth, json={"ttl_seconds": 9000}
        )
        assert r.status_code == 200
        renewed_exp = r.json()["expires_at"]
        assert t.http.get("/fn/keeper", headers={"X-API-Key": key["key"]}).text == "v1"
    finally:
        assert gw.stop() == 0, gw.log.read_text()[-3000:]

    # every process restarts: S3 too, and the gateway with an empty data dir (all state
    # lives in PostgreSQL and S3; the signing key comes from the environment)
    s3.stop()
    s3.start()
    gw2 = GatewayProcess(data_dir.parent / "data-2", env)
    gw2.start()
    try:
        h = httpx.Client(base_url=gw2.url, timeout=60)
        info = h.get("/v1/functions/keeper", headers=t.auth).json()
        assert info["version"] == 1
        assert [v["version"] for v in info["versions"]] == [1, 2]
        assert info["versions"][0]["routes"] == ["/keep/*"]
        assert h.get("/v1/functions/keeper/code?version=2", headers=t.auth).text == V2
        r = h.post("/v1/auth/token", json={"name": t.name, "password": "password-123"})
        assert r.status_code == 200
        keys = {k["id"]: k for k in h.get("/v1/keys", headers=t.auth).json()["keys"]}
        assert keys[revoked["id"]]["state"] == "revoked"
        assert keys[renewed["id"]]["expires_at"] == renewed_exp
        assert h.get("/keep/x", headers={"X-API-Key": key["key"]}).text == "v1"  # cold: S3
        assert h.get("/fn/keeper", headers={"X-API-Key": revoked["key"]}).status_code == 403
        h.close()
    finally:
        assert gw2.stop() == 0, gw2.log.read_text()[-3000:]
