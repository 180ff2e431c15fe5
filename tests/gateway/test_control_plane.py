"""Control plane over the in-process app (fake runtime): tenants, tokens, keys, functions,
problem documents for bad input, and tenant isolation."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from .conftest import ADMIN, assert_problem, bearer, grant_hostless, register

HELLO = "export default { fetch() { return new Response('hi') } }"


async def test_registration_and_login(app_client: httpx.AsyncClient) -> None:
    c = app_client
    token = await register(c, "acme")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "acme" and claims["exp"] > claims["iat"]
    assert_problem(await c.post("/v1/tenants", json={"name": "acme", "password": "x" * 9}), 409)
    r = await c.post("/v1/auth/token", json={"name": "acme", "password": "wrong-pass"})
    assert_problem(r, 401, "invalid-credentials")
    r = await c.post("/v1/auth/token", json={"name": "ghost", "password": "wrong-pass"})
    assert_problem(r, 401, "invalid-credentials")


async def test_registration_closed_needs_admin(tmp_path) -> None:
    from isogate.gateway.app import create_app

    from .conftest import make_settings
    from .fake_runtime import FakeRuntime

    app = create_app(make_settings(tmp_path, open_registration=False), FakeRuntime)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        body = {"name": "acme", "password": "password123"}
        assert_problem(await c.post("/v1/tenants", json=body), 403, "registration-closed")
        r = await c.post("/v1/tenants", json=body, headers=bearer("not-the-admin"))
        assert_problem(r, 403)
        r = await c.post("/v1/tenants", json=body, headers=bearer(ADMIN))
        assert r.status_code == 201


async def test_token_forgery_refused(app_client: httpx.AsyncClient) -> None:
    c = app_client
    await register(c, "acme")
    now = int(time.time())
    claims = {"sub": "acme", "iat": now, "exp": now + 60, "iss": "isogate"}
    none_token = jwt.encode(claims, key=None, algorithm="none")
    wrong_key = jwt.encode(claims, "x" * 40, algorithm="HS256")
    no_exp = jwt.encode({"sub": "acme", "iat": now, "iss": "isogate"}, "x" * 40, algorithm="HS256")
    for tok in [none_token, wrong_key, no_exp, "garbage", "isg_abc"]:
        assert_problem(await c.get("/v1/keys", headers=bearer(tok)), 401, "unauthorized")
    assert_problem(await c.get("/v1/keys"), 401)


async def test_keys_crud_and_secret_shown_once(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    r = await c.post(
        "/v1/keys",
        headers=h,
        json={
            "name": "ci",
            "ttl_seconds": 3600,
            "functions": ["hello"],
            "rate_limit": {"requests": 5, "per_seconds": 60, "burst": 2},
            "quota": {"invocations": 100, "period": "month"},
            "uses": 50,
        },
    )
    assert r.status_code == 201, r.text
    k = r.json()
    assert k["key"].startswith("isg_") and k["prefix"] == k["key"][:12]
    assert k["rate_limit"] == {"requests": 5, "per_seconds": 60, "burst": 2}
    listed = (await c.get("/v1/keys", headers=h)).json()["keys"]
    assert [x["id"] for x in listed] == [k["id"]]
    assert all("key" not in x for x in listed)
    shown = (await c.get(f"/v1/keys/{k['id']}", headers=h)).json()
    assert "key" not in shown and shown["state"] == "active"
    r = await c.post(f"/v1/keys/{k['id']}/renew", headers=h, json={"ttl_seconds": 7200})
    assert r.status_code == 200 and r.json()["expires_at"] > k["expires_at"]
    r = await c.delete(f"/v1/keys/{k['id']}", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert_problem(await c.get("/v1/keys/key_nope", headers=h), 404, "key-not-found")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1,2]", "application/json", 422),
        (b'{"ttl_seconds": "soon"}', "application/json", 422),
        (b'{"ttl_seconds": -5}', "application/json", 422),
        (b'{"functions": []}', "application/json", 422),
        (b'{"functions": ["../etc"]}', "application/json", 422),
        (b'{"rate_limit": {"requests": 0, "per_seconds": 1}}', "application/json", 422),
        (b'{"unknown": 1}', "application/json", 422),
        (b'{"ttl_seconds": 999999999999}', "application/json", 422),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b'{"name": "x"}', "text/plain", 415),
        (b"\xff\xfe", "application/json", 400),
        (b"[" * 60_000, "application/json", 400),
    ],
)
async def test_bad_key_requests(
    app_client: httpx.AsyncClient, body: bytes, content_type: str, status: int
) -> None:
    h = bearer(await register(app_client, "acme"))
    r = await app_client.post("/v1/keys", headers={**h, "content-type": content_type}, content=body)
    assert_problem(r, status)


async def test_oversized_control_body(app_client: httpx.AsyncClient) -> None:
    h = bearer(await register(app_client, "acme"))
    big = b'{"name": "' + b"x" * (3 << 20) + b'"}'
    r = await app_client.post(
        "/v1/keys", headers={**h, "content-type": "application/json"}, content=big
    )
    assert_problem(r, 413, "body-too-large")
    r = await app_client.put(
        "/v1/functions/big", headers={**h, "content-type": "application/javascript"}, content=big
    )
    assert_problem(r, 413, "body-too-large")


async def test_deploy_versions_code_rollback_delete(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    r = await c.put(
        "/v1/functions/hello",
        headers={**h, "content-type": "application/javascript"},
        content=HELLO,
    )
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["name"] == "hello" and v1["version"] == 1 and len(v1["sha256"]) == 64
    r = await c.put(
        "/v1/functions/hello",
        headers=h,
        json={"code": HELLO + "//2", "env": {"GREETING": "hey"}, "timeout_ms": 500, "public": True},
    )
    assert r.status_code == 201 and r.json()["version"] == 2
    info = (await c.get("/v1/functions/hello", headers=h)).json()
    assert info["version"] == 2 and [v["version"] for v in info["versions"]] == [1, 2]
    assert info["versions"][1]["env"] == ["GREETING"]
    r = await c.get("/v1/functions/hello/code", headers=h, params={"version": 1})
    assert r.text == HELLO and r.headers["content-type"].startswith("application/javascript")
    assert_problem(await c.get("/v1/functions/hello/code?version=7", headers=h), 404)
    r = await c.post("/v1/functions/hello/rollback", headers=h, json={"version": 1})
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (await c.get("/v1/functions", headers=h)).json()["functions"][0]["version"] == 1
    assert c.app.state.services.runtime.unquarantined == ["hello", "hello", "hello"]  # type: ignore[attr-defined]
    assert (await c.delete("/v1/functions/hello", headers=h)).status_code == 204
    assert_problem(await c.get("/v1/functions/hello", headers=h), 404, "function-not-found")


async def test_deploy_rejections(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    js = {**h, "content-type": "application/javascript"}
    body = assert_problem(
        await c.put("/v1/functions/bad", headers=js, content="SYNTAX"), 400, "invalid-code"
    )
    assert "line 2" in body["detail"] and "column 7" in body["detail"]
    assert body["line"] == 2 and body["column"] == 7
    assert_problem(await c.put("/v1/functions/e", headers=js, content=""), 422)
    assert_problem(await c.put("/v1/functions/e", headers=js, content=b"\xff\xfe"), 400)
    assert_problem(
        await c.put("/v1/functions/e", headers={**h, "content-type": "text/plain"}, content="x"),
        415,
    )
    r = await c.put("/v1/functions/e", headers=h, json={"code": HELLO, "timeout_ms": 10**7})
    assert_problem(r, 422)
    r = await c.put("/v1/functions/e", headers=h, json={"code": HELLO, "routes": ["/v1/keys"]})
    assert_problem(r, 400, "invalid-route")
    r = await c.put("/v1/functions/e", headers=h, json={"code": HELLO, "env": {"BAD KEY": "x"}})
    assert_problem(r, 422)
    for name in ["UPPER", "a_b", "..", "%2e%2e", "x" * 10_000, "%EF%BD%88i", "caf%C3%A9", "-a"]:
        r = await c.put(f"/v1/functions/{name}", headers=js, content=HELLO)
        assert 400 <= r.status_code < 500, (name, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await c.put("/v1/functions/..%2f..%2fetc", headers=js, content=HELLO)
    assert 400 <= r.status_code < 500


async def test_tenant_isolation(app_client: httpx.AsyncClient) -> None:
    c = app_client
    a = bearer(await register(c, "alice"))
    b = bearer(await register(c, "bob"))
    for tenant in ("alice", "bob"):
        await grant_hostless(c, tenant)
    r = await c.put("/v1/functions/bobs", headers=b, json={"code": HELLO, "routes": ["/bob/*"]})
    assert r.status_code == 201
    bkey = (await c.post("/v1/keys", headers=b, json={})).json()
    akey = (await c.post("/v1/keys", headers=a, json={})).json()
    # alice cannot see, overwrite, roll back, delete, read code or records of bob's function
    assert (await c.get("/v1/functions", headers=a)).json()["functions"] == []
    assert_problem(await c.get("/v1/functions/bobs", headers=a), 404)
    assert_problem(
        await c.put("/v1/functions/bobs", headers=a, json={"code": HELLO}), 409, "name-taken"
    )
    assert_problem(await c.post("/v1/functions/bobs/rollback", headers=a, json={"version": 1}), 404)
    assert_problem(await c.delete("/v1/functions/bobs", headers=a), 404)
    assert_problem(await c.get("/v1/functions/bobs/code", headers=a), 404)
    assert_problem(await c.get("/v1/functions/bobs/invocations", headers=a), 404)
    r = await c.put("/v1/functions/mine", headers=a, json={"code": HELLO, "routes": ["/bob/*"]})
    assert_problem(r, 409, "route-conflict")
    # nor bob's keys
    assert [k["id"] for k in (await c.get("/v1/keys", headers=a)).json()["keys"]] == [akey["id"]]
    assert_problem(await c.get(f"/v1/keys/{bkey['id']}", headers=a), 404)
    assert_problem(await c.delete(f"/v1/keys/{bkey['id']}", headers=a), 404)
    r = await c.post(f"/v1/keys/{bkey['id']}/renew", headers=a, json={"ttl_seconds": 60})
    assert_problem(r, 404)
    # alice's key (scope "*") does not reach bob's function
    assert_problem(await c.get("/fn/bobs", headers={"X-API-Key": akey["key"]}), 403)
    # bob's key still works
    assert (await c.get("/fn/bobs", headers={"X-API-Key": bkey["key"]})).status_code == 200
    assert (await c.get(f"/v1/keys/{bkey['id']}", headers=b)).json()["state"] == "active"


async def test_unknown_routes_and_methods(app_client: httpx.AsyncClient) -> None:
    assert_problem(await app_client.get("/nope"), 404, "not-found")
    assert_problem(await app_client.patch("/v1/keys"), 405, "method-not-allowed")
    assert_problem(await app_client.get("/v1/tenants"), 405)


async def test_ops_endpoints(app_client: httpx.AsyncClient) -> None:
    c = app_client
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert (await c.get("/readyz")).status_code == 200
    text = (await c.get("/metrics")).text
    for name in [
        "isogate_executors_busy",
        "isogate_executors ",
        "isogate_invocations_inflight",
        "isogate_cold_starts_total",
        "isogate_runtime_crashes_total",
    ]:
        assert name in text, name
    doc = (await c.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    from starlette.routing import Route

    for route in c.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        path = route.path.replace("{path:path}", "{path}").replace("{key:path}", "{key}")
        assert path in doc["paths"], path
        for method in route.methods or []:
            if method == "HEAD" and "GET" in (route.methods or []):
                continue  # Starlette adds HEAD to every GET route
            assert method.lower() in doc["paths"][path], (path, method)
