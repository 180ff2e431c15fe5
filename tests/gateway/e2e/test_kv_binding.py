"""KV from functions through a real gateway (embedded default): the Workers KV API on a
bound namespace (get in every type, getWithMetadata, put with metadata and TTL, delete,
list with prefix and cursors), read back through the admin API; another tenant's
namespace cannot be bound, and its own binding never reaches another tenant's data."""

from __future__ import annotations

import json

from .conftest import Tenant, unique
from .server import GatewayProcess

KV_CODE = r"""
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const out = {};
    await env.CACHE.put('greeting', 'héllo', { metadata: { lang: 'fr' }, expirationTtl: 3600 });
    await env.CACHE.put('bin', new Uint8Array([0, 255, 7]));
    await env.CACHE.put('obj', JSON.stringify({ a: 1 }));
    for (const k of ['user:1', 'user:2', 'user:3']) await env.CACHE.put(k, k);
    out.text = await env.CACHE.get('greeting');
    out.json = await env.CACHE.get('obj', 'json');
    out.typed = await env.CACHE.get('obj', { type: 'json', cacheTtl: 60 });
    out.bin = Array.from(new Uint8Array(await env.CACHE.get('bin', 'arrayBuffer')));
    out.stream = await new Response(await env.CACHE.get('greeting', 'stream')).text();
    out.meta = await env.CACHE.getWithMetadata('greeting');
    out.missing = await env.CACHE.get('nope');
    const p1 = await env.CACHE.list({ prefix: 'user:', limit: 2 });
    const p2 = await env.CACHE.list({ prefix: 'user:', limit: 2, cursor: p1.cursor });
    out.pages = [p1.keys.map(k => k.name), p1.list_complete, p2.keys.map(k => k.name), p2.list_complete];
    await env.CACHE.delete('user:2');
    out.afterDelete = (await env.CACHE.list({ prefix: 'user:' })).keys.map(k => k.name);
    try { await env.CACHE.put('k'.repeat(513), 'x'); out.longKey = 'accepted'; }
    catch (e) { out.longKey = e.constructor.name; }
    try { await env.CACHE.get('x', 'yaml'); } catch (e) { out.badType = e.constructor.name; }
    return Response.json(out);
  }
};
"""


def test_kv_binding_workers_api(gateway: GatewayProcess, tenant: Tenant) -> None:
    r = tenant.http.post("/v1/kv", json={"name": "cache"}, headers=tenant.auth)
    assert r.status_code == 201, r.text
    fn = unique("kvfn")
    r = tenant.deploy(fn, KV_CODE, bindings={"CACHE": {"kv": "cache"}})
    assert r.status_code == 201, r.text
    key = tenant.key(functions=[fn])["key"]
    r = tenant.http.get(f"/fn/{fn}", headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["text"] == "héllo"
    assert out["json"] == {"a": 1} and out["typed"] == {"a": 1}
    assert out["bin"] == [0, 255, 7]
    assert out["stream"] == "héllo"
    assert out["meta"] == {"value": "héllo", "metadata": {"lang": "fr"}}
    assert out["missing"] is None
    assert out["pages"] == [["user:1", "user:2"], False, ["user:3"], True]
    assert out["afterDelete"] == ["user:1", "user:3"]
    assert out["longKey"] == "TypeError" and out["badType"] == "TypeError"

    # the same data through the admin API
    r = tenant.http.get("/v1/kv/cache/keys/greeting", headers=tenant.auth)
    assert r.status_code == 200 and r.content == "héllo".encode()
    assert json.loads(r.headers["x-kv-metadata"]) == {"lang": "fr"}
    r = tenant.http.get("/v1/kv/cache/keys/bin", headers=tenant.auth)
    assert r.content == b"\x00\xff\x07"

    # another tenant with a namespace of the same name sees none of it, and cannot bind ours
    other = Tenant(gateway.url, unique("kvother"))
    try:
        assert (
            other.http.post("/v1/kv", json={"name": "cache"}, headers=other.auth).status_code == 201
        )
        r = other.http.get("/v1/kv/cache/keys", headers=other.auth)
        assert r.json()["keys"] == []
        r = other.deploy(unique("kvfn"), KV_CODE, bindings={"CACHE": {"kv": "elsewhere"}})
        assert r.status_code == 400 and r.json()["binding"] == "CACHE"
    finally:
        other.http.close()


#: PUT stores the body's bytes; GET answers the value read as ?type= (text, stream or
#: arrayBuffer), and its metadata in a header
KV_BIG = r"""
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const k = u.searchParams.get('k');
    if (req.method === 'PUT') {
      await env.CACHE.put(k, await req.arrayBuffer(), { metadata: { n: 1 } });
      return new Response('ok');
    }
    const type = u.searchParams.get('type') || 'text';
    const { value, metadata } = await env.CACHE.getWithMetadata(k, type);
    if (value === null) return new Response('none', { status: 404 });
    return new Response(value, { headers: { 'x-meta': JSON.stringify(metadata) } });
  }
};
"""


def kv_files(gw: GatewayProcess) -> set[str]:
    """The KV value blobs of the embedded default's object store (a folder)."""
    folder = gw.data_dir / "blobs" / "kv"
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_large_values_through_bindings_and_api(gateway: GatewayProcess, tenant: Tenant) -> None:
    """A value above kv_inline_max_bytes (64 KiB) is a file of the blob folder: written by
    a binding, it reads back the same through the binding (text, stream, arrayBuffer) and
    the admin API; an overwrite and a delete remove its file."""
    assert tenant.http.post("/v1/kv", json={"name": "big"}, headers=tenant.auth).is_success
    fn = unique("kvbig")
    r = tenant.deploy(fn, KV_BIG, bindings={"CACHE": {"kv": "big"}})
    assert r.status_code == 201, r.text
    key = {"x-api-key": tenant.key(functions=[fn])["key"]}
    before = kv_files(gateway)
    text = ("é-" + "0123456789abcdef" * 8) * 1500  # ~200 KB of UTF-8
    binary = bytes(range(256)) * 600  # every byte value, 150 KB
    for k, value in (("text", text.encode()), ("bin", binary)):
        r = tenant.http.put(f"/fn/{fn}?k={k}", content=value, headers=key)
        assert r.status_code == 200, r.text
    added = kv_files(gateway) - before
    assert len(added) == 2
    r = tenant.http.get(f"/fn/{fn}?k=text", headers=key)
    assert r.status_code == 200 and r.text == text and r.headers["x-meta"] == '{"n":1}'
    for type_ in ("stream", "arrayBuffer"):
        r = tenant.http.get(f"/fn/{fn}?k=bin&type={type_}", headers=key)
        assert r.status_code == 200 and r.content == binary, type_
    r = tenant.http.get("/v1/kv/big/keys/bin", headers=tenant.auth)
    assert r.content == binary and r.headers["x-kv-metadata"] == '{"n": 1}'

    # overwritten through the API: the binding reads the new bytes, the old file is gone
    r = tenant.http.put("/v1/kv/big/keys/bin", content=binary[::-1], headers=tenant.auth)
    assert r.status_code == 204
    r = tenant.http.get(f"/fn/{fn}?k=bin&type=stream", headers=key)
    assert r.content == binary[::-1]
    after = kv_files(gateway) - before
    assert len(after) == 2 and len(after & added) == 1
    for k in ("text", "bin"):
        assert tenant.http.delete(f"/v1/kv/big/keys/{k}", headers=tenant.auth).status_code == 204
    assert kv_files(gateway) - before == set()
    assert tenant.http.get(f"/fn/{fn}?k=bin", headers=key).status_code == 404
