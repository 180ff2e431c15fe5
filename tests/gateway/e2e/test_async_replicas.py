"""Asynchronous invocations across two replicas sharing one SQL queue (PostgreSQL + Redis +
S3 by default): work accepted on either replica is run once by one of them, and a replica
restarted while it holds running and queued work loses none of it and runs none twice."""

from __future__ import annotations

import secrets
import time

import httpx

from .conftest import Tenant, unique
from .replicas import Pair, replicas_fixture, tenant_on
from .test_async_invocations import ASYNC

#: like test_async_invocations.COUNTER (counts its runs per ?k= in KV), but held until the
#: test writes the key ``go``: every run is still in progress when a replica is restarted,
#: however slowly the machine accepts and polls (an 800 ms pause was over before the test
#: saw it running, on a loaded machine). At most 40 looks: under the 50 subrequests.
HELD = """
export default { async fetch(req, env) {
  const k = new URL(req.url).searchParams.get('k');
  for (let i = 0; i < 40 && (await env.C.get('go')) === null; i++) {
    await new Promise(r => setTimeout(r, 500));
  }
  const n = Number(await env.C.get(k) ?? '0') + 1;
  await env.C.put(k, String(n));
  return new Response('run ' + n + ' ' + await req.text(), {status: 201});
} };
"""


replicas = replicas_fixture(
    "async",
    {
        "ISOGATE_ASYNC_CONCURRENCY": "2",
        "ISOGATE_ASYNC_POLL_INTERVAL_SECONDS": "0.1",
    },
)


def _status(t: Tenant, url: str, location: str) -> dict:
    r = httpx.get(url + location, headers=t.auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_accepted_on_both_run_once_through_a_restart(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("ar"))
    ns = unique("c")
    assert httpx.post(replicas.a.url + "/v1/kv", json={"name": ns}, headers=t.auth).is_success
    fn = unique("count")
    r = t.deploy(fn, HELD, bindings={"C": {"kv": ns}}, timeout_ms=30000)
    assert r.status_code == 201, r.text
    key = {"x-api-key": t.key(functions=[fn])["key"]}
    tag = secrets.token_hex(4)
    accepted: list[tuple[str, str]] = []
    for i in range(12):  # 4 run at once across the pair (2 each); the rest wait
        url = (replicas.a, replicas.b)[i % 2].url
        r = httpx.post(f"{url}/fn/{fn}?k={tag}-{i}", headers={**key, **ASYNC}, timeout=30)
        assert r.status_code == 202, r.text
        accepted.append((f"{tag}-{i}", r.headers["location"]))
    # both replicas at their concurrency (2 running each, 8 queued): restart A while it
    # holds running work; what it held is given back and run once
    deadline = time.monotonic() + 60
    while (views := [_status(t, replicas.b.url, loc) for _, loc in accepted]) and sum(
        v["status"] == "running" for v in views
    ) < 4:
        assert time.monotonic() < deadline, views
        time.sleep(0.1)
    assert sum(v["status"] == "queued" for v in views) == 8, views
    assert replicas.a.stop() == 0
    r = httpx.put(f"{replicas.b.url}/v1/kv/{ns}/keys/go", content=b"1", headers=t.auth)
    assert r.status_code == 204, r.text
    replicas.a.start()
    for k, loc in accepted:
        deadline = time.monotonic() + 90
        while (view := _status(t, replicas.b.url, loc))["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
        assert view["status"] == "succeeded", view
        assert view["response"]["body"] == "run 1 ", view  # never run twice
        assert view["attempts"] == 1, view  # a run given back at shutdown spends none
        r = httpx.get(f"{replicas.a.url}/v1/kv/{ns}/keys/{k}", headers=t.auth, timeout=30)
        assert r.text == "1", (k, r.text)
    # the result is the same from either replica; the other tenant sees nothing
    other = tenant_on(replicas, unique("ao"))
    for replica in (replicas.a, replicas.b):
        assert httpx.get(replica.url + accepted[0][1], headers=key).status_code == 200
        assert httpx.get(replica.url + accepted[0][1], headers=other.auth).status_code == 404
