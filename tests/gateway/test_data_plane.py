"""Data plane over the in-process app (fake runtime): keys, limits, outcome mapping,
route patterns, what the function receives, invocation records, metrics."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from .conftest import assert_problem, assign_host, bearer, grant_hostless, register

HELLO = "export default { fetch() { return new Response('hi') } }"


async def setup(c: httpx.AsyncClient, code: str = HELLO, **deploy) -> tuple[dict, dict]:
    h = bearer(await register(c, "acme"))
    r = await c.put("/v1/functions/hello", headers=h, json={"code": code, **deploy})
    assert r.status_code == 201, r.text
    return h, deploy


async def new_key(c: httpx.AsyncClient, h: dict, **body) -> str:
    r = await c.post("/v1/keys", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()["key"]


async def test_invoke_passes_request_and_returns_response(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h, _ = await setup(c, env={"GREETING": "hey"})
    key = await new_key(c, h)
    r = await c.post(
        "/fn/hello/some/path?q=1",
        headers={"X-API-Key": key, "X-Extra": "v"},
        content=b"payload",
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-invocation-id"].startswith("inv_")
    assert r.headers["x-custom"] == "yes"
    got = r.json()
    assert got["method"] == "POST"
    assert got["url"] == "http://gw.test/some/path?q=1"  # the mount prefix is cut
    assert got["headers"]["x-forwarded-prefix"] == "/fn/hello"
    assert got["body"] == "payload"
    assert got["headers"]["x-extra"] == "v"
    assert "x-api-key" not in got["headers"]  # the key is not handed to the function
    assert got["env"] == {"GREETING": "hey"}
    # Authorization: Bearer works too
    r = await c.get("/fn/hello", headers=bearer(key))
    assert r.status_code == 200 and "authorization" not in r.json()["headers"]
    for name in ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining"):
        assert name in r.headers


async def test_key_errors(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h, _ = await setup(c)
    assert_problem(await c.get("/fn/hello"), 401, "invalid-api-key")
    assert_problem(await c.get("/fn/hello", headers={"X-API-Key": "isg_nope"}), 401)
    assert_problem(await c.get("/fn/nothing", headers={"X-API-Key": "isg_nope"}), 404)
    assert_problem(await c.get("/fn/..%2f..%2fetc"), 404)
    assert_problem(await c.get("/fn/" + "x" * 10_000), 404)
    scoped = await new_key(c, h, functions=["other"])
    r = await c.get("/fn/hello", headers={"X-API-Key": scoped})
    assert_problem(r, 403, "key-out-of-scope")
    assert "RateLimit-Policy" in r.headers
    r = await c.post("/v1/keys", headers=h, json={"ttl_seconds": 1})
    expiring = r.json()["key"]
    assert (await c.get("/fn/hello", headers={"X-API-Key": expiring})).status_code == 200
    await asyncio.sleep(1.1)
    assert_problem(await c.get("/fn/hello", headers={"X-API-Key": expiring}), 403, "key-expired")
    # revoked: refused at once, even though the lease was cached a moment ago
    r = await c.post("/v1/keys", headers=h, json={})
    kid, key = r.json()["id"], r.json()["key"]
    assert (await c.get("/fn/hello", headers={"X-API-Key": key})).status_code == 200
    await c.delete(f"/v1/keys/{kid}", headers=h)
    assert_problem(await c.get("/fn/hello", headers={"X-API-Key": key}), 403, "key-revoked")


async def test_public_function_needs_no_key(app_client: httpx.AsyncClient) -> None:
    c = app_client
    await setup(c, public=True)
    r = await c.get("/fn/hello")
    assert r.status_code == 200 and "x-invocation-id" in r.headers


async def test_rate_limit_exact_under_concurrency(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h, _ = await setup(c)
    key = await new_key(c, h, rate_limit={"requests": 10, "per_seconds": 3600})
    rs = await asyncio.gather(*(c.get("/fn/hello", headers={"X-API-Key": key}) for _ in range(50)))
    codes = sorted(r.status_code for r in rs)
    assert codes.count(200) == 10 and codes.count(429) == 40
    rejected = next(r for r in rs if r.status_code == 429)
    assert_problem(rejected, 429, "rate-limited")
    assert int(rejected.headers["retry-after"]) >= 1
    assert rejected.headers["ratelimit"].startswith('"rate";r=0;')


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"uses": 3}, "uses-exhausted"),
        ({"quota": {"invocations": 3, "period": "day"}}, "quota-exceeded"),
    ],
)
async def test_uses_and_quota(app_client: httpx.AsyncClient, body: dict, slug: str) -> None:
    c = app_client
    h, _ = await setup(c)
    key = await new_key(c, h, **body)
    rs = await asyncio.gather(*(c.get("/fn/hello", headers={"X-API-Key": key}) for _ in range(20)))
    assert sorted(r.status_code for r in rs).count(200) == 3
    assert_problem(await c.get("/fn/hello", headers={"X-API-Key": key}), 429, slug)
    metrics = (await c.get("/metrics")).text
    reason = "uses" if slug == "uses-exhausted" else "quota"
    assert f'isogate_quota_rejections_total{{reason="{reason}"}} 18.0' in metrics


async def test_oversized_request_consumes_nothing(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h, _ = await setup(c)
    key = await new_key(c, h, uses=1)
    big = b"x" * ((1 << 20) + 1)
    r = await c.post("/fn/hello", headers={"X-API-Key": key}, content=big)
    assert_problem(r, 413, "body-too-large")
    assert r.headers["x-uses-remaining"] == "1"  # keyed refusals still carry the limits
    assert r.headers["ratelimit"].startswith('"rate";r=600;')
    assert r.headers["connection"] == "close"  # the unread body must not stall the connection
    assert (await c.post("/fn/hello", headers={"X-API-Key": key}, content=b"ok")).status_code == 200


@pytest.mark.parametrize(
    ("marker", "status", "slug", "retry"),
    [
        ("THROW", 500, "function-error", False),
        ("SLEEP", 504, "timeout", False),
        ("CRASH", 502, "runtime-crashed", False),
        ("BUSY", 503, "overloaded", True),
        ("QUARANTINE", 503, "quarantined", True),
        ("BIG", 502, "response-too-large", False),
    ],
)
async def test_outcome_mapping(
    app_client: httpx.AsyncClient, marker: str, status: int, slug: str, retry: bool
) -> None:
    c = app_client
    h, _ = await setup(c, code=HELLO + "//" + marker)
    key = await new_key(c, h)
    r = await c.get("/fn/hello", headers={"X-API-Key": key})
    assert_problem(r, status, slug)
    assert ("retry-after" in r.headers) is retry
    assert r.headers["x-invocation-id"].startswith("inv_")
    recs = (await c.get("/v1/functions/hello/invocations", headers=h)).json()["invocations"]
    assert recs[0]["id"] == r.headers["x-invocation-id"]
    assert recs[0]["status"] == status
    if marker == "THROW":
        assert recs[0]["logs"] == ["before the error"] and "boom" in recs[0]["error"]


async def test_route_patterns(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h = bearer(await register(c, "acme"))
    await grant_hostless(c, "acme")
    await assign_host(c, "example.com", "acme")
    spec = {"code": HELLO, "routes": ["/api/users/*", "example.com/exact"], "public": True}
    assert (await c.put("/v1/functions/hello", headers=h, json=spec)).status_code == 201
    r = await c.get("/api/users/42?x=1")
    # reached through its own pattern: the full path, no prefix header
    assert r.status_code == 200 and r.json()["url"] == "http://gw.test/api/users/42?x=1"
    assert "x-forwarded-prefix" not in r.json()["headers"]
    assert_problem(await c.get("/api/other"), 404)
    assert_problem(await c.get("/exact"), 404)  # wrong host
    r = await c.get("/exact", headers={"host": "example.com:8080"})
    assert r.status_code == 200


async def test_records_and_metrics(app_client: httpx.AsyncClient) -> None:
    c = app_client
    h, _ = await setup(c)
    key = await new_key(c, h)
    text = (await c.get("/metrics")).text  # deployed, never invoked: its series start at 0
    assert 'isogate_invocations_total{code="200",function="hello"} 0.0' in text
    assert 'isogate_invocation_duration_seconds_count{function="hello"} 0.0' in text
    for _ in range(3):
        assert (await c.get("/fn/hello", headers={"X-API-Key": key})).status_code == 200
    recs = (await c.get("/v1/functions/hello/invocations", headers=h)).json()["invocations"]
    assert len(recs) == 3 and recs[0]["logs"] == ["hello from the fake"]
    assert {r["status"] for r in recs} == {200}
    text = (await c.get("/metrics")).text
    assert 'isogate_invocations_total{code="200",function="hello"} 3.0' in text
    assert 'isogate_invocation_duration_seconds_count{function="hello"} 3.0' in text
    doc = json.loads((await c.get("/openapi.json")).text)
    assert "/fn/{name}" in doc["paths"]


async def test_shortcut_and_router_answer_alike(app_client: httpx.AsyncClient) -> None:
    """/fn/ requests skip the router (gateway.invoke.DataPlane); the unusual ones still
    reach it and get its answers."""
    c = app_client
    h, _ = await setup(c)
    key = await new_key(c, h)
    for path, seen in (("/fn/hello", "/"), ("/fn/hello/", "/"), ("/fn/hello/a/b", "/a/b")):
        r = await c.get(path, headers={"X-API-Key": key})
        assert r.status_code == 200 and r.json()["url"] == "http://gw.test" + seen
    assert_problem(await c.request("TRACE", "/fn/hello", headers={"X-API-Key": key}), 405)
    assert_problem(await c.get("/fn/"), 404)
    assert_problem(await c.get("/fn//hello"), 404)


async def test_redeploy_after_delete_serves_the_new_env(app_client: httpx.AsyncClient) -> None:
    """Same name, same code, version 1 again after a delete: the new env is what runs."""
    c = app_client
    h, _ = await setup(c, env={"V": "old"}, public=True)
    assert (await c.get("/fn/hello")).json()["env"] == {"V": "old"}
    assert (await c.delete("/v1/functions/hello", headers=h)).status_code in (200, 204)
    r = await c.put(
        "/v1/functions/hello", headers=h, json={"code": HELLO, "env": {"V": "new"}, "public": True}
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    assert (await c.get("/fn/hello")).json()["env"] == {"V": "new"}
