"""The OpenAPI 3.1 document of the HTTP API (written by hand, checked by a test against
the app's routes)."""

from __future__ import annotations

from typing import Any

from isogate.gateway import schemas

PROBLEM = {"$ref": "#/components/responses/Problem"}
BEARER = [{"bearer": []}]
KEY = [{"apiKey": []}, {"bearer": []}, {}]


def _op(summary: str, ok: str, security: Any = None, body: str | None = None, **errors: str):
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "success"}, "default": PROBLEM},
    }
    for code in errors.get("codes", "").split():
        op["responses"][code] = PROBLEM
    if security is not None:
        op["security"] = security
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{body}"}}
                for media in (
                    ["application/json", "application/javascript"]
                    if body == "FunctionDeploy"
                    else ["application/json"]
                )
            },
        }
    return op


def _name_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    invoke_codes = "401 403 404 413 429 500 502 503 504"
    any_method = {
        m: _op(f"invoke the function ({m.upper()})", "200", KEY, codes=invoke_codes)
        for m in ("get", "post", "put", "patch", "delete", "head", "options")
    }
    fn = [_name_param("name")]
    paths: dict[str, Any] = {
        "/v1/tenants": {
            "post": _op(
                "register a tenant (open registration or admin token)",
                "201",
                body="Credentials",
                codes="400 403 409 415 422",
            )
        },
        "/v1/auth/token": {
            "post": _op(
                "log in: a short-lived bearer token", "200", body="Credentials", codes="401"
            )
        },
        "/v1/keys": {
            "post": _op("create an API key lease", "201", BEARER, "KeyCreate", codes="401 422"),
            "get": _op("list API keys", "200", BEARER, codes="401"),
        },
        "/v1/keys/{key_id}": {
            "parameters": [_name_param("key_id")],
            "get": _op("show an API key (never its secret)", "200", BEARER, codes="401 404"),
            "delete": _op("revoke an API key at once", "200", BEARER, codes="401 404"),
        },
        "/v1/keys/{key_id}/renew": {
            "parameters": [_name_param("key_id")],
            "post": _op("extend a lease", "200", BEARER, "KeyRenew", codes="401 404 422"),
        },
        "/v1/functions": {"get": _op("list functions", "200", BEARER, codes="401")},
        "/v1/functions/{name}": {
            "parameters": fn,
            "put": _op(
                "deploy a new version",
                "201",
                BEARER,
                "FunctionDeploy",
                codes="400 401 409 413 415 422",
            ),
            "get": _op("function metadata and versions", "200", BEARER, codes="401 404"),
            "delete": _op("delete a function", "204", BEARER, codes="401 404"),
        },
        "/v1/functions/{name}/code": {
            "parameters": [
                *fn,
                {"name": "version", "in": "query", "schema": {"type": "integer"}},
            ],
            "get": _op("source of a version", "200", BEARER, codes="401 404"),
        },
        "/v1/functions/{name}/rollback": {
            "parameters": fn,
            "post": _op("make a version current", "200", BEARER, "Rollback", codes="401 404 409"),
        },
        "/v1/functions/{name}/invocations": {
            "parameters": [*fn, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "get": _op("latest invocation records", "200", BEARER, codes="401 404"),
        },
        "/fn/{name}": {"parameters": fn, **any_method},
        "/fn/{name}/{path}": {"parameters": [*fn, _name_param("path")], **any_method},
        "/healthz": {"get": _op("liveness", "200")},
        "/readyz": {"get": _op("readiness: runtime warm, stores answer", "200", codes="503")},
        "/metrics": {"get": _op("Prometheus metrics (isogate_*)", "200")},
        "/openapi.json": {"get": _op("this document", "200")},
    }
    models = ["Credentials", "KeyCreate", "KeyRenew", "FunctionDeploy", "Rollback"]
    components: dict[str, Any] = {"schemas": {}}
    for m in models:
        schema = getattr(schemas, m).model_json_schema(ref_template="#/components/schemas/{model}")
        components["schemas"].update(schema.pop("$defs", {}))
        components["schemas"][m] = schema
    components["schemas"]["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        "required": ["type", "title", "status"],
    }
    components["responses"] = {
        "Problem": {
            "description": "an error (RFC 9457)",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    }
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "isogate",
            "version": "1",
            "description": "Serverless edge gateway: JavaScript functions in V8 isolates. "
            "Functions may also claim route patterns (e.g. /api/users/*), served at those "
            "paths with the same rules as /fn/{name}.",
        },
        "paths": paths,
        "components": components,
    }
