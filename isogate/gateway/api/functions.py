"""Functions: deploy (``PUT``), list, show, code, rollback, delete, invocation records."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.parser
import email.policy
import email.utils
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.bodies import is_json, media_type, parse_json, read_body, too_large, validate
from isogate.gateway.errors import (
    CodeCrashed,
    CrashBudgetSpent,
    InvalidCode,
    InvalidEncoding,
    InvalidFunctionRequest,
    InvalidModule,
    InvalidRequest,
    ModuleTooLarge,
    RuntimeUnavailable,
    UnreadableBody,
    UnsupportedMediaType,
)
from isogate.gateway.problems import Problem
from isogate.gateway.services import Services
from isogate.gateway.shapes.functions import (
    Deployed,
    FunctionDeploy,
    FunctionDetail,
    FunctionList,
    InvocationList,
    Rollback,
)
from isogate.gateway.views import (
    function_fields,
    function_view,
    invocation_view,
    json_response,
    services,
    version_view,
)
from isogate.registry.errors import RouteConflict, RouteForbidden, RouteLimit
from isogate.registry.functions import DeployLimits, VersionHook
from isogate.registry.names import check_function_name
from isogate.runtime.modules import CONTENT_TYPES as MODULE_TYPES
from isogate.runtime.modules import Module, ModuleSet, ModuleSetError, is_module_set
from isogate.runtime.modules import check as check_modules
from isogate.runtime.modules import dumps as dumps_modules
from isogate.runtime.modules import loads as loads_modules
from isogate.runtime.types import JSErrorInfo, ValidationResult
from isogate.runtime.typescript import TypeScriptError, strip_types
from isogate.state.bindings import Binding, check_bindings
from isogate.state.crons import check_crons

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
    raise InvalidRequest("public must be true or false")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidRequest(f"{name} must be an integer")
    return int(raw)


def _check_limit(field: str, value: int | None, maximum: int) -> None:
    """A function's own limit above the operator's maximum: 422 naming the field, shaped
    like the schema's own refusals (``errors``: field and message)."""
    if value is not None and value > maximum:
        message = f"{field} must be at most {maximum}"
        raise InvalidFunctionRequest(message, errors=[{"field": field, "message": message}])


def _count_route_refusal(svc: Services, exc: Exception) -> None:
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
            raise InvalidEncoding("code must be UTF-8") from None
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
    elif mt == "multipart/form-data":
        raw = await read_body(request, svc.settings.max_body_bytes)
        spec = validate(FunctionDeploy, _multipart(raw, request.headers["content-type"], limits))
    elif is_json(mt):
        raw = await read_body(request, svc.settings.max_body_bytes)
        doc = parse_json(raw)
        if isinstance(doc, dict) and "modules" in doc:
            doc = _json_modules(doc, limits)
        spec = validate(FunctionDeploy, doc)
    else:
        raise UnsupportedMediaType(
            "send application/javascript source, application/json {code, ...} or "
            "{main_module, modules, ...}, or multipart/form-data with a metadata part"
        )
    try:
        source = spec.code.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        raise InvalidEncoding("code must be valid UTF-8 text") from None
    if len(source) > limits.max_source_bytes:
        raise too_large(limits.max_source_bytes)
    if not spec.code.strip():
        raise InvalidFunctionRequest("code is empty")
    if "\x00" in spec.code:
        raise InvalidEncoding("code may not contain NUL")
    spec = _erase_types(spec)
    if is_module_set(spec.code):  # also a set sent as `code`: the same checks
        _module_set_problems(
            lambda: check_modules(loads_modules(spec.code), *(limits.max_source_bytes,) * 2)
        )
    _check_limit("timeout_ms", spec.timeout_ms, limits.max_timeout_ms)
    _check_limit("cpu_ms", spec.cpu_ms, limits.max_cpu_ms)
    blocked = svc.runtime.tenant_blocked(tenant)
    if blocked:
        raise CrashBudgetSpent(
            "this tenant's functions crashed the runtime too often; deploys and calls are "
            f"refused for {int(blocked) + 1} s",
            headers={"Retry-After": str(int(blocked) + 1)},
        )
    svc.deploy_checks.count(tenant, svc.settings.max_deploys_per_minute)
    crons = _check_crons(svc, spec)
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
            with_version=_bindings_writer(svc, bindings),
        )
    except (RouteConflict, RouteForbidden, RouteLimit) as exc:
        _count_route_refusal(svc, exc)
        raise
    if crons is not None and svc.schedules is not None:
        await svc.schedules.set_crons(name, tenant, crons)
    if svc.binding_cache is not None:
        svc.binding_cache.remember(name, version.version, version.created_at, bindings)
    svc.resolver.invalidate(name)
    svc.runtime.unquarantine(name)
    # The first invocation after a deploy should find everything at hand: the code
    # (also shared with other replicas through Redis), its metric series and the
    # function's metadata and its secrets.
    await svc.code.remember(version.sha256, spec.code)
    svc.metrics.prepare(name, tenant)
    with contextlib.suppress(Exception):
        fn = await svc.resolver.resolve(name)
        if svc.secret_cache is not None:
            await svc.secret_cache.get(name, tenant, fn.created_at)
    deployed = Deployed(name=name, version=version.version, sha256=version.sha256)
    if crons is not None:
        deployed.crons = crons  # only when the deploy sent crons
    return json_response(
        deployed,
        201,
        {"Location": f"/v1/functions/{name}"},
    )


async def list_functions(request: Request) -> Response:
    """The tenant's functions."""
    tenant = await require_tenant(request)
    fns = await services(request).functions.list(tenant)
    return json_response(FunctionList(functions=[function_view(f) for f in fns]))


async def get_function(request: Request) -> Response:
    """A function's metadata and every version."""
    tenant = await require_tenant(request)
    name = _name(request)
    store = services(request).functions
    fn = await store.get(tenant, name)
    versions = [version_view(v) for v in await store.versions(tenant, name)]
    return json_response(FunctionDetail(**function_fields(fn), versions=versions))


async def get_code(request: Request) -> Response:
    """The source of one version (``?version=N``; default: current)."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    ver = await svc.functions.version(tenant, name, _int_param(request, "version"))
    source = await svc.code.load(ver.sha256)
    return Response(
        source,
        media_type="application/vnd.isogate.modules+json"
        if is_module_set(source)
        else "application/javascript",
        headers={"X-Function-Version": str(ver.version), "ETag": f'"{ver.sha256}"'},
    )


async def rollback(request: Request) -> Response:
    """Make an existing version current again."""
    tenant = await require_tenant(request)
    name = _name(request)
    svc = services(request)
    if not is_json(media_type(request)):
        raise UnsupportedMediaType("send application/json")
    raw = await read_body(request, 16 * 1024)
    body = validate(Rollback, parse_json(raw))
    try:
        ver = await svc.functions.rollback(tenant, name, body.version)
    except (RouteConflict, RouteForbidden, RouteLimit) as exc:
        _count_route_refusal(svc, exc)
        raise
    svc.resolver.invalidate(name)
    svc.runtime.unquarantine(name)
    return json_response(Deployed(name=name, version=ver.version, sha256=ver.sha256))


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
    return json_response(InvocationList(invocations=[invocation_view(r) for r in records]))


def _check_crons(svc: Services, spec: FunctionDeploy) -> list[str] | None:
    """The deploy's crons (isogate.state.crons), None when it sent none; 400 naming the
    expression refused."""
    if spec.crons is None:
        return None
    cfg = svc.settings.scheduler
    # InvalidCron: a 400 problem naming the expression (the table in gateway.problems)
    return check_crons(spec.crons, max_crons=cfg.max_crons_per_function, seconds=cfg.seconds_field)


async def _check_bindings(svc: Services, tenant: str, spec: FunctionDeploy) -> list[Binding]:
    """The deploy's bindings (isogate.state.bindings); 400 naming the one refused."""
    if not spec.bindings or svc.kv is None:
        return []
    # InvalidBinding: a 400 problem naming the binding (the table in gateway.problems)
    return await check_bindings(spec.bindings, tenant, set(spec.env), svc.kv)


def _bindings_writer(svc: Services, bindings: list[Binding]) -> VersionHook | None:
    """Write the version's bindings in the deploy's own transaction: a version is never
    seen without them (the bindings cache then keeps any answer), nor kept without them
    if the gateway stops mid-deploy. Also with none: a name deleted and deployed again
    starts over at version 1, and the old version 1's rows must go."""
    store = svc.bindings
    if store is None:
        return None

    async def write(conn: AsyncConnection, name: str, version: int) -> None:
        await store.write(conn, name, version, bindings)

    return write


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
            raise RuntimeUnavailable("code validation timed out") from None


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


def _module_set(main: object, modules: list[Module], limits: Any) -> str:
    """The stored text of an uploaded module set; TypeScript modules (``.ts``/``.mts``)
    with their types erased, so what is checked and stored is what runs."""
    if not isinstance(main, str):
        raise InvalidFunctionRequest("main_module is required")
    out = []
    for m in modules:
        if m.type in ("esm", "commonjs") and m.name.endswith((".ts", ".mts")):
            try:
                m = Module(m.name, m.type, strip_types(m.content))  # type: ignore[arg-type]
            except TypeScriptError as exc:
                info = exc.info
                info = JSErrorInfo(
                    info.name, f"{info.message} (in {m.name})", "", info.line, info.column
                )
                raise _code_problem(
                    ValidationResult(ok=False, error=info, reason="invalid")
                ) from None
        out.append(m)
    mset = ModuleSet(main=main, modules=tuple(out))
    _module_set_problems(
        lambda: check_modules(mset, limits.max_source_bytes, limits.max_source_bytes)
    )
    return dumps_modules(mset)


def _module_set_problems(check: Callable[[], None]) -> None:
    """``check()``; a ModuleSetError as the client's problem (413 or 422, naming the
    module)."""
    try:
        check()
    except ModuleSetError as exc:
        if exc.status == 413:
            raise ModuleTooLarge(str(exc), module=exc.module) from None
        raise InvalidModule(str(exc), module=exc.module) from None


def _module_content(name: str, kind: str, data: bytes) -> str | bytes:
    if kind in ("data", "wasm"):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding(f"module {name!r} must be UTF-8", module=name) from None


def _multipart(raw: bytes, content_type: str, limits: Any) -> dict[str, Any]:
    """A Cloudflare-style upload: a ``metadata`` part (JSON naming ``main_module``, and
    any of the JSON form's options), every other part a module named by its part name
    (or file name) whose Content-Type gives its type (modules.CONTENT_TYPES)."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not msg.is_multipart():
        raise UnreadableBody("the multipart body could not be read")
    meta: dict[str, Any] | None = None
    modules: list[Module] = []
    for part in msg.iter_parts():
        name = email.utils.collapse_rfc2231_value(
            part.get_param("name", header="content-disposition") or ""
        )
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "metadata":
            meta = parse_json(data)
            if not isinstance(meta, dict):
                raise InvalidRequest("metadata must be a JSON object")
            continue
        path = part.get_filename() or name
        ctype = part.get_content_type()
        kind = MODULE_TYPES.get(ctype)
        if kind is None:
            raise InvalidModule(f"module {path!r}: unsupported Content-Type {ctype!r}", module=path)
        modules.append(Module(path, kind, _module_content(path, kind, data)))
    if meta is None:
        raise InvalidRequest("a metadata part is required")
    doc = {k: v for k, v in meta.items() if k != "main_module"}
    doc["code"] = _module_set(meta.get("main_module"), modules, limits)
    return doc


def _json_modules(doc: dict[str, Any], limits: Any) -> dict[str, Any]:
    """``{"main_module", "modules": [{"name", "type", "content"}], …}``: content base64
    for ``data`` and ``wasm`` modules."""
    items = doc.get("modules")
    if not isinstance(items, list) or "code" in doc:
        raise InvalidFunctionRequest("modules must be a list, without code")
    modules = []
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("name", "type", "content")
        ):
            raise InvalidModule("every module is an object with string name, type and content")
        name, kind, content = item["name"], item["type"], item["content"]
        if kind in ("data", "wasm"):
            try:
                content = base64.b64decode(content, validate=True)
            except (ValueError, binascii.Error):
                raise InvalidModule(
                    f"module {name!r}: content must be base64", module=name
                ) from None
        modules.append(Module(name, kind, content))
    rest = {k: v for k, v in doc.items() if k not in ("modules", "main_module")}
    rest["code"] = _module_set(doc.get("main_module"), modules, limits)
    return rest


def _code_problem(check: ValidationResult) -> Problem:
    """The deploy's answer when its code does not load: where, and why, in JS terms."""
    err = check.error or JSErrorInfo("SyntaxError", "invalid code")
    if check.reason == "crashed":
        return CodeCrashed(err.message)
    where = ""
    if err.line is not None:
        where = f" at line {err.line}" + (f", column {err.column}" if err.column else "")
    return InvalidCode(f"{err.name}{where}: {err.message}", line=err.line, column=err.column)
