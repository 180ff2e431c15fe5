"""End to end over real HTTP (Hypercorn, real runtime): quickstart, every status code,
tenant isolation, revocation, exact rate limits under concurrency, bad input."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess

HELLO = """export default {
  async fetch(request, env) {
    console.log("hello called", request.method);
    const body = await request.text();
    return new Response(JSON.stringify({hello: env.NAME || "world", method: request.method,
      url: request.url, body, key: request.headers.get("x-api-key")}),
      {headers: {"content-type": "application/json", "x-fn": "1"}});
  }
};"""
THROW = 'export default { fetch() { throw new Error("boom") } };'
LOOP = "export default { fetch() { while (true) {} } };"
BOMB = "export default { fetch() { let a = []; while (true) a.push(new Array(1e6).fill(1)); } };"

pytestmark = pytest.mark.timeout(300)


def problem(r: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and "title" in body
    assert "Traceback" not in r.text and 'File "' not in r.text
    if slug:
        assert body["type"] == f"https://isogate.dev/problems/{slug}", body
    return body


def test_quickstart(tenant: Tenant) -> None:
    h = tenant.http
    fn = unique("hello")
    r = tenant.deploy(fn, HELLO, env={"NAME": "isogate"})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    key = tenant.key(rate_limit={"requests": 3, "per_seconds": 3600})
    r = h.post(f"/fn/{fn}/sub/path?x=1", content=b"payload", headers={"X-API-Key": key["key"]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["hello"] == "isogate" and got["method"] == "POST" and got["body"] == "payload"
    assert got["url"].endswith(f":{h.base_url.port}/sub/path?x=1")  # the mount is cut
    assert got["key"] is None  # the key header is not handed to the function
    assert r.headers["x-fn"] == "1"
    assert r.headers["x-invocation-id"].startswith("inv_")
    assert r.headers["ratelimit-policy"] == '"rate";q=3;w=3600'
    assert r.headers["ratelimit"].startswith('"rate";r=2;')
    assert r.headers["x-ratelimit-remaining"] == "2"
    for _ in range(2):
        assert h.get(f"/fn/{fn}", headers={"Authorization": f"Bearer {key['key']}"}).is_success
    r = h.get(f"/fn/{fn}", headers={"X-API-Key": key["key"]})
    problem(r, 429, "rate-limited")
    assert int(r.headers["retry-after"]) > 0
    # records are written behind: wait for them (the answer may be late, never wrong)
    recs: list = []
    for _ in range(300):
        recs = h.get(f"/v1/functions/{fn}/invocations", headers=tenant.auth).json()["invocations"]
        if len(recs) >= 3:
            break
        time.sleep(0.1)
    assert len(recs) == 3
    assert any("hello called" in line for line in recs[0]["logs"])
    metrics = h.get("/metrics").text
    assert f'isogate_invocations_total{{code="200",function="{fn}"}} 3.0' in metrics
    assert 'isogate_quota_rejections_total{reason="rate_limit"}' in metrics
    for name in ("isogate_executors ", "isogate_executors_busy", "isogate_cold_starts_total"):
        assert name in metrics


def test_status_codes(tenant: Tenant) -> None:
    h = tenant.http
    fn = unique("codes")
    assert tenant.deploy(fn, HELLO).status_code == 201
    k = tenant.key()
    ok = {"X-API-Key": k["key"]}
    problem(h.get(f"/fn/{fn}"), 401, "invalid-api-key")
    problem(h.get(f"/fn/{fn}", headers={"X-API-Key": "isg_bogus"}), 401)
    problem(h.get("/fn/no-such-function", headers=ok), 404, "function-not-found")
    scoped = tenant.key(functions=["something-else"])
    problem(h.get(f"/fn/{fn}", headers={"X-API-Key": scoped["key"]}), 403, "key-out-of-scope")
    short = tenant.key(ttl_seconds=1)
    assert h.get(f"/fn/{fn}", headers={"X-API-Key": short["key"]}).status_code == 200
    time.sleep(1.2)
    problem(h.get(f"/fn/{fn}", headers={"X-API-Key": short["key"]}), 403, "key-expired")
    assert h.get(f"/fn/{fn}", headers=ok).status_code == 200
    assert h.delete(f"/v1/keys/{k['id']}", headers=tenant.auth).status_code == 200
    problem(h.get(f"/fn/{fn}", headers=ok), 403, "key-revoked")  # at once
    k2 = {"X-API-Key": tenant.key(uses=1)["key"]}
    problem(h.post(f"/fn/{fn}", headers=k2, content=b"x" * ((1 << 20) + 10)), 413)
    assert h.get(f"/fn/{fn}", headers=k2).status_code == 200  # the 413 consumed nothing
    problem(h.get(f"/fn/{fn}", headers=k2), 429, "uses-exhausted")
    # the function threw
    bad = unique("throws")
    assert tenant.deploy(bad, THROW).status_code == 201
    k3 = {"X-API-Key": tenant.key()["key"]}
    r = h.get(f"/fn/{bad}", headers=k3)
    problem(r, 500, "function-error")
    assert "boom" not in r.text  # the error is for the owner, in the records
    time.sleep(0.7)
    recs = h.get(f"/v1/functions/{bad}/invocations", headers=tenant.auth).json()["invocations"]
    assert "boom" in (recs[0]["error"] or "")
    # time limit
    loop = unique("loop")
    assert tenant.deploy(loop, LOOP, timeout_ms=200).status_code == 201
    problem(h.get(f"/fn/{loop}", headers=k3), 504, "timeout")
    # runtime crash (heap exhausted) → 502, then quarantined → 503
    bomb = unique("bomb")
    assert tenant.deploy(bomb, BOMB, timeout_ms=20000).status_code == 201
    codes = []
    for _ in range(4):
        r = h.get(f"/fn/{bomb}", headers=k3)
        codes.append(r.status_code)
        problem(r, r.status_code)
    assert codes[0] == 502, codes
    assert codes[-1] == 503, codes
    r = h.get(f"/fn/{bomb}", headers=k3)
    problem(r, 503, "quarantined")
    assert "retry-after" in r.headers
    # other functions still work after the crashes
    assert h.get(f"/fn/{fn}", headers=k3).status_code == 200
    # redeploy lifts the quarantine (the new code is fine)
    assert tenant.deploy(bomb, HELLO).status_code == 201
    assert h.get(f"/fn/{bomb}", headers=k3).status_code == 200


def test_overloaded(small_gateway: GatewayProcess) -> None:
    t = Tenant(small_gateway.url, unique("busy"))
    loop = unique("loop")
    assert t.deploy(loop, LOOP, timeout_ms=3000).status_code == 201
    key = t.key()["key"]
    results: list[httpx.Response] = []

    def hit() -> None:
        with httpx.Client(base_url=small_gateway.url, timeout=60) as c:
            results.append(c.get(f"/fn/{loop}", headers={"X-API-Key": key}))

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    codes = sorted(r.status_code for r in results)
    assert 503 in codes and 504 in codes, codes
    r = next(r for r in results if r.status_code == 503)
    problem(r, 503, "overloaded")
    assert int(r.headers["retry-after"]) >= 1


def test_tenant_isolation(gateway: GatewayProcess) -> None:
    a = Tenant(gateway.url, unique("alice"))
    b = Tenant(gateway.url, unique("bob"))
    fn = unique("bobs")
    a.grant_hostless()
    b.grant_hostless()
    assert b.deploy(fn, HELLO, routes=[f"/{fn}/*"]).status_code == 201
    bkey = b.key()
    akey = a.key()
    h = a.http
    assert h.get("/v1/functions", headers=a.auth).json()["functions"] == []
    problem(h.get(f"/v1/functions/{fn}", headers=a.auth), 404)
    problem(h.get(f"/v1/functions/{fn}/code", headers=a.auth), 404)
    problem(h.get(f"/v1/functions/{fn}/invocations", headers=a.auth), 404)
    problem(a.deploy(fn, THROW), 409, "name-taken")
    problem(h.post(f"/v1/functions/{fn}/rollback", headers=a.auth, json={"version": 1}), 404)
    problem(h.delete(f"/v1/functions/{fn}", headers=a.auth), 404)
    problem(a.deploy(unique("mine"), HELLO, routes=[f"/{fn}/*"]), 409, "route-conflict")
    problem(h.get(f"/fn/{fn}", headers={"X-API-Key": akey["key"]}), 403)
    assert [k["id"] for k in h.get("/v1/keys", headers=a.auth).json()["keys"]] == [akey["id"]]
    problem(h.get(f"/v1/keys/{bkey['id']}", headers=a.auth), 404)
    problem(h.delete(f"/v1/keys/{bkey['id']}", headers=a.auth), 404)
    problem(h.post(f"/v1/keys/{bkey['id']}/renew", headers=a.auth, json={"ttl_seconds": 5}), 404)
    # bob is unaffected: his function, code and key all still work
    r = b.http.get(f"/fn/{fn}/x", headers={"X-API-Key": bkey["key"]})
    assert r.status_code == 200 and r.json()["hello"] == "world"
    assert b.http.get(f"/{fn}/via-route", headers={"X-API-Key": bkey["key"]}).status_code == 200
    assert b.http.get(f"/v1/functions/{fn}/code", headers=b.auth).text == HELLO


def test_exact_rate_limit_under_50_concurrent(tenant: Tenant, gateway: GatewayProcess) -> None:
    fn = unique("rl")
    assert tenant.deploy(fn, HELLO).status_code == 201
    key = tenant.key(rate_limit={"requests": 7, "per_seconds": 3600})["key"]

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60, limits=limits) as c:
            rs = await asyncio.gather(
                *(c.get(f"/fn/{fn}", headers={"X-API-Key": key}) for _ in range(50))
            )
        return [r.status_code for r in rs]

    codes = asyncio.run(burst())
    assert codes.count(200) == 7 and codes.count(429) == 43, codes


def test_bad_input_never_500(tenant: Tenant) -> None:
    h = tenant.http
    js = {**tenant.auth, "content-type": "application/javascript"}
    cases = [
        h.post("/v1/tenants", content=b"{oops", headers={"content-type": "application/json"}),
        h.post("/v1/tenants", content=b"name=x", headers={"content-type": "text/plain"}),
        h.post("/v1/tenants", json={"name": "../../etc", "password": "password-123"}),
        h.post(
            "/v1/tenants",
            json={"name": "\uff48\uff45\uff4c\uff4c\uff4f", "password": "password-123"},
        ),
        h.post("/v1/tenants", json={"name": "x" * 10_000, "password": "password-123"}),
        h.post("/v1/tenants", json={"name": "ok-name", "password": "password-123", "x": 1}),
        h.post("/v1/auth/token", json=["not", "an", "object"]),
        h.post("/v1/keys", headers=tenant.auth, content=b"\x00\xff"),
        h.post(
            "/v1/keys", headers={**tenant.auth, "content-type": "application/json"}, content=b""
        ),
        h.put("/v1/functions/..%2F..%2Fetc", headers=js, content=HELLO),
        h.put("/v1/functions/h%C3%A9llo", headers=js, content=HELLO),
        h.put("/v1/functions/" + "a" * 10_000, headers=js, content=HELLO),
        h.put("/v1/functions/ok", headers=js, content="export default { fetch( {"),
        h.put("/v1/functions/ok", headers=js, content=b"x" * (3 << 20)),
        h.put(
            "/v1/functions/ok", headers={**tenant.auth, "content-type": "image/png"}, content=b"x"
        ),
        h.put("/v1/functions/ok", headers=tenant.auth, json={"code": 5}),
        h.get("/v1/functions/ok/code?version=abc", headers=tenant.auth),
        h.post("/v1/functions/ok/rollback", headers=tenant.auth, json={"version": "1"}),
        h.get("/fn/%00", headers={"X-API-Key": "isg_x"}),
        h.get("/fn/" + "b" * 10_000),
        h.get("/v1/keys/" + "k" * 5000, headers=tenant.auth),
        h.request("PATCH", "/v1/keys", headers=tenant.auth),
        h.get("/definitely/not/here"),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in r.text
    syntax = cases[12].json()
    assert "line 1" in syntax["detail"] and "column" in syntax["detail"]


def test_ops_endpoints(gateway: GatewayProcess) -> None:
    with httpx.Client(base_url=gateway.url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json() == {"status": "ready"}
        doc = c.get("/openapi.json").json()
        for path in ("/v1/keys", "/v1/functions/{name}", "/fn/{name}", "/metrics"):
            assert path in doc["paths"]
