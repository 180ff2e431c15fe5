"""Issue 24, item 9: a function's own 401 answers do not feed the auth-failure limiter.

A public function that answers 401 to everyone made each of its callers (who presented
any ``Authorization`` header) count failures, until the limiter locked them out of every
other tenant's functions and the control plane. Only the gateway's own credential
failures count; those still do.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

LIMIT = 3

DENIER = """
export default {
  fetch() {
    return new Response("go away", { status: 401, headers: { "www-authenticate": "Basic" } });
  },
};
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        tmp_path_factory.mktemp("fn401") / "data",
        {"ISOGATE_AUTH_FAILURE_LIMIT": str(LIMIT), "ISOGATE_AUTH_FAILURE_WINDOW_SECONDS": "600"},
    )
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def test_function_401_does_not_lock_callers_out(gw: GatewayProcess) -> None:
    with httpx.Client(base_url=gw.url, timeout=60) as http:
        creds = {"name": "denier", "password": "password-123"}
        r = http.post("/v1/tenants", json=creds, headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 201, r.text
        token = http.post("/v1/auth/token", json=creds).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        r = http.put("/v1/functions/denier", headers=auth, json={"code": DENIER, "public": True})
        assert r.status_code == 201, r.text

        # the caller presents its own credential to the function, which refuses it
        for _ in range(LIMIT * 3):
            r = http.get("/fn/denier", headers={"Authorization": "Bearer my-app-session"})
            assert r.status_code == 401, r.text
            assert r.text == "go away"
        # the same address still reaches the control plane with its valid token
        r = http.get("/v1/functions", headers=auth)
        assert r.status_code == 200, r.text

        # the gateway's own failures (an unknown API key) are still counted and limited
        statuses = [
            http.get("/v1/functions", headers={"Authorization": "Bearer forged"}).status_code
            for _ in range(LIMIT + 1)
        ]
        assert statuses[:LIMIT] == [401] * LIMIT
        assert statuses[LIMIT] == 429
