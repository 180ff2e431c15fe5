"""Every JSON body the API answers is declared by the OpenAPI document, field for field.

The flows below drive each resource of the control plane (and the operator's, the async
invocation and the ops endpoints) through the in-process app; every answer is checked
against the document's schema for its path, method and status, where response shapes
say ``additionalProperties: false``. A handler that answers a field the document does
not declare fails here (and cannot build such an answer at all: shapes refuse unknown
fields)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from isogate.gateway import shapes
from isogate.gateway.app import create_app
from isogate.gateway.openapi import openapi_document
from isogate.gateway.shapes.keys import Lease

from .conftest import ADMIN, bearer, make_settings, register
from .fake_runtime import FakeRuntime

HELLO = "export default { fetch() { return new Response('hi') } }"
DOC = openapi_document()


def _template(path: str) -> tuple[str, re.Pattern[str]] | None:
    """The document's path template that ``path`` matches (the most specific)."""
    found = []
    for template in DOC["paths"]:
        rx = re.sub(r"\\\{(key|path)\\\}", "(.+)", re.escape(template))
        rx = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", rx)
        if re.fullmatch(rx, path):
            found.append((template.count("{"), template))
    return min(found)[1] if found else None  # type: ignore[return-value]


def response_schema(method: str, path: str, status: int, content_type: str) -> dict[str, Any]:
    """The schema the document gives the answer (refs resolve within the document)."""
    template = _template(path)
    assert template is not None, f"{path} is not in the document"
    op = DOC["paths"][template][method.lower()]
    declared = op["responses"].get(str(status)) or op["responses"]["default"]
    if "$ref" in declared:  # the shared problem response
        declared = DOC["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    media = content_type.split(";")[0].strip()
    content = declared.get("content", {})
    if "*/*" in content:  # a function's own answer: anything
        media = "*/*"
    assert media in content, f"{method} {template} {status}: {media} is not declared"
    return {**content[media]["schema"], "components": DOC["components"]}


def check(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Raise unless ``body`` is what the document declares for this answer."""
    schema = response_schema(method, path, status, content_type)
    Draft202012Validator(schema).validate(body)


class Recorder:
    """Every JSON answer of a client: (method, path, status, content type, body)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, str, Any]] = []

    async def __call__(self, response: httpx.Response) -> None:
        ct = response.headers.get("content-type", "")
        if "json" in ct:
            await response.aread()
            req = response.request
            self.seen.append((req.method, req.url.path, response.status_code, ct, response.json()))


@pytest.fixture
async def recorded(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Recorder]]:
    app = create_app(make_settings(tmp_path), runtime_factory=FakeRuntime)
    recorder = Recorder()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gw.test", event_hooks={"response": [recorder]}
        ) as c:
            yield c, recorder


async def _flows(c: httpx.AsyncClient) -> None:
    """One pass over every resource; each call's status is asserted where it matters."""

    async def ok(r: Any, *status: int) -> httpx.Response:
        r = await r
        assert r.status_code in (status or (200,)), (r.request.url, r.status_code, r.text)
        return r

    h = bearer(await register(c, "acme"))
    admin = bearer(ADMIN)
    # keys
    r = await ok(
        c.post(
            "/v1/keys",
            headers=h,
            json={"name": "ci", "quota": {"invocations": 10, "period": "day"}, "uses": 5},
        ),
        201,
    )
    key_id, api_key = r.json()["id"], r.json()["key"]
    await ok(c.post("/v1/keys", headers=h, json={}), 201)
    await ok(c.get("/v1/keys", headers=h))
    await ok(c.get(f"/v1/keys/{key_id}", headers=h))
    await ok(c.post(f"/v1/keys/{key_id}/renew", headers=h, json={"ttl_seconds": 60}))
    # functions
    await ok(c.put("/v1/functions/hello", headers=h, json={"code": HELLO, "env": {"A": "1"}}), 201)
    await ok(c.put("/v1/functions/hello", headers=h, json={"code": HELLO, "timeout_ms": 900}), 201)
    await ok(c.get("/v1/functions", headers=h))
    await ok(c.get("/v1/functions/hello", headers=h))
    await ok(c.post("/v1/functions/hello/rollback", headers=h, json={"version": 1}))
    await ok(c.get("/fn/hello", headers={"X-API-Key": api_key}))
    await ok(c.get("/v1/functions/hello/invocations", headers=h))
    cron = {"code": HELLO, "crons": ["*/5 * * * *"]}
    r = await ok(c.put("/v1/functions/ticking", headers=h, json=cron), 201)
    assert r.json()["crons"] == ["*/5 * * * *"]
    await ok(c.get("/v1/functions/ticking/schedules", headers=h))
    # secrets
    await ok(c.put("/v1/functions/hello/secrets/TOKEN", headers=h, json={"value": "s3cret"}))
    await ok(c.get("/v1/functions/hello/secrets", headers=h))
    # KV
    await ok(c.post("/v1/kv", headers=h, json={"name": "cache"}), 201)
    for k in ("a", "b", "c"):
        hk = {**h, "X-KV-Metadata": '{"v": 1}'} if k == "a" else h
        await ok(c.put(f"/v1/kv/cache/keys/{k}?expiration_ttl=3600", headers=hk, content=b"v"), 204)
    await ok(c.get("/v1/kv", headers=h))
    page = (await ok(c.get("/v1/kv/cache/keys", headers=h, params={"limit": 2}))).json()
    await ok(c.get("/v1/kv/cache/keys", headers=h, params={"cursor": page["cursor"]}))
    # asynchronous invocations
    r = await ok(
        c.post("/fn/hello", headers={"X-API-Key": api_key, "Prefer": "respond-async"}), 202
    )
    location = r.headers["location"]
    for _ in range(500):  # until the runner finished it (the response is then in the view)
        r = await ok(c.get(location, headers=h))
        if r.json()["status"] == "succeeded":
            break
        await asyncio.sleep(0.01)
    # the operator
    await ok(c.put("/v1/admin/hosts/a.example", headers=admin, json={"tenant": "acme"}), 201)
    await ok(c.put("/v1/admin/hosts/a.example", headers=admin, json={"tenant": "acme"}))
    await ok(c.get("/v1/admin/hosts", headers=admin))
    await ok(c.put("/v1/admin/hostless-grants/acme", headers=admin), 201)
    await ok(c.get("/v1/admin/hostless-grants", headers=admin))
    await ok(
        c.put("/v1/functions/routed", headers=h, json={"code": HELLO, "routes": ["/x/*"]}), 201
    )
    await ok(c.get("/v1/admin/routes", headers=admin, params={"pattern": "/x/*"}))
    await ok(c.delete("/v1/admin/hostless-grants/acme", headers=admin))
    await ok(c.delete("/v1/admin/hosts/a.example", headers=admin))
    # ops, a revoked key, and a few problems
    await ok(c.get("/healthz"))
    await ok(c.get("/readyz"))
    await ok(c.delete(f"/v1/keys/{key_id}", headers=h))
    await ok(c.get("/v1/functions/nope", headers=h), 404)
    await ok(c.post("/v1/keys", headers=h, json={"bogus": 1}), 422)
    await ok(c.get("/v1/keys"), 401)


async def test_every_answer_is_declared(recorded: tuple[httpx.AsyncClient, Recorder]) -> None:
    c, recorder = recorded
    await _flows(c)
    for method, path, status, ct, body in recorder.seen:
        check(method, path, status, ct, body)
    # every declared response shape was answered at least once above
    answered = set()
    for method, path, status, ct, _ in recorder.seen:
        ref = response_schema(method, path, status, ct).get("$ref", "")
        answered.add(ref.rsplit("/", 1)[-1])
    nested_only = {
        "FunctionInfo",
        "Version",
        "Invocation",
        "Schedule",
        "CronRun",
    }  # inside lists, checked there
    missing = {m.__name__ for m in shapes.RESPONSES} - answered - nested_only
    assert not missing, f"shapes no flow answered: {sorted(missing)}"
    # ... and the nested or omitted-when-unset parts were there to check
    kinds = {(m, s) for m, _, s, _, _ in recorder.seen}
    assert ("GET", 200) in kinds and ("PUT", 201) in kinds
    bodies = [b for *_, b in recorder.seen if isinstance(b, dict)]
    for nested in (
        "functions",
        "versions",
        "invocations",
        "holders",
        "hosts",
        "grants",
        "schedules",
    ):
        assert any(b.get(nested) for b in bodies), f"no answer had any {nested}"
    assert any(b.get("response") and "body" in b["response"] for b in bodies)
    assert any("cursor" in b for b in bodies) and any(
        "metadata" in k for b in bodies for k in b.get("keys", []) if isinstance(k, dict)
    )


async def test_an_undeclared_field_fails(recorded: tuple[httpx.AsyncClient, Recorder]) -> None:
    c, _ = recorded
    h = bearer(await register(c, "acme"))
    r = await c.post("/v1/keys", headers=h, json={})
    lease = r.json()
    check("POST", "/v1/keys", 201, "application/json", lease)
    with pytest.raises(Exception, match="Additional properties"):
        check("POST", "/v1/keys", 201, "application/json", {**lease, "owner": "acme"})
    r = await c.get(f"/v1/keys/{lease['id']}", headers=h)
    with pytest.raises(Exception, match="Additional properties"):  # the secret, say
        check("GET", r.url.path, 200, "application/json", {**r.json(), "key": "k"})
    # a handler cannot build it either
    with pytest.raises(ValidationError):
        Lease.model_validate({**r.json(), "owner": "acme"})


def test_response_shapes_are_closed() -> None:
    schemas = DOC["components"]["schemas"]
    for model in shapes.RESPONSES:
        assert schemas[model.__name__]["additionalProperties"] is False, model.__name__
        assert model.model_config.get("extra") == "forbid"


def test_document_schemas_come_from_the_shapes() -> None:
    schemas = DOC["components"]["schemas"]
    for model in shapes.REQUESTS:
        mine = model.model_json_schema(ref_template="#/components/schemas/{model}")
        mine.pop("$defs", None)
        assert schemas[model.__name__] == mine
    for model in shapes.RESPONSES:
        mine = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        mine.pop("$defs", None)
        assert schemas[model.__name__] == mine
        assert list(mine["properties"]) == list(model.model_fields)
