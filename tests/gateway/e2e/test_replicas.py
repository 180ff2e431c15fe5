"""Two replicas over real HTTP sharing Redis, the metadata database and the blob store:
limits are exact across both under concurrent load; revocations, deploys, rollbacks and
deletes made on A are seen by B within a second; cold starts fetch code once."""

from __future__ import annotations

import httpx

from .conftest import unique
from .replicas import Pair, hammer, metric, poll, replicas_fixture, tenant_on

HELLO = "export default { fetch(req, env) { return new Response('v' + env.V) } };"


replicas = replicas_fixture("replicas")


def deploy(t, fn: str, version: str) -> int:
    r = t.deploy(fn, HELLO, env={"V": version})
    assert r.status_code == 201, r.text
    return r.json()["version"]


async def test_rate_limit_exact_across_replicas(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("rl"))
    fn = unique("fn")
    deploy(t, fn, "1")
    key = t.key(rate_limit={"requests": 20, "per_seconds": 3600})["key"]
    statuses = await hammer([replicas.a.url, replicas.b.url], f"/fn/{fn}", key, 80)
    assert statuses == {200: 20, 429: 60}


async def test_uses_exact_across_replicas(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("uses"))
    fn = unique("fn")
    deploy(t, fn, "1")
    key = t.key(uses=17, rate_limit={"requests": 10000, "per_seconds": 1})["key"]
    statuses = await hammer([replicas.a.url, replicas.b.url], f"/fn/{fn}", key, 70)
    assert statuses == {200: 17, 429: 53}
    r = httpx.get(f"{replicas.b.url}/fn/{fn}", headers={"x-api-key": key})
    assert r.status_code == 429 and r.json()["type"].endswith("uses-exhausted")


async def test_period_quota_exact_across_replicas(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("quota"))
    fn = unique("fn")
    deploy(t, fn, "1")
    key = t.key(
        quota={"invocations": 13, "period": "day"},
        rate_limit={"requests": 10000, "per_seconds": 1},
    )["key"]
    statuses = await hammer([replicas.a.url, replicas.b.url], f"/fn/{fn}", key, 60)
    assert statuses == {200: 13, 429: 47}
    r = httpx.get(f"{replicas.a.url}/fn/{fn}", headers={"x-api-key": key})
    assert r.status_code == 429 and r.headers["retry-after"]


def test_revoked_on_a_refused_by_b_within_a_second(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("rev"))
    fn = unique("fn")
    deploy(t, fn, "1")
    created = t.key()
    key, key_id = created["key"], created["id"]
    with httpx.Client(base_url=replicas.b.url, timeout=30) as b:
        for _ in range(2):  # B has the lease cached (local and in Redis)
            assert b.get(f"/fn/{fn}", headers={"x-api-key": key}).status_code == 200
        r = t.http.delete(f"/v1/keys/{key_id}", headers=t.auth)
        assert r.status_code == 200, r.text
        assert poll(lambda: b.get(f"/fn/{fn}", headers={"x-api-key": key}).status_code == 403)
        assert b.get(f"/fn/{fn}", headers={"x-api-key": key}).json()["type"].endswith("key-revoked")


def test_renewed_on_a_is_seen_by_b(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("ren"))
    fn = unique("fn")
    deploy(t, fn, "1")
    created = t.key(ttl_seconds=2)
    key, key_id = created["key"], created["id"]
    with httpx.Client(base_url=replicas.b.url, timeout=30) as b:
        assert b.get(f"/fn/{fn}", headers={"x-api-key": key}).status_code == 200
        assert poll(
            lambda: b.get(f"/fn/{fn}", headers={"x-api-key": key}).status_code == 403, within=4
        )  # expired (B checks the cached lease's expiry)
        r = t.http.post(f"/v1/keys/{key_id}/renew", headers=t.auth, json={"ttl_seconds": 600})
        assert r.status_code == 200, r.text
        assert poll(lambda: b.get(f"/fn/{fn}", headers={"x-api-key": key}).status_code == 200)


def test_deploy_rollback_delete_on_a_seen_by_b_within_a_second(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("dep"))
    fn = unique("fn")
    deploy(t, fn, "1")
    key = t.key()["key"]
    h = {"x-api-key": key}
    with httpx.Client(base_url=replicas.b.url, timeout=30) as b:
        assert b.get(f"/fn/{fn}", headers=h).text == "v1"  # B caches version 1
        assert deploy(t, fn, "2") == 2
        assert poll(lambda: b.get(f"/fn/{fn}", headers=h).text == "v2")
        r = t.http.post(f"/v1/functions/{fn}/rollback", headers=t.auth, json={"version": 1})
        assert r.status_code == 200, r.text
        assert poll(lambda: b.get(f"/fn/{fn}", headers=h).text == "v1")
        assert t.http.delete(f"/v1/functions/{fn}", headers=t.auth).status_code == 204
        assert poll(lambda: b.get(f"/fn/{fn}", headers=h).status_code == 404)


async def test_cold_start_on_b_fetches_code_once(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("cold"))
    fn = unique("fn")
    code = HELLO.replace("'v'", f"'{fn}-v'")  # source (so sha256) of this test only
    assert t.deploy(fn, code, env={"V": "1"}).status_code == 201
    key = t.key()["key"]

    def loads(url: str) -> tuple[float, float]:
        name = "isogate_code_loads_total"
        return metric(url, name, 'source="shared"'), metric(url, name, 'source="blob"')

    b0, a0 = loads(replicas.b.url), loads(replicas.a.url)
    statuses = await hammer([replicas.b.url], f"/fn/{fn}", key, 12, concurrency=12)
    assert statuses == {200: 12}
    b1 = loads(replicas.b.url)
    # One fetch for 12 concurrent cold calls, from Redis: the deploy on A shared it.
    assert (b1[0] - b0[0], b1[1] - b0[1]) == (1, 0)
    statuses = await hammer([replicas.a.url], f"/fn/{fn}", key, 6, concurrency=6)
    assert statuses == {200: 6}
    a1 = loads(replicas.a.url)
    assert (a1[0] - a0[0], a1[1] - a0[1]) == (0, 0)  # A kept what it deployed in memory


def test_metrics_and_readiness_with_redis(replicas: Pair) -> None:
    for url in (replicas.a.url, replicas.b.url):
        assert httpx.get(url + "/readyz").status_code == 200
        assert metric(url, "isogate_redis_up") == 1
        assert metric(url, "isogate_quota_fail_open_total") == 0
