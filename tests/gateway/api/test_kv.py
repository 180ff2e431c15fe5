"""KV namespaces and keys through the in-process app (embedded SQLite): create, list,
put/get/delete with metadata and expiration, list with prefix, limit and cursors, key and
value limits, the daily operation quota, and another tenant's namespace answering 404."""

from __future__ import annotations

import httpx

from ..conftest import assert_problem, bearer, make_settings, register


async def _ns(c: httpx.AsyncClient, token: str, name: str) -> None:
    r = await c.post("/v1/kv", json={"name": name}, headers=bearer(token))
    assert r.status_code == 201, r.text


async def test_kv_keys_roundtrip(app_client: httpx.AsyncClient) -> None:
    c = app_client
    tok = await register(c, "kvacme")
    await _ns(c, tok, "cache")
    assert_problem(await c.post("/v1/kv", json={"name": "cache"}, headers=bearer(tok)), 409)
    assert_problem(await c.post("/v1/kv", json={"name": "Bad!"}, headers=bearer(tok)), 422)
    r = await c.get("/v1/kv", headers=bearer(tok))
    assert [n["name"] for n in r.json()["namespaces"]] == ["cache"]

    h = {**bearer(tok), "X-KV-Metadata": '{"v": 1}'}
    r = await c.put("/v1/kv/cache/keys/a/b%20c", content=b"\x00\xffbin", headers=h)
    assert r.status_code == 204, r.text
    r = await c.get("/v1/kv/cache/keys/a/b%20c", headers=bearer(tok))
    assert r.status_code == 200 and r.content == b"\x00\xffbin"
    assert r.headers["x-kv-metadata"] == '{"v": 1}'
    for k in ("user:1", "user:2", "user:3", "zeta", "user%"):
        r = await c.put(f"/v1/kv/cache/keys/{k}", content=k.encode(), headers=bearer(tok))
        assert r.status_code == 204
    r = await c.get(
        "/v1/kv/cache/keys", params={"prefix": "user:", "limit": 2}, headers=bearer(tok)
    )
    page = r.json()
    assert [k["name"] for k in page["keys"]] == ["user:1", "user:2"]
    assert page["list_complete"] is False and page["cursor"]
    r = await c.get(
        "/v1/kv/cache/keys",
        params={"prefix": "user:", "limit": 2, "cursor": page["cursor"]},
        headers=bearer(tok),
    )
    assert [k["name"] for k in r.json()["keys"]] == ["user:3"]
    assert r.json()["list_complete"] is True and "cursor" not in r.json()

    r = await c.put("/v1/kv/cache/keys/tmp?expiration_ttl=30", content=b"x", headers=bearer(tok))
    assert_problem(r, 422, "invalid-kv")
    r = await c.put("/v1/kv/cache/keys/tmp?expiration_ttl=120", content=b"x", headers=bearer(tok))
    assert r.status_code == 204
    r = await c.get("/v1/kv/cache/keys", params={"prefix": "tmp"}, headers=bearer(tok))
    assert r.json()["keys"][0]["expiration"] > 0

    assert_problem(
        await c.put("/v1/kv/cache/keys/" + "k" * 513, content=b"x", headers=bearer(tok)), 422
    )
    assert (await c.delete("/v1/kv/cache/keys/zeta", headers=bearer(tok))).status_code == 204
    assert_problem(
        await c.get("/v1/kv/cache/keys/zeta", headers=bearer(tok)), 404, "kv-key-not-found"
    )

    # another tenant: the namespace does not exist for it (and its own "cache" is its own)
    other = await register(c, "kvother")
    for method, path in (
        ("GET", "/v1/kv/cache/keys"),
        ("GET", "/v1/kv/cache/keys/user:1"),
        ("PUT", "/v1/kv/cache/keys/user:1"),
        ("DELETE", "/v1/kv/cache/keys/user:1"),
        ("DELETE", "/v1/kv/cache"),
    ):
        r = await c.request(method, path, headers=bearer(other), content=b"evil")
        assert_problem(r, 404, "kv-namespace-not-found")
    await _ns(c, other, "cache")
    r = await c.get("/v1/kv/cache/keys", headers=bearer(other))
    assert r.json()["keys"] == []
    r = await c.get("/v1/kv/cache/keys/user:1", headers=bearer(tok))
    assert r.content == b"user:1"  # untouched
    assert (await c.delete("/v1/kv/cache", headers=bearer(tok))).status_code == 204
    assert_problem(await c.get("/v1/kv/cache/keys", headers=bearer(tok)), 404)


async def test_kv_limits_and_quota(tmp_path) -> None:
    from isogate.gateway.app import create_app

    from ..fake_runtime import FakeRuntime

    settings = make_settings(
        tmp_path, kv_ops_per_day=5, kv_max_value_bytes=10, kv_max_metadata_bytes=8
    )
    app = create_app(settings, FakeRuntime)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        tok = await register(c, "kvq")
        await _ns(c, tok, "n")
        r = await c.put("/v1/kv/n/keys/k", content=b"x" * 11, headers=bearer(tok))
        assert_problem(r, 413)
        h = {**bearer(tok), "X-KV-Metadata": '{"long": 1}'}
        assert_problem(await c.put("/v1/kv/n/keys/k", content=b"x", headers=h), 422, "invalid-kv")
        statuses = [
            (await c.put("/v1/kv/n/keys/k", content=b"x", headers=bearer(tok))).status_code
            for _ in range(7)
        ]
        assert statuses == [204] * 5 + [429] * 2, statuses
        r = await c.get("/v1/kv/n/keys/k", headers=bearer(tok))
        assert_problem(r, 429, "kv-quota-exceeded")
        r = await c.get("/v1/kv", headers=bearer(tok))
        assert r.json()["ops_today"] == 5 and r.json()["ops_per_day"] == 5
        # counted by op and outcome (no tenant label: bounded series)
        text = (await c.get("/metrics")).text
        for labels, value in (
            ('op="put",outcome="ok"', 5),
            ('op="put",outcome="quota"', 2),
            ('op="put",outcome="invalid"', 1),
            ('op="get",outcome="quota"', 1),
            ('op="list",outcome="ok"', 0),
        ):
            assert f"isogate_kv_operations_total{{{labels}}} {value}.0" in text, labels
        assert "kvq" not in text


async def test_large_values_in_the_blob_folder(tmp_path) -> None:
    """Above ``kv_inline_max_bytes`` a value is a file under ``data_dir/blobs/kv`` (the
    embedded default's object store): the API reads back the same bytes, and an overwrite
    or a delete removes the file."""
    from isogate.gateway.app import create_app

    from ..fake_runtime import FakeRuntime

    app = create_app(make_settings(tmp_path, kv_inline_max_bytes=64), FakeRuntime)
    folder = tmp_path / "blobs" / "kv"

    def files() -> list:
        return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        tok = await register(c, "kvbig")
        await _ns(c, tok, "n")
        big = bytes(range(256)) * 40
        r = await c.put("/v1/kv/n/keys/big", content=big, headers=bearer(tok))
        assert r.status_code == 204, r.text
        assert len(files()) == 1
        r = await c.get("/v1/kv/n/keys/big", headers=bearer(tok))
        assert r.status_code == 200 and r.content == big
        r = await c.put("/v1/kv/n/keys/small", content=b"x" * 64, headers=bearer(tok))
        assert len(files()) == 1  # at the threshold: in the row
        first = files()[0]
        r = await c.put("/v1/kv/n/keys/big", content=big[::-1], headers=bearer(tok))
        assert (await c.get("/v1/kv/n/keys/big", headers=bearer(tok))).content == big[::-1]
        assert not first.exists() and len(files()) == 1
        assert (await c.delete("/v1/kv/n/keys/big", headers=bearer(tok))).status_code == 204
        assert files() == []
