"""Function secrets through a real gateway (embedded default: SQLite, generated master
key): set, read by the function on its next call without a redeploy, replaced, deleted;
never readable back (views, lists, metrics, logs, the database file); other tenants 404."""

from __future__ import annotations

import secrets

import httpx

from .conftest import Tenant, unique
from .server import GatewayProcess

SHOW = (
    "export default { fetch(req, env) {"
    " return Response.json({token: env.TOKEN ?? null, plain: env.PLAIN ?? null}) } };"
)


def _call(t: Tenant, fn: str, key: str) -> dict:
    r = t.http.get(f"/fn/{fn}", headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.json()


def test_secret_lifecycle_without_redeploy(gateway: GatewayProcess, tenant: Tenant) -> None:
    fn = unique("sec")
    assert tenant.deploy(fn, SHOW, env={"PLAIN": "p"}).status_code == 201
    key = tenant.key(functions=[fn])["key"]
    assert _call(tenant, fn, key) == {"token": None, "plain": "p"}  # warm context now

    value = "s3cr3t-" + secrets.token_hex(8)
    r = tenant.http.put(
        f"/v1/functions/{fn}/secrets/TOKEN",
        content=value,
        headers={**tenant.auth, "content-type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "TOKEN" and value not in r.text
    assert _call(tenant, fn, key) == {"token": value, "plain": "p"}

    # replaced as JSON: the next call sees the new value, still without a redeploy
    value2 = "other-" + secrets.token_hex(8)
    r = tenant.http.put(
        f"/v1/functions/{fn}/secrets/TOKEN", json={"value": value2}, headers=tenant.auth
    )
    assert r.status_code == 200, r.text
    assert _call(tenant, fn, key)["token"] == value2

    # a secret wins over a plain variable of the same name
    r = tenant.http.put(
        f"/v1/functions/{fn}/secrets/PLAIN", json={"value": "from-secret"}, headers=tenant.auth
    )
    assert r.status_code == 200
    assert _call(tenant, fn, key) == {"token": value2, "plain": "from-secret"}

    listed = tenant.http.get(f"/v1/functions/{fn}/secrets", headers=tenant.auth)
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()["secrets"]] == ["PLAIN", "TOKEN"]
    assert all(set(s) == {"name", "updated_at"} for s in listed.json()["secrets"])

    # never readable back: views, code, invocation records, metrics, the log, the database
    for path in (
        f"/v1/functions/{fn}",
        "/v1/functions",
        f"/v1/functions/{fn}/invocations",
        f"/v1/functions/{fn}/code",
    ):
        text = tenant.http.get(path, headers=tenant.auth).text
        assert value2 not in text and value not in text
    assert value2 not in httpx.get(gateway.url + "/metrics").text
    assert value2 not in gateway.log.read_text()
    db = (gateway.data_dir / "isogate.db").read_bytes()
    wal = gateway.data_dir / "isogate.db-wal"
    if wal.exists():
        db += wal.read_bytes()
    assert value.encode() not in db and value2.encode() not in db
    assert (gateway.data_dir / "secrets_master_key").stat().st_mode & 0o077 == 0

    r = tenant.http.delete(f"/v1/functions/{fn}/secrets/TOKEN", headers=tenant.auth)
    assert r.status_code == 204
    assert _call(tenant, fn, key)["token"] is None
    r = tenant.http.delete(f"/v1/functions/{fn}/secrets/TOKEN", headers=tenant.auth)
    assert r.status_code == 404 and r.json()["type"].endswith("secret-not-found")


def test_other_tenant_gets_404(gateway: GatewayProcess, tenant: Tenant) -> None:
    fn = unique("sec")
    assert tenant.deploy(fn, SHOW).status_code == 201
    value = "mine-" + secrets.token_hex(8)
    r = tenant.http.put(
        f"/v1/functions/{fn}/secrets/TOKEN", json={"value": value}, headers=tenant.auth
    )
    assert r.status_code == 200
    other = Tenant(gateway.url, unique("other"))
    try:
        for method in ("GET", "PUT", "DELETE"):
            path = f"/v1/functions/{fn}/secrets" + ("" if method == "GET" else "/TOKEN")
            r = other.http.request(method, path, headers=other.auth, json={"value": "x"})
            assert r.status_code == 404, (method, r.text)
            assert r.json()["type"].endswith("function-not-found") and value not in r.text
        assert (
            tenant.http.get(f"/v1/functions/{fn}/secrets", headers=tenant.auth).json()["secrets"][
                0
            ]["name"]
            == "TOKEN"
        )
    finally:
        other.http.close()


def test_bad_secrets_refused_without_echo(tenant: Tenant) -> None:
    fn = unique("sec")
    assert tenant.deploy(fn, SHOW).status_code == 201
    base = f"/v1/functions/{fn}/secrets/"
    r = tenant.http.put(base + "1BAD", json={"value": "v"}, headers=tenant.auth)
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-secret")
    leak = "leak-" + secrets.token_hex(6)
    r = tenant.http.put(base + "OK", json={"value": leak, "extra": 1}, headers=tenant.auth)
    assert r.status_code == 422 and leak not in r.text
    r = tenant.http.put(base + "OK", json={"value": "x" * 5121}, headers=tenant.auth)
    assert r.status_code == 422 and "5120" in r.json()["detail"]
    r = tenant.http.put(
        base + "OK", content=b"v", headers={**tenant.auth, "content-type": "image/png"}
    )
    assert r.status_code == 415
    r = tenant.http.put(
        f"/v1/functions/{unique('nofn')}/secrets/OK", json={"value": "v"}, headers=tenant.auth
    )
    assert r.status_code == 404
