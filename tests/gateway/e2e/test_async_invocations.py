"""Asynchronous invocations through a real gateway (Hypercorn on loopback, SQLite, real
runtime workers): ``Prefer: respond-async`` → 202 + Location, the result resource, a
gateway restart with work queued and running, a crashing function retried then failed,
cross-tenant 404, the per-tenant bound and quota counted once."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess

ASYNC = {"Prefer": "respond-async"}

# counts its runs per ?k= in KV after a pause: a run cut short by a restart counts nothing
COUNTER = """
export default { async fetch(req, env) {
  const k = new URL(req.url).searchParams.get('k');
  await new Promise(r => setTimeout(r, Number(new URL(req.url).searchParams.get('ms') ?? 0)));
  const n = Number(await env.C.get(k) ?? '0') + 1;
  await env.C.put(k, String(n));
  return new Response('run ' + n + ' ' + await req.text(), {status: 201, headers: {'x-run': String(n)}});
} };
"""
BINARY = """export default { fetch() { return new Response(new Uint8Array([0, 255, 1])) } };"""
HEAP_BOMB = """
export default { fetch() { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)); } };
"""


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[GatewayProcess]:
    g = GatewayProcess(
        tmp_path / "data",
        {
            "ISOGATE_ASYNC_CONCURRENCY": "1",
            "ISOGATE_ASYNC_MAX_ATTEMPTS": "2",
            "ISOGATE_ASYNC_MAX_QUEUED_PER_TENANT": "3",
            "ISOGATE_ASYNC_POLL_INTERVAL_SECONDS": "0.1",
        },
    )
    g.start()
    yield g
    assert g.stop() == 0, g.log.read_text()[-3000:]


def _wait(t: Tenant, location: str, within: float = 60) -> dict:
    deadline = time.monotonic() + within
    while True:
        r = t.http.get(location, headers=t.auth)
        assert r.status_code == 200, r.text
        view = r.json()
        if view["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


def _counter_fn(t: Tenant) -> tuple[str, dict[str, str], str]:
    ns = unique("c")
    assert t.http.post("/v1/kv", json={"name": ns}, headers=t.auth).status_code == 201
    fn = unique("count")
    r = t.deploy(fn, COUNTER, bindings={"C": {"kv": ns}}, timeout_ms=10000)
    assert r.status_code == 201, r.text
    return fn, {"x-api-key": t.key(functions=[fn])["key"]}, ns


def test_accept_then_result_by_token_and_key_not_by_others(gw: GatewayProcess) -> None:
    t = Tenant(gw.url, unique("at"))
    fn, key, _ = _counter_fn(t)
    r = t.http.post(f"/fn/{fn}?k=a", content=b"hello", headers={**key, **ASYNC})
    assert r.status_code == 202, r.text
    assert r.headers["preference-applied"] == "respond-async"
    location = r.headers["location"]
    assert (
        location
        == f"/v1/invocations/{r.json()['id']}"
        == f"/v1/invocations/{r.headers['x-invocation-id']}"
    )
    view = _wait(t, location)
    assert view["status"] == "succeeded", view
    assert view["attempts"] == 1
    assert view["response"]["status"] == 201
    assert view["response"]["body"] == "run 1 hello"
    assert ["x-run", "1"] in view["response"]["headers"]
    assert view["started_at"] >= view["created_at"] and view["duration_ms"] >= 0
    # the key that made the call reads it, as X-API-Key or Bearer
    assert t.http.get(location, headers=key).json()["status"] == "succeeded"
    bearer = {"Authorization": f"Bearer {key['x-api-key']}"}
    assert t.http.get(location, headers=bearer).status_code == 200
    # another key of the same tenant, another tenant, garbage: 404; nothing at all: 401
    other_key = {"x-api-key": t.key(functions=[fn])["key"]}
    assert t.http.get(location, headers=other_key).status_code == 404
    other = Tenant(gw.url, unique("ot"))
    r = other.http.get(location, headers=other.auth)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert other.http.get("/v1/invocations/inv_nothing", headers=other.auth).status_code == 404
    assert httpx.get(gw.url + location).status_code == 401
    # a synchronous call still runs synchronously
    r = t.http.get(f"/fn/{fn}?k=a", headers=key)
    assert r.status_code == 201 and r.text == "run 2 "


def test_binary_body_is_base64(gw: GatewayProcess) -> None:
    t = Tenant(gw.url, unique("bt"))
    fn = unique("bin")
    assert t.deploy(fn, BINARY).status_code == 201
    key = {"x-api-key": t.key(functions=[fn])["key"]}
    r = t.http.get(f"/fn/{fn}", headers={**key, "Prefer": "wait=5, respond-async"})
    assert r.status_code == 202, r.text
    view = _wait(t, r.headers["location"])
    assert view["status"] == "succeeded"
    assert base64.b64decode(view["response"]["body_base64"]) == b"\x00\xff\x01"


def test_queue_bound_and_quota_counted_once(gw: GatewayProcess) -> None:
    t = Tenant(gw.url, unique("qt"))
    fn, _, _ = _counter_fn(t)
    key = t.key(functions=[fn], quota={"invocations": 4, "period": "day"})["key"]
    h = {"x-api-key": key, **ASYNC}
    tag = secrets.token_hex(4)
    # concurrency 1: the first runs for a while, the next three wait; the bound is 3
    accepted = [t.http.post(f"/fn/{fn}?k={tag}&ms=1500", headers=h) for _ in range(3)]
    assert [r.status_code for r in accepted] == [202, 202, 202]
    r = t.http.post(f"/fn/{fn}?k={tag}", headers=h)
    assert r.status_code == 429 and r.json()["type"].endswith("async-queue-full"), r.text
    views = [_wait(t, a.headers["location"]) for a in accepted]
    assert [v["status"] for v in views] == ["succeeded"] * 3, views
    assert sorted(v["response"]["body"] for v in views) == ["run 1 ", "run 2 ", "run 3 "]
    # 3 accepted (the refused one was not counted, no run counted again): one left
    assert t.http.post(f"/fn/{fn}?k={tag}", headers=h).status_code == 202
    r = t.http.post(f"/fn/{fn}?k={tag}", headers=h)
    assert r.status_code == 429 and "async-queue-full" not in r.json()["type"], r.text


def test_restart_with_running_and_queued_work_completes_each_once(
    gw: GatewayProcess,
) -> None:
    t = Tenant(gw.url, unique("rt"))
    fn, key, ns = _counter_fn(t)
    tag = secrets.token_hex(4)
    h = {**key, **ASYNC}
    first = t.http.post(f"/fn/{fn}?k={tag}-1&ms=4000", headers=h)
    second = t.http.post(f"/fn/{fn}?k={tag}-2&ms=0", headers=h)
    assert first.status_code == 202 and second.status_code == 202
    deadline = time.monotonic() + 30
    while t.http.get(first.headers["location"], headers=t.auth).json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert t.http.get(second.headers["location"], headers=t.auth).json()["status"] == "queued"
    assert gw.stop() == 0  # mid-run: the running one is given back, the queued one waits
    gw.start()
    t2 = Tenant.__new__(Tenant)  # same tenant, a fresh login against the restarted gateway
    t2.http = httpx.Client(base_url=gw.url, timeout=60)
    r = t2.http.post("/v1/auth/token", json={"name": t.name, "password": "password-123"})
    t2.auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for accepted, k in ((first, f"{tag}-1"), (second, f"{tag}-2")):
        view = _wait(t2, accepted.headers["location"])
        assert view["status"] == "succeeded", view
        assert view["response"]["body"] == "run 1 ", view  # its effect happened once
        assert view["attempts"] == 1, view  # the interrupted run was given back, unspent
        r = t2.http.get(f"/v1/kv/{ns}/keys/{k}", headers=t2.auth)
        assert r.text == "1"


def test_crashing_function_is_retried_then_failed(gw: GatewayProcess) -> None:
    t = Tenant(gw.url, unique("ct"))
    fn = unique("bomb")
    assert t.deploy(fn, HEAP_BOMB).status_code == 201
    key = {"x-api-key": t.key(functions=[fn])["key"]}
    r = t.http.post(f"/fn/{fn}", headers={**key, **ASYNC})
    assert r.status_code == 202
    view = _wait(t, r.headers["location"], within=120)
    assert view["status"] == "failed", view
    assert view["attempts"] == 2, view  # ISOGATE_ASYNC_MAX_ATTEMPTS
    assert "crash" in (view["error"] or ""), view
    gw.wait_ready()
