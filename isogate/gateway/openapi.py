"""The OpenAPI 3.1 document of the HTTP API: the operations are listed here (checked by a
test against the app's routes); every body schema comes from its model in
:mod:`isogate.gateway.shapes`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from isogate.gateway import shapes
from isogate.runtime.modules import CONTENT_TYPES as MODULE_CONTENT_TYPES
from isogate.runtime.modules import MAX_MODULES, MAX_NAME
from isogate.runtime.modules import TYPES as MODULE_KINDS

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM = {"$ref": "#/components/responses/Problem"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
KEY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}, {}]
NONE: list[Any] = []

#: Problems any operation may answer: malformed request (400), too many failed
#: authentication attempts from this address (429), a backend down (503).
COMMON = "400 429 503"
#: ... and those of operations that read a body: too large, too slow, not JSON.
BODY = "408 413 415 422"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


def _op(
    summary: str,
    ok: str,
    security: Any = None,
    body: str | None = None,
    result: str | None = None,
    codes: str = "",
    ok_content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "success"}
    if ok_content is not None:
        success["content"] = ok_content
    elif result is not None:
        success["content"] = _json(result)
    op: dict[str, Any] = {"summary": summary, "responses": {ok: success}}
    all_codes = set(codes.split()) | set(COMMON.split())
    if body:
        all_codes |= set(BODY.split())
    if security == BEARER:
        all_codes.add("401")
    for code in sorted(all_codes):
        op["responses"][code] = PROBLEM
    op["responses"]["default"] = PROBLEM
    if security is not None:
        op["security"] = security
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


def _name_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


STR = {"type": "string"}
INT = {"type": "integer"}


def _component_schemas() -> dict[str, Any]:
    """Every body's schema, from its model in :mod:`isogate.gateway.shapes`: requests as
    they are validated, responses as they are answered (nested models as refs)."""
    out: dict[str, Any] = {}
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "validation") for m in shapes.REQUESTS),
        *((m, "serialization") for m in shapes.RESPONSES),
    ]
    for model, mode in models:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _deploy() -> dict[str, Any]:
    """``PUT /v1/functions/{name}``: one file (JavaScript or TypeScript source, or JSON
    with ``code``) or a module set (JSON with ``modules``, or Cloudflare's multipart
    form: a ``metadata`` part and one part per module)."""
    op = _op("deploy a new version", "201", BEARER, "FunctionDeploy", "Deployed", "409")
    source = {
        "schema": {"type": "string"},
        "description": "the code itself; options as query parameters",
    }
    types = ", ".join(f"`{ct}` ({kind})" for ct, kind in MODULE_CONTENT_TYPES.items())
    op["requestBody"]["content"] = {
        "application/json": {
            "schema": {"oneOf": [_ref("FunctionDeploy"), _ref("FunctionDeployModules")]}
        },
        "application/javascript": source,
        "application/typescript": source,
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "description": "Cloudflare's Workers upload form. Every part but `metadata` "
                "is a module: its file name (or part name) is the module's path, its "
                f"Content-Type the module's type: {types}.",
                "properties": {"metadata": _ref("UploadMetadata")},
                "required": ["metadata"],
                "additionalProperties": {"type": "string", "contentMediaType": "*/*"},
            },
            "encoding": {"metadata": {"contentType": "application/json"}},
        },
    }
    op["parameters"] = [
        {
            "name": name,
            "in": "query",
            "description": f"{what} (with a source body only)",
            "schema": schema,
        }
        for name, what, schema in (
            ("public", "callable without an API key", {"type": "boolean"}),
            ("timeout_ms", "wall time of one invocation, ms", INT),
            ("cpu_ms", "CPU time of one invocation, ms", INT),
            ("route", "a route pattern (repeatable)", {"type": "array", "items": STR}),
        )
    ]
    return op


def _module_schemas(deploy: dict[str, Any]) -> dict[str, Any]:
    """The module-set forms of a deploy, from ``FunctionDeploy``'s own schema (the same
    options, ``modules`` instead of ``code``)."""
    options = {k: v for k, v in deploy["properties"].items() if k not in ("code", "main_module")}
    main = {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "description": "the name of the main module, an ES module among the modules "
        "(`.ts`/`.mts`: TypeScript, its types erased at deploy)",
    }
    return {
        "ModuleSetModule": {
            "type": "object",
            "properties": {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_NAME,
                    "description": "the module's path: relative, `/`-separated, no `.` or "
                    "`..` segments; what other modules import (`./lib/util.js`)",
                },
                "type": {"enum": list(MODULE_KINDS)},
                "content": {
                    "type": "string",
                    "description": "the module's text; base64 for `data` and `wasm`",
                },
            },
            "required": ["name", "type", "content"],
            "additionalProperties": False,
        },
        "FunctionDeployModules": {
            "type": "object",
            "description": "several modules deployed as one version (JSON form)",
            "properties": {
                "main_module": main,
                "modules": {
                    "type": "array",
                    "items": _ref("ModuleSetModule"),
                    "minItems": 1,
                    "maxItems": MAX_MODULES,
                },
                **options,
            },
            "required": ["main_module", "modules"],
            "additionalProperties": False,
        },
        "UploadMetadata": {
            "type": "object",
            "description": "the `metadata` part of a multipart upload",
            "properties": {"main_module": main, **options},
            "required": ["main_module"],
            "additionalProperties": False,
        },
    }


def _secret_put() -> dict[str, Any]:
    op = _op(
        "set a secret (env.NAME on the function's next call; never shown again)",
        "200",
        BEARER,
        "SecretValue",
        "Secret",
        "404 415 422 503",
    )
    op["requestBody"]["content"]["text/plain"] = {"schema": STR}
    return op


def _kv_put() -> dict[str, Any]:
    op = _op("write a value (raw body)", "204", BEARER, codes="404 413 422 429")
    op["parameters"] = [
        {"name": "expiration", "in": "query", "schema": {"type": "number"}},
        {"name": "expiration_ttl", "in": "query", "schema": {"type": "number"}},
        {"name": "X-KV-Metadata", "in": "header", "schema": STR},
    ]
    op["requestBody"] = {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
    }
    return op


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    invoke_codes = "401 403 404 408 413 429 500 502 503 504"
    any_method = {}
    for m in ("get", "post", "put", "patch", "delete", "head", "options"):
        op = _op(f"invoke the function ({m.upper()})", "200", KEY, codes=invoke_codes)
        # whatever the function answers: any status, any content type
        op["responses"]["200"] = {
            "description": "the function's response (it chooses status, headers and body)",
            "content": {"*/*": {"schema": {}}},
        }
        op["responses"]["default"] = {
            "description": "the function's response, or a problem of the gateway",
            "content": {"*/*": {"schema": {}}},
        }
        op["responses"]["202"] = {
            "description": "Prefer: respond-async: recorded; the result at Location "
            "(GET /v1/invocations/{id})",
            "content": _json("AsyncAccepted"),
        }
        op["parameters"] = [
            {
                "name": "Prefer",
                "in": "header",
                "description": "respond-async: answer 202 at once and run the call later",
                "schema": STR,
            }
        ]
        any_method[m] = op
    fn = [_name_param("name")]
    paths: dict[str, Any] = {
        "/v1/tenants": {
            "post": _op(
                "register a tenant (open registration or admin token)",
                "201",
                [{}, {"bearer": []}],
                body="Credentials",
                result="Tenant",
                codes="403 409",
            )
        },
        "/v1/auth/token": {
            "post": _op(
                "log in: a short-lived bearer token",
                "200",
                NONE,
                body="Credentials",
                result="Token",
                codes="401",
            )
        },
        "/v1/keys": {
            "post": _op("create an API key lease", "201", BEARER, "KeyCreate", "LeaseWithSecret"),
            "get": _op("list API keys", "200", BEARER, result="LeaseList"),
        },
        "/v1/keys/{key_id}": {
            "parameters": [_name_param("key_id")],
            "get": _op("show an API key (never its secret)", "200", BEARER, None, "Lease", "404"),
            "delete": _op("revoke an API key at once", "200", BEARER, None, "Lease", "404"),
        },
        "/v1/keys/{key_id}/renew": {
            "parameters": [_name_param("key_id")],
            "post": _op("extend a lease", "200", BEARER, "KeyRenew", "Lease", "404"),
        },
        "/v1/functions": {"get": _op("list functions", "200", BEARER, result="FunctionList")},
        "/v1/functions/{name}": {
            "parameters": fn,
            "put": _deploy(),
            "get": _op(
                "function metadata and versions", "200", BEARER, None, "FunctionDetail", "404"
            ),
            "delete": _op("delete a function", "204", BEARER, codes="404"),
        },
        "/v1/functions/{name}/code": {
            "parameters": [
                *fn,
                {"name": "version", "in": "query", "schema": {"type": "integer"}},
            ],
            "get": _op(
                "source of a version",
                "200",
                BEARER,
                codes="404 422",
                ok_content={
                    "application/javascript": {"schema": STR},
                    "application/vnd.isogate.modules+json": {
                        "schema": STR,
                        "description": "a module set: `//@isogate-modules v1` on the first "
                        "line, then JSON {main_module, modules} (as FunctionDeployModules)",
                    },
                },
            ),
        },
        "/v1/functions/{name}/rollback": {
            "parameters": fn,
            "post": _op("make a version current", "200", BEARER, "Rollback", "Deployed", "404 409"),
        },
        "/v1/functions/{name}/invocations": {
            "parameters": [*fn, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "get": _op(
                "latest invocation records", "200", BEARER, None, "InvocationList", "404 422"
            ),
        },
        "/v1/functions/{name}/schedules": {
            "parameters": [*fn, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "get": _op(
                "cron schedules: next tick and latest runs of each (limit: runs per cron)",
                "200",
                BEARER,
                None,
                "ScheduleList",
                "404 422",
            ),
        },
        "/v1/functions/{name}/secrets": {
            "parameters": fn,
            "get": _op(
                "names and update times of the function's secrets (never values)",
                "200",
                BEARER,
                None,
                "SecretList",
                "404",
            ),
        },
        "/v1/functions/{name}/secrets/{secret}": {
            "parameters": [*fn, _name_param("secret")],
            "put": _secret_put(),
            "delete": _op("delete a secret", "204", BEARER, codes="404 422"),
        },
        "/v1/kv": {
            "post": _op(
                "create a KV namespace", "201", BEARER, "KvNamespaceCreate", "KvNamespace", "409"
            ),
            "get": _op("list your KV namespaces", "200", BEARER, result="KvNamespaceList"),
        },
        "/v1/kv/{ns}": {
            "parameters": [_name_param("ns")],
            "delete": _op("delete a KV namespace and its keys", "204", BEARER, codes="404"),
        },
        "/v1/kv/{ns}/keys": {
            "parameters": [
                _name_param("ns"),
                {"name": "prefix", "in": "query", "schema": STR},
                {"name": "limit", "in": "query", "schema": INT},
                {"name": "cursor", "in": "query", "schema": STR},
            ],
            "get": _op("list keys", "200", BEARER, None, "KvKeyList", "404 422 429"),
        },
        "/v1/kv/{ns}/keys/{key}": {
            "parameters": [_name_param("ns"), _name_param("key")],
            "get": _op(
                "read a value (metadata in X-KV-Metadata)",
                "200",
                BEARER,
                codes="404 422 429",
                ok_content={"application/octet-stream": {"schema": {"type": "string"}}},
            ),
            "put": _kv_put(),
            "delete": _op("delete a key", "204", BEARER, codes="404 422 429"),
        },
        "/v1/invocations/{id}": {
            "parameters": [_name_param("id")],
            "get": _op(
                "an asynchronous invocation: status, the function's response, timings "
                "(the tenant's token or the API key that made the call)",
                "200",
                KEY,
                None,
                "AsyncInvocation",
                "401 404",
            ),
        },
        "/fn/{name}": {"parameters": fn, **any_method},
        "/fn/{name}/{path}": {"parameters": [*fn, _name_param("path")], **any_method},
        "/healthz": {"get": _op("liveness", "200", NONE, result="Status")},
        "/readyz": {
            "get": _op("readiness: runtime warm, stores answer", "200", NONE, result="Status")
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics (isogate_*)",
                "200",
                NONE,
                ok_content={"text/plain": {"schema": STR}},
            )
        },
        "/openapi.json": {
            "get": _op("this document", "200", NONE, ok_content={"application/json": {}})
        },
    }
    from isogate.gateway.api.admin import admin_openapi  # the operator's route controls

    paths.update(admin_openapi(_op, BEARER))
    components: dict[str, Any] = {"schemas": _component_schemas()}
    components["schemas"].update(_module_schemas(components["schemas"]["FunctionDeploy"]))
    components["schemas"]["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
        },
        "required": ["type", "title", "status"],
        "additionalProperties": True,
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
