"""The OpenAPI document describes every deploy form: source, JSON with ``code``, JSON
with ``modules``, and Cloudflare's multipart upload (``metadata`` part + module parts);
bodies that match the documented schemas deploy, and the schemas refuse what the
gateway refuses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import referencing

from isogate.gateway.openapi import openapi_document
from isogate.gateway.schemas import FunctionDeploy
from isogate.runtime.modules import CONTENT_TYPES, TYPES

from .conftest import bearer, register

DOC = openapi_document()
SCHEMAS = DOC["components"]["schemas"]
PUT = DOC["paths"]["/v1/functions/{name}"]["put"]
MAIN = "import { v } from './lib/v.js';\nexport default { fetch() { return new Response(v) } };\n"
LIB = "export const v = 'hi';\n"


def _validator(name: str) -> jsonschema.protocols.Validator:
    """A validator of ``#/components/schemas/<name>`` that resolves the document's refs."""
    resource = referencing.Resource.from_contents(
        DOC, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry = referencing.Registry().with_resource("urn:isogate", resource)
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:isogate#/components/schemas/{name}"}, registry=registry
    )


def _one_of(body: dict[str, Any]) -> list[str]:
    """The JSON alternatives of the deploy body that ``body`` matches."""
    refs = [r["$ref"] for r in PUT["requestBody"]["content"]["application/json"]["schema"]["oneOf"]]
    names = [r.rsplit("/", 1)[1] for r in refs]
    return [n for n in names if _validator(n).is_valid(body)]


def test_every_deploy_form_is_described() -> None:
    content = PUT["requestBody"]["content"]
    assert set(content) >= {
        "application/json",
        "application/javascript",
        "application/typescript",
        "multipart/form-data",
    }
    form = content["multipart/form-data"]
    assert form["schema"]["properties"]["metadata"] == {
        "$ref": "#/components/schemas/UploadMetadata"
    }
    assert form["schema"]["required"] == ["metadata"]
    assert form["encoding"]["metadata"]["contentType"] == "application/json"
    for ctype in CONTENT_TYPES:  # every module Content-Type the gateway reads is named
        assert f"`{ctype}`" in form["schema"]["description"], ctype
    assert SCHEMAS["ModuleSetModule"]["properties"]["type"]["enum"] == list(TYPES)
    assert SCHEMAS["UploadMetadata"]["required"] == ["main_module"]
    # the module forms take the single-file form's options, no more, no fewer
    options = set(FunctionDeploy.model_fields) - {"code", "main_module"}
    assert set(SCHEMAS["FunctionDeployModules"]["properties"]) == options | {
        "main_module",
        "modules",
    }
    assert set(SCHEMAS["UploadMetadata"]["properties"]) == options | {"main_module"}
    assert {p["name"] for p in PUT["parameters"]} == {"public", "timeout_ms", "cpu_ms", "route"}
    code = DOC["paths"]["/v1/functions/{name}/code"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.isogate.modules+json" in code


def test_the_json_alternatives_exclude_each_other() -> None:
    modules = {
        "main_module": "index.js",
        "modules": [
            {"name": "index.js", "type": "esm", "content": MAIN},
            {"name": "lib/v.js", "type": "esm", "content": LIB},
        ],
        "env": {"A": "1"},
    }
    assert _one_of(modules) == ["FunctionDeployModules"]
    assert _one_of({"code": MAIN, "public": True}) == ["FunctionDeploy"]
    assert _one_of({**modules, "code": MAIN}) == []  # the gateway refuses it too (422)
    bad_type = {**modules, "modules": [{"name": "a.js", "type": "es6", "content": ""}]}
    assert _one_of(bad_type) == []
    assert not _validator("UploadMetadata").is_valid({"main_module": "a.js", "compat": 1})


async def test_bodies_that_match_the_schemas_deploy(app_client: httpx.AsyncClient) -> None:
    c = app_client
    auth = bearer(await register(c, "acme"))
    doc = {
        "main_module": "index.js",
        "modules": [
            {"name": "index.js", "type": "esm", "content": MAIN},
            {"name": "lib/v.js", "type": "esm", "content": LIB},
        ],
        "routes": [],
    }
    assert _validator("FunctionDeployModules").is_valid(doc)
    r = await c.put("/v1/functions/json-set", json=doc, headers=auth)
    assert r.status_code == 201, r.text
    meta = {"main_module": "index.js", "env": {"A": "1"}}
    assert _validator("UploadMetadata").is_valid(meta)
    files = [
        ("metadata", (None, json.dumps(meta), "application/json")),
        ("index.js", ("index.js", MAIN, "application/javascript+module")),
        ("lib/v.js", ("lib/v.js", LIB, "application/javascript+module")),
    ]
    r = await c.put("/v1/functions/form-set", files=files, headers=auth)
    assert r.status_code == 201, r.text
    code = await c.get("/v1/functions/form-set/code", headers=auth)
    assert code.headers["content-type"].startswith("application/vnd.isogate.modules+json")
    # what the schema refuses, the gateway refuses
    r = await c.put("/v1/functions/json-set", json={**doc, "code": MAIN}, headers=auth)
    assert r.status_code == 422
    bad = [("metadata", (None, json.dumps({**meta, "compat": 1}), "application/json")), *files[1:]]
    r = await c.put("/v1/functions/form-set", files=bad, headers=auth)
    assert r.status_code == 422
