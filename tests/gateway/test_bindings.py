"""Bindings in the deploy body (in-process app): a KV namespace of the tenant is
accepted; one that does not exist, or is another tenant's, is refused with 400 naming
the binding; a binding may not shadow an env variable; an unknown kind is a 422."""

from __future__ import annotations

import httpx

from .conftest import assert_problem, bearer, register

CODE = "export default { fetch(req, env) { return new Response('ok') } }"


async def test_bindings_checked_at_deploy(app_client: httpx.AsyncClient) -> None:
    c = app_client
    tok = await register(c, "bindacme")
    other = await register(c, "bindother")
    r = await c.post("/v1/kv", json={"name": "theirs"}, headers=bearer(other))
    assert r.status_code == 201
    r = await c.post("/v1/kv", json={"name": "cache"}, headers=bearer(tok))
    assert r.status_code == 201

    def deploy(bindings, env=None):
        body = {"code": CODE, "bindings": bindings, "env": env or {}}
        return c.put("/v1/functions/bindfn", json=body, headers=bearer(tok))

    for bindings in ({"CACHE": {"kv": "nope"}}, {"CACHE": {"kv": "theirs"}}):
        r = await deploy(bindings)
        assert_problem(r, 400, "invalid-binding")
        assert r.json()["binding"] == "CACHE" and "CACHE" in r.json()["detail"]
    assert_problem(await c.get("/v1/functions/bindfn", headers=bearer(tok)), 404)  # nothing stored
    r = await deploy({"CACHE": {"kv": "cache"}}, env={"CACHE": "x"})
    assert_problem(r, 400, "invalid-binding")
    assert_problem(await deploy({"CACHE": {"d1": "cache"}}), 422)
    r = await deploy({"CACHE": {"kv": "cache"}})
    assert r.status_code == 201, r.text
    bound = await c.app.state.services.bindings.load("bindfn", r.json()["version"])  # type: ignore[attr-defined]
    assert [(b.name, b.kind, b.target) for b in bound] == [("CACHE", "kv", "cache")]
