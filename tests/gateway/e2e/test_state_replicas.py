"""Secrets and KV across two replicas (PostgreSQL + Redis + S3 by default): a secret set on A
is in env on B at its next call, replaced on B is seen on A, deleted is gone on both,
without a redeploy; the function caches are long (30 s) so only invalidation explains it."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from pathlib import Path

import httpx

from isogate.config import Settings
from isogate.registry.blobs import open_blob_store
from tests.state.test_kv_blobs import objects

from .conftest import unique
from .replicas import Pair, metric, poll, replicas_fixture, tenant_on
from .test_kv_binding import KV_BIG

SHOW = "export default { fetch(req, env) { return new Response(env.TOKEN ?? 'none') } };"
MASTER = "r1:" + base64.b64encode(os.urandom(32)).decode()


replicas = replicas_fixture("secrets", {"ISOGATE_SECRETS_MASTER_KEY": MASTER})


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
    # another tenant: the namespace is not there for it, from either replica's API or a
    # binding (the same name is its own, empty)
    other = tenant_on(replicas, unique("kvo"))
    for replica in (replicas.a, replicas.b):
        r = httpx.get(replica.url + "/v1/kv/shared/keys/a", headers=other.auth)
        assert r.status_code == 404 and value not in r.text
    r = httpx.put(
        replicas.b.url + f"/v1/functions/{unique('kvfn')}",
        json={"code": KV_RW, "bindings": {"CACHE": {"kv": "shared"}}},
        headers=other.auth,
        timeout=60,
    )
    assert r.status_code == 400 and r.json()["binding"] == "CACHE"


def kv_objects(pair: Pair, scratch: Path) -> set[str]:
    """The KV value blobs in the pair's object store (S3, or the shared blob folder)."""
    s3 = {k[len("ISOGATE_") :].lower(): v for k, v in pair.a.env.items() if "_S3_" in k}
    settings = Settings(data_dir=pair.a.data_dir if not s3 else scratch, **s3)

    async def run() -> set[str]:
        async with open_blob_store(settings) as blobs:
            return await objects(blobs.scoped("kv"))

    return asyncio.run(run())


def test_large_kv_values_across_replicas(replicas: Pair, tmp_path: Path) -> None:
    """A value above kv_inline_max_bytes written by a binding on B is one object of the
    shared store (S3 on the production layout); A reads the same bytes through its binding
    (stream, arrayBuffer) and its admin API; overwritten on A, B reads the new bytes and
    the old object is gone; deleted on B, nothing is left."""
    t = tenant_on(replicas, unique("kvbig"))
    assert httpx.post(replicas.a.url + "/v1/kv", json={"name": "big"}, headers=t.auth).is_success
    fn = unique("kvbig")
    r = t.deploy(fn, KV_BIG, bindings={"CACHE": {"kv": "big"}})
    assert r.status_code == 201, r.text
    key = {"x-api-key": t.key(functions=[fn])["key"]}
    before = kv_objects(replicas, tmp_path)
    value = os.urandom(300_000)
    r = httpx.put(f"{replicas.b.url}/fn/{fn}?k=v", content=value, headers=key, timeout=60)
    assert r.status_code == 200, r.text
    first = kv_objects(replicas, tmp_path) - before
    assert len(first) == 1
    gets = metric(replicas.a.url, "isogate_kv_operations_total", 'op="get",outcome="ok"')
    for type_ in ("stream", "arrayBuffer"):
        r = httpx.get(f"{replicas.a.url}/fn/{fn}?k=v&type={type_}", headers=key, timeout=60)
        assert r.status_code == 200 and r.content == value, type_
    r = httpx.get(replicas.a.url + "/v1/kv/big/keys/v", headers=t.auth, timeout=60)
    assert r.status_code == 200 and r.content == value
    after = metric(replicas.a.url, "isogate_kv_operations_total", 'op="get",outcome="ok"')
    assert after == gets + 3

    newer = os.urandom(200_000)
    r = httpx.put(replicas.a.url + "/v1/kv/big/keys/v", content=newer, headers=t.auth, timeout=60)
    assert r.status_code == 204, r.text
    r = httpx.get(f"{replicas.b.url}/fn/{fn}?k=v&type=arrayBuffer", headers=key, timeout=60)
    assert r.content == newer
    now = kv_objects(replicas, tmp_path) - before
    assert len(now) == 1 and not now & first
    assert httpx.delete(replicas.b.url + "/v1/kv/big/keys/v", headers=t.auth).status_code == 204
    assert kv_objects(replicas, tmp_path) - before == set()
    r = httpx.get(f"{replicas.a.url}/fn/{fn}?k=v", headers=key, timeout=60)
    assert r.status_code == 404
