"""Functions: deploy (``PUT``), list, show, code, rollback, delete, invocation records."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.bodies import is_json, media_type, parse_json, read_body, too_large, validate
from isogate.gateway.problems import Problem
from isogate.gateway.schemas import FunctionDeploy, Rollback
from isogate.gateway.views import (
    function_view,
    invocation_view,
    json_response,
    services,
    version_view,
)
from isogate.registry.errors import RouteConflict, RouteForbidden, RouteLimit
from isogate.registry.functions import DeployLimits
from isogate.registry.names import check_function_name
from isogate.runtime.types import JSErrorInfo, ValidationResult
from isogate.runtime.typescript import TypeScriptError, strip_types
from isogate.state.bindings import Binding, InvalidBinding, check_bindings

JS_TYPES = {"application/javascript", "text/javascript", "application/ecmascript"}
#: a raw TypeScript body (its types are erased at deploy: runtime/typescript.py)
TS_TYPES = {"application/typescript", "text/typescript", "application/x-typescript"}


def _name(request: Request) -> str:
    return check_function_name(request.path_params["name"])


def _bool(value: str | None) -> bool:
    if value is None:
        return False
    v = value.lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise Problem(422, "invalid-request", "Invalid request", "public must be true or false")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise Problem(422, "invalid-request", "Invalid request", f"{name} must be an integer")
    return int(raw)


def _check_limit(field: str, value: int | None, maximum: int) -> None:
    """A function's own limit above the operator's maximum: 422 naming the field, shaped
    like the schema's own refusals (``errors``: field and message)."""
    if value is not None and value > maximum:
        message = f"{field} must be at most {maximum}"
        raise Problem(
            422,
            "invalid-function",
            "Invalid function",
            message,
            errors=[{"field": field, "message": message}],
        )


def _count_route_refusal(svc: Any, exc: Exception) -> None:
    reason = {RouteConflict: "conflict", RouteForbidden: "not_allowed"}.get(type(exc), "limit")
    svc.metrics.route_refusals.labels(reason).inc()


async def deploy(request: Request) -> Response:
    """Upload a new version: JS source as ``application/javascript`` or JSON with options."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    limits = svc.settings.runtime
    mt = media_type(request)
    if mt in JS_TYPES or mt in TS_TYPES:
        raw = await read_body(request, min(limits.max_source_bytes, svc.settings.max_body_bytes))
        try:
            code = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(
                400, "invalid-encoding", "Invalid encoding", "code must be UTF-8"
            ) from None
        # through validate(): a bad value is a 422 naming the field (FunctionDeploy(...)
        # raised a bare ValidationError, a 500, for ?timeout_ms=0)
        spec = validate(
            FunctionDeploy,
            {
                "code": code,
                "public": _bool(request.query_params.get("public")),
                "timeout_ms": _int_param(request, "timeout_ms"),
                "cpu_ms": _int_param(request, "cpu_ms"),
                "routes": request.query_params.getlist("route"),
                "main_module": "worker.ts" if mt in TS_TYPES else None,
            },
        )
    elif is_json(mt):
        raw = await read_body(request, svc.settings.max_body_bytes)
        spec = validate(FunctionDeploy, parse_json(raw))
    else:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "send application/javascript source or application/json {code, ...}",
        )
    try:
        source = spec.code.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        raise Problem(
            400, "invalid-encoding", "Invalid encoding", "code must be valid UTF-8 text"
        ) from None
    if len(source) > limits.max_source_bytes:
        raise too_large(limits.max_source_bytes)
    if not spec.code.strip():
        raise Problem(422, "invalid-function", "Invalid function", "code is empty")
    if "\x00" in spec.code:
        raise Problem(400, "invalid-encoding", "Invalid encoding", "code may not contain NUL")
    spec = _erase_types(spec)
    _check_limit("timeout_ms", spec.timeout_ms, limits.max_timeout_ms)
    _check_limit("cpu_ms", spec.cpu_ms, limits.max_cpu_ms)
    blocked = svc.runtime.tenant_blocked(tenant)
    if blocked:
        raise Problem(
            429,
            "crash-budget-spent",
            "Crash budget spent",
            "this tenant's functions crashed the runtime too often; deploys and calls are "
            f"refused for {int(blocked) + 1} s",
            headers={"Retry-After": str(int(blocked) + 1)},
        )
    svc.deploy_checks.count(tenant, svc.settings.max_deploys_per_minute)
    bindings = await _check_bindings(svc, tenant, spec)
    check = await _check_code(request, tenant, spec)
    if not check.ok:
        raise _code_problem(check)
    try:
        version = await svc.functions.deploy(
            tenant,
            name,
            source,
            dict(spec.env),
            spec.timeout_ms,
            list(spec.routes),
            spec.public,
            DeployLimits(
                functions=svc.settings.max_functions_per_tenant,
                versions=svc.settings.max_versions_per_function,
                stored_bytes=svc.settings.max_stored_bytes_per_tenant,
            ),
            cpu_ms=spec.cpu_ms,
        )
    except (RouteConflict, RouteForbidden, RouteLimit) as exc:
        _count_route_refusal(svc, exc)
        raise
    if svc.bindings is not None:
        await svc.bindings.save(name, version.version, bindings)
    svc.resolver.invalidate(name)
    svc.runtime.unquarantine(name)
    # The first invocation after a deploy should find everything at hand: the code
    # (also shared with other replicas through Redis), its metric series and the
    # function's metadata.
    await svc.code.remember(version.sha256, spec.code)
    svc.metrics.prepare(name, tenant)
    with contextlib.suppress(Exception):
        await svc.resolver.resolve(name)
    return json_response(
        {"name": name, "version": version.version, "sha256": version.sha256},
        201,
        {"Location": f"/v1/functions/{name}"},
    )


async def list_functions(request: Request) -> Response:
    """The tenant's functions."""
    tenant = await require_tenant(request)
    fns = await services(request).functions.list(tenant)
    return json_response({"functions": [function_view(f) for f in fns]})


async def get_function(request: Request) -> Response:
    """A function's metadata and every version."""
    tenant = await require_tenant(request)
    name = _name(request)
    store = services(request).functions
    fn = await store.get(tenant, name)
    view = function_view(fn)
    view["versions"] = [version_view(v) for v in await store.versions(tenant, name)]
    return json_response(view)


async def get_code(request: Request) -> Response:
    """The source of one version (``?version=N``; default: current)."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    ver = await svc.functions.version(tenant, name, _int_param(request, "version"))
    source = await svc.code.load(ver.sha256)
    return Response(
        source,
        media_type="application/javascript",
        headers={"X-Function-Version": str(ver.version), "ETag": f'"{ver.sha256}"'},
    )


async def rollback(request: Request) -> Response:
    """Make an existing version current again."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    if not is_json(media_type(request)):
        raise Problem(
            415, "unsupported-media-type", "Unsupported media type", "send application/json"
        )
    raw = await read_body(request, 16 * 1024)
    body = validate(Rollback, parse_json(raw))
    try:
        ver = await svc.functions.rollback(tenant, name, body.version)
    except (RouteConflict, RouteForbidden, RouteLimit) as exc:
        _count_route_refusal(svc, exc)
        raise
    svc.resolver.invalidate(name)
    svc.runtime.unquarantine(name)
    return json_response({"name": name, "version": ver.version, "sha256": ver.sha256})


async def delete_function(request: Request) -> Response:
    """Delete a function, its versions and routes; the name becomes free."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    await svc.functions.delete(tenant, name)
    svc.runtime.unquarantine(name)  # its warm contexts go now, on every executor
    svc.invocations.forget(name)  # queued records must not outlive the incarnation
    svc.metrics.forget(name)  # nor its series on /metrics
    svc.resolver.invalidate(name)
    return Response(status_code=204)


async def list_invocations(request: Request) -> Response:
    """The latest invocation records of an owned function (``?limit=N``)."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    fn = await svc.functions.get(tenant, name)  # owner check
    limit = _int_param(request, "limit") or 20
    records = await svc.invocations.recent(
        name, max(1, min(limit, 1000)), tenant=tenant, incarnation=fn.created_at
    )
    return json_response({"invocations": [invocation_view(r) for r in records]})


async def _check_bindings(svc: Any, tenant: str, spec: FunctionDeploy) -> list[Binding]:
    """The deploy's bindings (isogate.state.bindings); 400 naming the one refused."""
    if not spec.bindings or svc.kv is None:
        return []
    try:
        return await check_bindings(spec.bindings, tenant, set(spec.env), svc.kv)
    except InvalidBinding as exc:
        raise Problem(
            400, "invalid-binding", "Invalid binding", str(exc), binding=exc.binding
        ) from None


async def _check_code(request: Request, tenant: str, spec: FunctionDeploy) -> ValidationResult:
    """Load the code once, as the runtime will, in a check process (never an executor)."""
    svc = services(request)
    limits = svc.settings.runtime
    timeout_ms = spec.timeout_ms or limits.default_timeout_ms
    # waiting for a check process, the top level's own limit, then compiling and starting
    deadline = 2 * limits.start_timeout_seconds + timeout_ms / 1000.0
    with svc.deploy_checks.hold(tenant, svc.settings.max_deploy_checks_per_tenant):
        try:
            async with asyncio.timeout(deadline):
                return await svc.runtime.validate(spec.code, tuple(spec.env.items()), timeout_ms)
        except TimeoutError:
            raise Problem(
                503, "runtime-unavailable", "Runtime unavailable", "code validation timed out"
            ) from None


def _erase_types(spec: FunctionDeploy) -> FunctionDeploy:
    """A TypeScript main module as the JavaScript that runs (and is stored): its types
    erased in place, so every position V8 reports is one in the uploaded TypeScript."""
    if not (spec.main_module or "").endswith((".ts", ".mts")):
        return spec
    try:
        code = strip_types(spec.code)
    except TypeScriptError as exc:
        raise _code_problem(ValidationResult(ok=False, error=exc.info, reason="invalid")) from None
    return spec.model_copy(update={"code": code})


def _code_problem(check: ValidationResult) -> Problem:
    """The deploy's answer when its code does not load: where, and why, in JS terms."""
    err = check.error or JSErrorInfo("SyntaxError", "invalid code")
    if check.reason == "crashed":
        return Problem(422, "code-crashed", "Code crashed at load", err.message)
    where = ""
    if err.line is not None:
        where = f" at line {err.line}" + (f", column {err.column}" if err.column else "")
    return Problem(
        400,
        "invalid-code",
        "Invalid code",
        f"{err.name}{where}: {err.message}",
        line=err.line,
        column=err.column,
    )
