"""Deploys are throttled and capped per tenant (issue 24, item 10).

One tenant used to store 132 MB in 8 s with nothing bounding it. Against a real
gateway with small limits: deploys per minute, functions per tenant, stored bytes per
tenant are refused with a problem for that tenant only, nothing of a refused deploy is
stored, old versions beyond the kept number are dropped, and another tenant deploys
and is served throughout.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

PROBLEM = "application/problem+json"
LIMITS = {
    "ISOGATE_AUTH_FAILURE_LIMIT": "100000",
    "ISOGATE_MAX_DEPLOYS_PER_MINUTE": "7",
    "ISOGATE_MAX_FUNCTIONS_PER_TENANT": "3",
    "ISOGATE_MAX_VERSIONS_PER_FUNCTION": "2",
    "ISOGATE_MAX_STORED_BYTES_PER_TENANT": "10000",
}


def code(tag: str, pad: int = 0) -> str:
    return f"export default {{ fetch() {{ return new Response('{tag}') }} }}//{'x' * pad}"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(tmp_path_factory.mktemp("limits") / "data", dict(LIMITS))
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def _tenant(http: httpx.Client, name: str) -> dict[str, str]:
    creds = {"name": name, "password": "password-123"}
    http.post("/v1/tenants", json=creds, headers={"Authorization": f"Bearer {ADMIN}"})
    token = http.post("/v1/auth/token", json=creds).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _refused(r: httpx.Response, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/" + slug), r.text


def test_deploy_limits_hold_per_tenant(gw: GatewayProcess) -> None:
    with httpx.Client(base_url=gw.url, timeout=60) as http:
        hog = _tenant(http, "hog")
        other = _tenant(http, "other")

        def put(who: dict[str, str], name: str, body: str) -> httpx.Response:
            return http.put(f"/v1/functions/{name}", headers=who, json={"code": body})

        # functions per tenant: the fourth new function is refused, nothing stored
        for i in range(3):
            assert put(hog, f"h{i}", code(f"h{i}")).status_code == 201
        _refused(put(hog, "h3", code("h3")), 403, "limit-exceeded")
        assert http.get("/v1/functions/h3", headers=hog).status_code == 404
        # versions kept per function: the oldest go, the current stays
        assert put(hog, "h0", code("h0-v2")).status_code == 201
        assert put(hog, "h0", code("h0-v3")).status_code == 201
        versions = [
            v["version"] for v in http.get("/v1/functions/h0", headers=hog).json()["versions"]
        ]
        assert sorted(versions) == [2, 3]
        # stored bytes per tenant: a big version beyond the tenant's bytes is refused
        _refused(put(hog, "h1", code("big", 10_000)), 403, "limit-exceeded")
        shown = http.get("/v1/functions/h1", headers=hog).json()
        assert [v["version"] for v in shown["versions"]] == [1]
        # deploys per minute: 7 were made (refused ones count too); the next is 429
        r = put(hog, "h2", code("h2-v2"))
        _refused(r, 429, "deploy-rate-limited")
        assert int(r.headers["retry-after"]) >= 1
        # another tenant is not affected by any of it
        assert put(other, "o0", code("o0")).status_code == 201
        key = http.post("/v1/keys", headers=other, json={}).json()["key"]
        assert http.get("/fn/o0/", headers={"X-API-Key": key}).text == "o0"
