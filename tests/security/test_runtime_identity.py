"""Issue 24, items 1 and 8: a function's warm context belongs to one tenant and one
incarnation of its name; quarantine cannot be escaped by redeploying, and a tenant
whose code keeps crashing workers is stopped as a whole."""

from __future__ import annotations

from pathlib import Path

from tests.gateway.e2e.conftest import Tenant
from tests.gateway.e2e.server import GatewayProcess

from .conftest import RELAXED

#: global state and env: a reused warm context would answer with the previous owner's
STATEFUL = (
    "let calls = 0;"
    " export default { fetch(req, env) { calls++; return new Response(env.WHO + ' ' + calls) } };"
)
BOMB = (
    "export default { fetch() { const a = []; "
    "for (;;) a.push(new Array(1e5).fill(Math.random())); } };"
)


def test_a_reused_name_never_runs_the_previous_owners_context(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data", dict(RELAXED))
    gw.start()
    try:
        a, b = Tenant(gw.url, "owner-a"), Tenant(gw.url, "owner-b")
        assert a.deploy("f", STATEFUL, public=True, env={"WHO": "A-SECRET"}).status_code == 201
        for n in (1, 2, 3):
            assert a.http.get("/fn/f").text == f"A-SECRET {n}"
        assert a.http.delete("/v1/functions/f", headers=a.auth).status_code == 204
        # B takes the name and deploys the very same code with its own env
        assert b.deploy("f", STATEFUL, public=True, env={"WHO": "B"}).status_code == 201
        assert [b.http.get("/fn/f").text for _ in range(2)] == ["B 1", "B 2"]
        assert b.http.delete("/v1/functions/f", headers=b.auth).status_code == 204
        # one tenant deleting and redeploying with a new secret: never the stale one
        assert b.deploy("f", STATEFUL, public=True, env={"WHO": "B2"}).status_code == 201
        assert b.http.get("/fn/f").text == "B2 1"
    finally:
        assert gw.stop() == 0


def test_quarantine_survives_a_redeploy_and_the_crash_budget_stops_the_tenant(
    tmp_path: Path,
) -> None:
    env = {
        **RELAXED,
        "ISOGATE_RUNTIME__WORKERS": "1",
        "ISOGATE_RUNTIME__THREADS_PER_WORKER": "1",
        "ISOGATE_RUNTIME__HEAP_LIMIT_MB": "16",
        "ISOGATE_RUNTIME__QUARANTINE_CRASHES": "1",
        "ISOGATE_RUNTIME__TENANT_CRASH_BUDGET": "2",
    }
    gw = GatewayProcess(tmp_path / "data", env)
    gw.start()
    try:
        bad, good = Tenant(gw.url, "bomber"), Tenant(gw.url, "bystander")
        assert good.deploy("ok", STATEFUL, public=True, env={"WHO": "ok"}).status_code == 201
        assert bad.deploy("bomb", BOMB, public=True, timeout_ms=5000).status_code == 201
        assert bad.http.get("/fn/bomb").status_code == 502  # crashed its worker
        gw.wait_ready()
        assert bad.http.get("/fn/bomb").status_code == 503  # quarantined
        # redeploying the same code (a new version) does not lift it
        assert bad.deploy("bomb", BOMB, public=True, timeout_ms=5000).status_code == 201
        r = bad.http.get("/fn/bomb")
        assert r.status_code == 503 and "crashed the runtime" in r.json()["detail"]
        # the same code under another name: the second crash spends the budget (2)
        assert bad.deploy("bomb2", BOMB + " ", public=True, timeout_ms=5000).status_code == 201
        assert bad.http.get("/fn/bomb2").status_code == 502
        gw.wait_ready()
        r = bad.deploy("bomb3", BOMB + "  ", public=True, timeout_ms=5000)
        assert r.status_code == 429 and r.json()["type"].endswith("/crash-budget-spent")
        assert int(r.headers["retry-after"]) > 0
        assert bad.deploy("fine", STATEFUL, public=True, env={"WHO": "x"}).status_code == 429
        # the other tenant is untouched
        assert good.http.get("/fn/ok").status_code == 200
    finally:
        gw.stop()
