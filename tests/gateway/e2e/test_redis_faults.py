"""Redis down and back, over real HTTP, on a private ``redis-server`` killed and restarted
on the same port: fail-closed answers keyed invocations with a 503 problem (/readyz stays
green: public functions still serve), fail-open keeps serving with the local limiter and
counts it; both recover by themselves when Redis returns, without restarting isogate."""

from __future__ import annotations

from pathlib import Path

import httpx

from .conftest import Tenant, unique
from .replicas import JWT_SECRET, Replica, metric, poll

HELLO = "export default { fetch() { return new Response('ok') } };"


def gateway(root: Path, name: str, redis_url: str, mode: str) -> Replica:
    gw = Replica(
        root / name,
        {
            "ISOGATE_REDIS_URL": redis_url,
            "ISOGATE_REDIS_PREFIX": "fault:",
            "ISOGATE_REDIS_FAILURE_MODE": mode,
            "ISOGATE_REDIS_TIMEOUT_SECONDS": "0.3",
            "ISOGATE_JWT_SECRET": JWT_SECRET,
        },
        name,
    )
    gw.start()
    return gw


def test_redis_down_fail_closed_and_open_then_recover(tmp_path: Path, redis_server_factory):
    redis = redis_server_factory()
    closed = gateway(tmp_path, "closed", redis.url, "closed")
    opened = gateway(tmp_path, "open", redis.url, "open")
    try:
        keys: dict[str, str] = {}
        for gw in (closed, opened):
            t = Tenant(gw.url, unique("fault"))
            assert t.deploy("hello", HELLO).status_code == 201
            assert t.deploy("pub", HELLO, public=True).status_code == 201
            keys[gw.url] = t.key(rate_limit={"requests": 3, "per_seconds": 3600})["key"]
            r = httpx.get(gw.url + "/fn/hello", headers={"x-api-key": keys[gw.url]})
            assert r.status_code == 200 and r.headers["ratelimit-policy"]
            t.http.close()

        def call(gw: Replica, name: str = "hello") -> httpx.Response:
            return httpx.get(f"{gw.url}/fn/{name}", headers={"x-api-key": keys[gw.url]}, timeout=30)

        redis.stop()

        # fail-closed: a clear 503 problem for keyed calls; public functions still serve
        r = call(closed)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == 503 and "Redis" in body["detail"]
        assert r.headers["retry-after"]
        assert call(closed, "pub").status_code == 200
        assert httpx.get(closed.url + "/readyz").status_code == 200  # public ones serve
        assert metric(closed.url, "isogate_redis_failures_total", 'component="limiter"') >= 1
        assert metric(closed.url, "isogate_redis_up") == 0

        # fail-open: the local limiter admits (and still limits: 3 per hour here)
        statuses = [call(opened).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert metric(opened.url, "isogate_quota_fail_open_total") == 5
        assert metric(opened.url, "isogate_redis_failures_total", 'component="limiter"') >= 1
        assert httpx.get(opened.url + "/readyz").status_code == 200

        redis.start()  # same port, empty (no persistence): no restart of isogate

        assert poll(lambda: call(closed).status_code == 200, within=15, step=0.1)
        assert poll(lambda: metric(opened.url, "isogate_redis_up") == 1, within=15, step=0.1)
        # the limiter retries Redis on its own schedule; until then it still fails open
        # (and the local bucket is empty): poll until Redis's fresh bucket admits
        assert poll(lambda: call(opened).status_code == 200, within=15, step=0.1)
        before = metric(opened.url, "isogate_quota_fail_open_total")
        assert call(opened).status_code == 200  # shared again: counted in Redis, not locally
        assert metric(opened.url, "isogate_quota_fail_open_total") == before
    finally:
        codes = [closed.stop(), opened.stop()]
    assert codes == [0, 0], closed.log.read_text()[-3000:] + opened.log.read_text()[-3000:]
