"""The data plane: ``/fn/{name}[/{path}]`` and claimed route patterns → the runtime.

Order of checks (each rejection consumes nothing after it): function exists (404) → key
present and known (401) → key live and in scope (403) → body size (413) → one atomic
quota check-and-count (429) → runtime. Outcomes map to HTTP in :mod:`outcomes`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Coroutine
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from isogate.caches import LRU
from isogate.config import Settings
from isogate.gateway.api import invocations as api_invocations
from isogate.gateway.bodies import too_large
from isogate.gateway.errors import NotFound, RequestTimeout, RuntimeFailed, SecretsUnreadable
from isogate.gateway.function_response import FunctionResponse
from isogate.gateway.outcomes import (
    outcome_problem,
    responses_full,
    runtime_deadline,
    runtime_failure,
    runtime_unavailable,
)
from isogate.gateway.problems import Problem, to_problem
from isogate.gateway.ratelimit_headers import rate_headers
from isogate.gateway.request_shaping import function_headers, scoped_set_cookie, unmounted_url
from isogate.gateway.response_buffers import Lease
from isogate.gateway.services import Services
from isogate.gateway.streamed_response import StreamedResponse
from isogate.gateway.uploads import Upload, drain_unread, read_request_body
from isogate.quota.errors import KeyOutOfScope, KeyUnknown, QuotaError, Rejected
from isogate.quota.models import ApiKey
from isogate.registry.errors import FunctionNotFound
from isogate.registry.models import Function, InvocationRecord
from isogate.registry.names import check_function_name, is_operator_path
from isogate.runtime.body_stream import STREAM_WINDOW
from isogate.runtime.errors import BodyUnreadable, RuntimeFailure
from isogate.runtime.types import FunctionRef, InvokeRequest, InvokeResult, Outcome
from isogate.state.errors import SecretsUnavailable
from isogate.state.secrets import FunctionSecrets

log = logging.getLogger(__name__)

#: methods the data-plane routes accept (others get the router's 405)
DATA_PLANE_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: Response headers the gateway sets itself; a function's values are dropped.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
        "x-invocation-id",
    }
)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")


def _presented_key(request: Request) -> tuple[str | None, str | None]:
    """(secret, header it came in) from ``X-API-Key`` or ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    if key:
        return key.strip(), "x-api-key"
    auth = request.headers.get("authorization", "")
    scheme, _, cred = auth.partition(" ")
    if scheme.lower() == "bearer" and cred.strip():
        return cred.strip(), "authorization"
    return None, None


def _invocation_id() -> str:
    """A random id: a sequential one would tell every caller the gateway's total traffic
    across all tenants (issue 24). 96 random bits: collisions are not a concern."""
    return "inv_" + secrets.token_hex(12)


async def _invoke(
    request: Request, svc: Services, fn: Function, mount_prefix: str | None = None
) -> Response | FunctionResponse | StreamedResponse:
    inv_id = _invocation_id()
    started = time.perf_counter()
    extra_headers: dict[str, str] = {"X-Invocation-Id": inv_id}
    key: ApiKey | None = None
    upload: Upload | None = None  # the rest of a large request body
    body_read = False  # the client's whole body has been taken (or handed over)
    try:
        ver = fn.current
        if not ver.public:
            secret, _header = _presented_key(request)
            if not secret:
                raise KeyUnknown("an API key is required (Authorization: Bearer or X-API-Key)")
            key = await svc.verifier.lookup(secret)
        try:
            if not ver.public:
                assert key is not None  # looked up above for every non-public version
                svc.verifier.check(key, fn.name)
                if key.tenant != fn.tenant:
                    raise KeyOutOfScope(f"this API key may not invoke {fn.name!r}")
            body, upload = await read_request_body(
                request,
                svc.settings.runtime.max_request_body,
                svc.settings.body_read_timeout_seconds,
            )
            body_read = True
        except (QuotaError, Problem):
            if key is not None:  # a keyed refusal still tells the key's limits
                extra_headers.update(rate_headers(await svc.limiter.peek(key.id, key.policy)))
            raise
        respond_async = api_invocations.wants_async(request)  # Prefer: respond-async
        if respond_async and upload is not None:  # stored whole: read before anything counts
            body += await _rest_of(upload)
            upload = None
        if respond_async:  # a full queue refuses before the quota counts the call
            await api_invocations.check_room(svc, fn)
        if key is not None:
            try:
                decision = await svc.limiter.acquire(key.id, key.policy)
            except Rejected as exc:
                svc.metrics.quota_rejections.labels(exc.reason).inc()
                raise
            extra_headers.update(rate_headers(decision))
        # request_shaping: no consumed credential reaches the function, identity headers
        # are the gateway's own, and /fn/NAME is cut from the URL it sees
        headers = function_headers(request.scope["headers"], key, mount_prefix)
        url = str(request.url)
        if mount_prefix is not None:
            url = unmounted_url(url, mount_prefix)
        if respond_async:  # recorded in SQL, answered 202; gateway.async_runner runs it
            return await api_invocations.accept(
                svc, fn, key, inv_id, request.method, url, headers, body, extra_headers
            )
        ref = _function_ref(
            svc.function_refs, fn, await _secrets_of(svc, fn), await _kv_bindings_of(svc, fn)
        )
        req = InvokeRequest(
            method=request.method,
            url=url,
            headers=headers,
            body=body,
            invocation_id=inv_id,
            stream=True,  # a streamed body goes on to the client as it comes
            upload=upload,  # the rest of a large body, read as the function reads it
        )
        rt = svc.settings.runtime
        limit_ms = min(ver.timeout_ms or rt.default_timeout_ms, rt.max_timeout_ms)
        deadline = (limit_ms + rt.queue_timeout_ms) / 1000 + svc.settings.runtime_grace_seconds
        try:
            async with asyncio.timeout(deadline):
                result = await _unless_client_leaves(
                    svc.runtime.invoke(ref, req),
                    upload.receive if upload else request.receive,
                    upload,
                )
        except TimeoutError:
            failure = runtime_deadline()
            _record(svc, fn, inv_id, failure.status, "timeout", started, None)
            raise failure from None
        except RuntimeFailure as exc:  # no worker (a restart): the 503 it is, no traceback
            log.warning("runtime unavailable for %s: %s", fn.name, exc)
            failure = runtime_unavailable(svc.settings.retry_after_seconds)
            _record(svc, fn, inv_id, failure.status, "crashed", started, None)
            raise failure from None
        except Exception:
            log.exception("runtime call failed for %s", fn.name)
            failure = runtime_failure()
            _record(svc, fn, inv_id, failure.status, "crashed", started, None)
            raise failure from None
        if upload is not None and upload.size > upload.limit:
            # The body passed the limit while the function read it (chunked: no length
            # to refuse it by up front). Its read failed; the client is answered 413, as
            # a body refused before the call is, whatever the function made of that
            # failure (a streamed response's headers are not out yet: it is dropped).
            # What the client still sends is only drained: the connection is not kept.
            if result is not None and result.stream is not None:
                result.stream.cancel()
            _record(svc, fn, inv_id, 413, Outcome.TOO_LARGE.value, started, result)
            extra_headers["Connection"] = "close"
            raise too_large(upload.limit)
        if result is None:  # nobody to answer: recorded, and the response goes nowhere
            _record(svc, fn, inv_id, CLIENT_GONE, "abandoned", started, None)
            return Response(status_code=CLIENT_GONE)
        if result.stream is not None:  # the body follows as the function produces it
            response = _streamed(
                svc, fn, inv_id, started, result, extra_headers, request, mount_prefix
            )
            if upload is not None:  # its reads own the connection until the body is over
                response.receive = upload.receive
                upload = None  # the runtime ends it with the stream
            return response
        problem = outcome_problem(result, svc.settings.retry_after_seconds)
        lease = None
        if problem is None and svc.responses is not None:
            lease = svc.responses.reserve(request.scope.get("client"), len(result.body))
            if lease is None:  # clients already hold too much unread: do not pin more
                svc.metrics.quota_rejections.labels("response_buffers").inc()
                problem = responses_full(svc.settings.retry_after_seconds)
        status = problem.status if problem else result.status
        _record(svc, fn, inv_id, status, result.outcome.value, started, result)
        if problem is not None:
            raise problem
        try:
            return _function_response(result, extra_headers, mount_prefix, lease, svc.settings)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
    except Exception as exc:
        problem = to_problem(exc)
        # The traceback holds this frame, whose locals hold the problem (a cycle) and the
        # function's result: each refused 8 MB response stayed in memory until the next
        # garbage collection, which an idle server may not run for a long time.
        exc.__traceback__ = None
        problem.headers = {**extra_headers, **problem.headers}
        if problem.status in (401, 403, 404, 413, 429):
            svc.metrics.count(fn.name, problem.status, fn.tenant)
        return problem.response()
    finally:
        if upload is not None:  # the call is over (or never made): drain what is left
            upload.close()
        elif not body_read:  # refused before its body was read (or while): drain it
            drain_unread(request, svc.settings.body_read_timeout_seconds)


async def _rest_of(upload: Upload) -> bytes:
    """The rest of a body read whole (413 past the limit, 408 when too slow)."""
    try:
        return await upload.read_all()
    except BodyUnreadable as exc:
        if upload.gone:
            raise ClientDisconnect() from None
        if upload.size > upload.limit:
            raise too_large(upload.limit) from None
        raise RequestTimeout(str(exc), {"Connection": "close"}) from None


#: status recorded for an invocation whose client went away (nginx's "client closed request")
CLIENT_GONE = 499


#: seconds a call runs before the gateway starts watching its connection: most calls
#: answer sooner, and for them no watcher task is made at all (a task per request was
#: measurable on the warm path); a client that leaves is noticed at most this late
WATCH_AFTER = 0.05


async def _unless_client_leaves(
    call: Coroutine[Any, Any, InvokeResult], receive: Receive, upload: Upload | None = None
) -> InvokeResult | None:
    """Await ``call``; if the client goes away first (connection closed, HTTP/2 stream
    reset: the server then sends ``http.disconnect``), cancel it and return None.

    Cancelling is what frees capacity: a queued call leaves its tenant's queue at once,
    a running one is stopped at its next safe point (see the runtime). ``receive`` is
    the connection's, past the request body (or an upload's, which waits for the body
    to end), so the only message left to receive is the disconnect. The
    watcher starts only once the call has taken ``WATCH_AFTER``: a timer is cheaper than
    a task for the calls that answer before that. An ``upload`` whose read finds the
    client gone cancels the call then and there (before the function could answer the
    failed read: the call is the client's leaving, not what the function made of it).
    """
    task = asyncio.current_task()
    assert task is not None
    left = finished = False
    watcher: asyncio.Task[None] | None = None

    def leave() -> None:
        nonlocal left
        if not left:  # cancelled once: uncancel() below undoes exactly one
            left = True
            if not finished:
                task.cancel()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass  # an HTTP/1 request without a body still delivers its empty body once
        leave()

    if upload is not None:
        upload.on_gone = leave

    def start() -> None:
        nonlocal watcher
        if not finished:
            watcher = asyncio.create_task(watch())

    timer = asyncio.get_running_loop().call_later(WATCH_AFTER, start)
    try:
        result = await call
        finished = True  # set in the same step the result arrives: no cancel after this
        return result
    except asyncio.CancelledError:
        if left and task.uncancel() == 0:
            return None
        raise
    finally:
        finished = True
        timer.cancel()
        if watcher is not None:
            watcher.cancel()
        if upload is not None:
            upload.on_gone = None


async def _secrets_of(svc: Services, fn: Function) -> FunctionSecrets | None:
    """The function's opened secrets (cached per replica); a 503 without detail when
    they cannot be opened (the operator's log says why; the tenant learns nothing)."""
    if svc.secret_cache is None:
        return None
    try:
        return await svc.secret_cache.get(fn.name, fn.tenant, fn.created_at)
    except SecretsUnavailable as exc:
        log.error("secrets of %s cannot be opened: %s", fn.name, exc)
        raise SecretsUnreadable(
            "the function's secrets cannot be read now",
            {"Retry-After": str(svc.settings.retry_after_seconds)},
        ) from None


async def _kv_bindings_of(svc: Services, fn: Function) -> tuple[tuple[str, str], ...]:
    """The current version's KV bindings (env name, namespace), cached per replica."""
    if svc.binding_cache is None:
        return ()
    ver = fn.current
    return await svc.binding_cache.kv_of(fn.name, ver.version, ver.created_at)


def _function_ref(
    refs: LRU[tuple[object, ...], FunctionRef],
    fn: Function,
    secrets: FunctionSecrets | None = None,
    kv_bindings: tuple[tuple[str, str], ...] = (),
) -> FunctionRef:
    ver = fn.current
    rev, values = (secrets.revision, secrets.values) if secrets is not None else ("", ())
    # created_at too: a deleted name deployed again starts over at version 1, maybe with
    # the same code but other env or limits (or by another tenant)
    ident = (
        fn.name,
        fn.tenant,
        ver.version,
        ver.sha256,
        ver.created_at,
        fn.created_at,
        rev,
        kv_bindings,
    )
    ref = refs.lookup(ident)
    if ref is None:
        ref = refs[ident] = FunctionRef(
            name=fn.name,
            version=ver.version,
            tenant=fn.tenant,
            sha256=ver.sha256,
            env=tuple(sorted(ver.env.items())),
            timeout_ms=ver.timeout_ms,
            cpu_ms=ver.cpu_ms,
            incarnation=fn.created_at,
            secrets=values,
            secrets_rev=rev,
            kv_bindings=kv_bindings,
        )
    return ref


def _function_response(
    result: InvokeResult,
    extra: dict[str, str],
    mount_prefix: str | None = None,
    lease: Lease | None = None,
    settings: Settings | None = None,
) -> FunctionResponse:
    status = result.status or 200
    if not 200 <= status <= 599:
        raise RuntimeFailed("the function sent an invalid status")
    raw = [
        (k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
        for k, v in result.headers
        if k.lower() not in HOP_BY_HOP and _TOKEN.fullmatch(k) and not _BAD_VALUE.search(v)
    ]
    if mount_prefix is not None:  # the shared origin: cookies stay under /fn/NAME
        raw = [
            (k, scoped_set_cookie(v.decode("latin-1"), mount_prefix).encode("latin-1"))
            if k == b"set-cookie"
            else (k, v)
            for k, v in raw
        ]
    own = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    length = [(b"content-length", str(len(result.body)).encode())]
    timeout = settings.http_write_timeout_seconds if settings is not None else None
    return FunctionResponse(status, raw + own + length, result.body, lease, timeout)


def _streamed(
    svc: Services,
    fn: Function,
    inv_id: str,
    started: float,
    result: InvokeResult,
    extra: dict[str, str],
    request: Request,
    mount_prefix: str | None,
) -> StreamedResponse:
    """The response of a function whose body is a stream: its status and headers now,
    the body chunk by chunk (streamed_response.py). It holds at most the stream window
    in the response buffers, reserved here like a buffered body."""
    stream = result.stream
    try:
        lease = None
        if svc.responses is not None:
            lease = svc.responses.reserve(request.scope.get("client"), STREAM_WINDOW)
            if lease is None:
                svc.metrics.quota_rejections.labels("response_buffers").inc()
                problem = responses_full(svc.settings.retry_after_seconds)
                _record(svc, fn, inv_id, problem.status, result.outcome.value, started, result)
                raise problem
        _record(svc, fn, inv_id, result.status or 200, result.outcome.value, started, result)
        head = _function_response(result, extra, mount_prefix, None, svc.settings)
        # no chunk for longer than any function may run or any fetch may wait: the
        # worker is not going to end this stream (the executor normally does, by then)
        rt = svc.settings.runtime
        idle = max(rt.max_timeout_ms, svc.settings.egress.timeout_ms) / 1000
        idle += svc.settings.runtime_grace_seconds
        return StreamedResponse(head, stream, lease, idle)
    except BaseException:
        stream.cancel()
        raise


def _record(
    svc: Services,
    fn: Function,
    inv_id: str,
    status: int,
    outcome: str,
    started: float,
    result: InvokeResult | None,
) -> None:
    elapsed = time.perf_counter() - started
    svc.metrics.count(fn.name, status, fn.tenant)
    svc.metrics.observe(fn.name, elapsed, fn.tenant)
    error = None
    if result is not None and result.outcome is not Outcome.OK:
        if result.error is not None:
            error = f"{result.error.name}: {result.error.message}"
            if result.error.stack:
                error += "\n" + result.error.stack
        else:
            error = result.detail or result.outcome.value
    svc.invocations.record(
        InvocationRecord(
            id=inv_id,
            function=fn.name,
            version=fn.current.version,
            time=time.time(),
            status=status,
            outcome=outcome,
            duration_ms=elapsed * 1000,
            cold=bool(result and result.cold),
            logs=tuple(result.logs) if result else (),
            error=error,
            tenant=fn.tenant,
            incarnation=fn.created_at,
        )
    )


async def invoke_by_name(request: Request) -> Response | FunctionResponse | StreamedResponse:
    """``ANY /fn/{name}`` and ``/fn/{name}/{path}``."""
    return await _invoke_name(request, request.path_params["name"])


async def _invoke_name(
    request: Request, name: str
) -> Response | FunctionResponse | StreamedResponse:
    svc: Services = request.app.state.services
    try:
        name = check_function_name(name)
        fn = await svc.resolver.resolve(name)
    except Exception as exc:
        problem = to_problem(exc)
        if problem.status == 400:  # an impossible name is simply not found
            problem = to_problem(FunctionNotFound("no such function"))
        return problem.response()
    return await _invoke(request, svc, fn, "/fn/" + name)


class DataPlane:
    """ASGI middleware (innermost): ``/fn/{name}[/{path}]`` goes straight to the invoke
    handler, past the exception middleware, the router and the endpoint wrapper, which
    cost measurable time on the hot path (the guards above it still apply). Anything
    else, and anything unusual (no name, a method the routes do not take), goes on to the
    router, which answers exactly as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith("/fn/")
            and not scope.get("root_path")
            and scope["method"] in DATA_PLANE_METHODS
        ):
            name = path[4:].split("/", 1)[0]
            if name:
                response = await _invoke_name(Request(scope, receive), name)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _own_origin(host: str, path: str, functions_domain: str | None) -> str | None:
    """``NAME`` when ``host`` is ``NAME.<functions_domain>`` (a function's own origin);
    ``/.well-known/`` stays the operator's there too."""
    if functions_domain is None or not host.endswith("." + functions_domain):
        return None
    if is_operator_path(path):
        return None
    label = host[: -len(functions_domain) - 1]
    if "." in label:
        return None
    try:
        return check_function_name(label)
    except Exception:
        raise FunctionNotFound("no such function") from None


async def invoke_by_route(scope: Scope, receive: Receive, send: Send) -> None:
    """Router fallback: a claimed route pattern, else a 404 problem."""
    if scope["type"] == "websocket":  # not served: refused before the handshake (403)
        await send({"type": "websocket.close", "code": 1008})
        return
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    svc: Services = request.app.state.services
    host = request.headers.get("host", "").rsplit(":", 1)[0].lower()
    if host.startswith("["):
        host = host.split("]")[0] + "]"
    try:
        name = _own_origin(host, scope["path"], svc.settings.functions_domain)
        if name is None:
            name = await svc.resolver.match_route(host, scope["path"])
        if name is None:
            raise NotFound("no route matches this path")
        fn = await svc.resolver.resolve(name)
    except Exception as exc:
        response: Response | FunctionResponse | StreamedResponse = to_problem(exc).response()
    else:
        response = await _invoke(request, svc, fn)
    await response(scope, receive, send)
