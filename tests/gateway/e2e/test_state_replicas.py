"""Secrets and KV across two replicas (PostgreSQL + Redis + S3 by default): a secret set on A
is in env on B at its next call, replaced on B is seen on A, deleted is gone on both,
without a redeploy; the function caches are long (30 s) so only invalidation explains it."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator

import httpx
import pytest

from .conftest import unique
from .replicas import BACKENDS, Pair, poll, start_pair, tenant_on

SHOW = "export default { fetch(req, env) { return new Response(env.TOKEN ?? 'none') } };"
MASTER = "r1:" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module", params=BACKENDS)
def replicas(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    redis_prefix: str,
) -> Iterator[Pair]:
    pair = start_pair(
        request,
        tmp_path_factory.mktemp("sec-replicas"),
        redis_url,
        f"{redis_prefix}secrets-{request.param}:",
        request.param,
        extra={"ISOGATE_SECRETS_MASTER_KEY": MASTER},
    )
    yield pair
    codes = pair.stop()
    assert codes == [0, 0], (pair.a.log.read_text()[-3000:], pair.b.log.read_text()[-3000:])


def test_secret_changes_reach_the_other_replica(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("sec"))
    fn = unique("fn")
    assert t.deploy(fn, SHOW).status_code == 201
    key = t.key(functions=[fn])["key"]

    def on(url: str) -> str:
        r = httpx.get(f"{url}/fn/{fn}", headers={"x-api-key": key}, timeout=30)
        assert r.status_code == 200, r.text
        return r.text

    assert on(replicas.a.url) == "none" and on(replicas.b.url) == "none"  # both cached
    path = f"/v1/functions/{fn}/secrets/TOKEN"
    one, two = "one-" + secrets.token_hex(8), "two-" + secrets.token_hex(8)
    r = httpx.put(replicas.a.url + path, json={"value": one}, headers=t.auth)
    assert r.status_code == 200, r.text
    assert poll(lambda: on(replicas.b.url) == one, within=5)
    r = httpx.put(replicas.b.url + path, json={"value": two}, headers=t.auth)
    assert r.status_code == 200, r.text
    assert poll(lambda: on(replicas.a.url) == two, within=5)
    assert on(replicas.b.url) == two
    assert httpx.delete(replicas.a.url + path, headers=t.auth).status_code == 204
    assert poll(lambda: on(replicas.b.url) == "none", within=5)
    for replica in (replicas.a, replicas.b):
        assert two not in httpx.get(replica.url + "/metrics").text
        assert two not in replica.log.read_text()


KV_RW = """
export default { async fetch(req, env) {
  const u = new URL(req.url);
  if (req.method === 'PUT') { await env.CACHE.put(u.searchParams.get('k'), await req.text()); return new Response('ok'); }
  return new Response(await env.CACHE.get(u.searchParams.get('k')) ?? 'none');
} };
"""


def test_kv_across_replicas(replicas: Pair) -> None:
    """KV written by a function on B is read by the function on A and by A's admin API
    at once (reads go to the shared database), and the binding is checked on either."""
    t = tenant_on(replicas, unique("kv"))
    r = httpx.post(replicas.b.url + "/v1/kv", json={"name": "shared"}, headers=t.auth)
    assert r.status_code == 201, r.text
    fn = unique("kvfn")
    r = httpx.put(
        replicas.a.url + f"/v1/functions/{fn}",
        json={"code": KV_RW, "bindings": {"CACHE": {"kv": "shared"}}},
        headers=t.auth,
        timeout=60,
    )
    assert r.status_code == 201, r.text
    key = {"x-api-key": t.key(functions=[fn])["key"]}
    value = "v-" + secrets.token_hex(6)
    r = httpx.put(f"{replicas.b.url}/fn/{fn}?k=a", content=value, headers=key, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.get(f"{replicas.a.url}/fn/{fn}?k=a", headers=key, timeout=30)
    assert r.text == value
    r = httpx.get(replicas.a.url + "/v1/kv/shared/keys/a", headers=t.auth)
    assert r.content == value.encode()
    r = httpx.put(
        replicas.b.url + f"/v1/functions/{unique('kvfn')}",
        json={"code": KV_RW, "bindings": {"CACHE": {"kv": "missing"}}},
        headers=t.auth,
        timeout=60,
    )
    assert r.status_code == 400 and r.json()["binding"] == "CACHE"
