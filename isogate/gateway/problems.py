"""RFC 9457 problem details, and the one place where errors become HTTP.

Every error response of the gateway is ``application/problem+json`` with a stable
``type`` URI under :data:`PROBLEM_BASE`; no traceback or internal detail ever leaks.
:data:`TABLE` maps each error class (of the quota, registry, runtime and state packages,
and the gateway's own in :mod:`isogate.gateway.errors`) to its status, type and title;
:data:`REJECTED` and :data:`HTTP_STATUS` do the same for the two errors whose kind
depends on a value (the limit that refused a call; Starlette's routing status).
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from isogate.backends.database import is_outage
from isogate.gateway import errors as ge
from isogate.gateway.errors import PROBLEM_BASE, PROBLEM_JSON, Problem, ProblemKind
from isogate.gateway.ratelimit_headers import rate_headers
from isogate.quota import errors as qe
from isogate.registry import errors as re_
from isogate.runtime.errors import RuntimeStartError
from isogate.state import errors as se

__all__ = [
    "HTTP_STATUS",
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "REJECTED",
    "TABLE",
    "Problem",
    "ProblemKind",
    "handle_exception",
    "kind_of",
    "to_problem",
]

log = logging.getLogger(__name__)

_RETRY_SOON = {"Retry-After": "1"}
_BEARER = {"WWW-Authenticate": "Bearer"}


def _k(status: int, slug: str, title: str) -> ProblemKind:
    """A kind with its default headers: a 401 asks for a bearer token; an outage of a
    backend, or a busy hashing pool, says to retry in a second."""
    headers: dict[str, str] = {}
    if slug in ("store-unavailable", "code-unavailable", "busy"):
        headers.update(_RETRY_SOON)
    if status == 401:
        headers.update(_BEARER)
    return ProblemKind(status, slug, title, headers)


#: error class -> its problem (the first entry the error is an instance of)
TABLE: dict[type[Exception], ProblemKind] = {
    # quota: tenants, API keys
    qe.StoreUnavailable: _k(503, "store-unavailable", "Storage unavailable"),
    qe.InvalidName: _k(400, "invalid-name", "Invalid name"),
    qe.InvalidInput: _k(422, "invalid-request", "Invalid request"),
    qe.TenantExists: _k(409, "tenant-exists", "Tenant exists"),
    qe.InvalidCredentials: _k(401, "invalid-credentials", "Invalid credentials"),
    qe.PasswordHashBusy: _k(503, "busy", "Busy"),
    qe.KeyNotFound: _k(404, "key-not-found", "Key not found"),
    qe.KeyUnknown: _k(401, "invalid-api-key", "Missing or unknown API key"),
    qe.KeyExpired: _k(403, "key-expired", "API key expired"),
    qe.KeyRevoked: _k(403, "key-revoked", "API key revoked"),
    qe.KeyOutOfScope: _k(403, "key-out-of-scope", "API key not allowed here"),
    # registry: functions, versions, routes, code
    re_.StoreUnavailable: _k(503, "store-unavailable", "Storage unavailable"),
    re_.InvalidName: _k(400, "invalid-name", "Invalid name"),
    re_.InvalidRoute: _k(400, "invalid-route", "Invalid route"),
    re_.InvalidFunction: _k(422, "invalid-function", "Invalid function"),
    re_.FunctionNotFound: _k(404, "function-not-found", "Function not found"),
    re_.VersionNotFound: _k(404, "version-not-found", "Version not found"),
    re_.NameTaken: _k(409, "name-taken", "Name taken"),
    re_.RouteConflict: _k(409, "route-conflict", "Route conflict"),
    re_.RouteForbidden: _k(403, "route-not-allowed", "Route not allowed"),
    re_.RouteLimit: _k(403, "route-limit", "Route limit reached"),
    re_.HostTaken: _k(409, "host-taken", "Hostname taken"),
    re_.BlobMissing: _k(503, "code-unavailable", "Code unavailable"),
    re_.LimitExceeded: _k(403, "limit-exceeded", "Tenant limit exceeded"),
    # state: secrets, KV, bindings
    se.SecretNotFound: _k(404, "secret-not-found", "Secret not found"),
    se.InvalidSecret: _k(422, "invalid-secret", "Invalid secret"),
    se.SecretsUnavailable: _k(503, "secrets-unavailable", "Secrets unavailable"),
    se.NamespaceNotFound: _k(404, "kv-namespace-not-found", "KV namespace not found"),
    se.NamespaceExists: _k(409, "kv-namespace-exists", "KV namespace exists"),
    se.KvKeyNotFound: _k(404, "kv-key-not-found", "KV key not found"),
    se.InvalidKv: _k(422, "invalid-kv", "Invalid KV request"),
    se.KvQuotaExceeded: _k(429, "kv-quota-exceeded", "KV quota exhausted"),
    se.InvalidBinding: _k(400, "invalid-binding", "Invalid binding"),
    se.InvalidCron: _k(400, "invalid-cron", "Invalid cron"),
    # runtime
    RuntimeStartError: _k(503, "runtime-unavailable", "Runtime unavailable"),
    # the gateway's own
    ge.BadRequest: _k(400, "bad-request", "Bad request"),
    ge.ClientDisconnected: _k(400, "client-disconnected", "Client disconnected"),
    ge.MalformedJson: _k(400, "malformed-json", "Malformed JSON"),
    ge.UnreadableBody: _k(400, "invalid-request", "Invalid request"),
    ge.InvalidEncoding: _k(400, "invalid-encoding", "Invalid encoding"),
    ge.InvalidCode: _k(400, "invalid-code", "Invalid code"),
    ge.Unauthorized: _k(401, "unauthorized", "Unauthorized"),
    ge.RegistrationClosed: _k(403, "registration-closed", "Registration closed"),
    ge.AdminDisabled: _k(403, "admin-disabled", "Admin API disabled"),
    ge.AdminOnly: _k(403, "admin-only", "Admin only"),
    ge.NotFound: _k(404, "not-found", "Not found"),
    ge.TenantNotFound: _k(404, "tenant-not-found", "Tenant not found"),
    ge.RouteNotFound: _k(404, "route-not-found", "Route not found"),
    ge.RequestTimeout: _k(408, "request-timeout", "Request timeout"),
    ge.BodyTooLarge: _k(413, "body-too-large", "Body too large"),
    ge.ModuleTooLarge: _k(413, "module-too-large", "Module too large"),
    ge.UnsupportedMediaType: _k(415, "unsupported-media-type", "Unsupported media type"),
    ge.InvalidRequest: _k(422, "invalid-request", "Invalid request"),
    ge.InvalidFunctionRequest: _k(422, "invalid-function", "Invalid function"),
    ge.InvalidModule: _k(422, "invalid-module", "Invalid module"),
    ge.CodeCrashed: _k(422, "code-crashed", "Code crashed at load"),
    ge.AuthRateLimited: _k(429, "auth-rate-limited", "Too many authentication attempts"),
    ge.DeployRateLimited: _k(429, "deploy-rate-limited", "Too many deploys"),
    ge.TooManyDeploys: _k(429, "too-many-deploys", "Too many deploys at once"),
    ge.CrashBudgetSpent: _k(429, "crash-budget-spent", "Crash budget spent"),
    ge.AsyncQueueFull: _k(429, "async-queue-full", "Too many queued invocations"),
    ge.TenantBusy: _k(429, "tenant-busy", "Too many waiting calls"),
    ge.HeadersTooLarge: _k(431, "headers-too-large", "Request header fields too large"),
    ge.FunctionFailed: _k(500, "function-error", "Function error"),
    ge.FunctionUnsettled: _k(500, "function-unsettled", "Function error"),
    ge.FunctionLoadFailed: _k(500, "function-load-error", "Function error"),
    ge.InternalError: _k(500, "internal", "Internal error"),
    ge.AsyncDisabled: _k(501, "not-implemented", "Not implemented"),
    ge.RuntimeCrashed: _k(502, "runtime-crashed", "Runtime crashed"),
    ge.RuntimeFailed: _k(502, "runtime-error", "Runtime error"),
    ge.ResponseTooLarge: _k(502, "response-too-large", "Response too large"),
    ge.Overloaded: _k(503, "overloaded", "Overloaded"),
    ge.Quarantined: _k(503, "quarantined", "Function quarantined"),
    ge.CodeUnavailable: _k(503, "code-unavailable", "Code unavailable"),
    ge.CpuLimit: _k(503, "cpu-limit", "CPU time limit exceeded"),
    ge.NotReady: _k(503, "not-ready", "Not ready"),
    ge.ResponseBuffersFull: _k(503, "response-buffers-full", "Overloaded"),
    ge.RuntimeUnavailable: _k(503, "runtime-unavailable", "Runtime unavailable"),
    ge.SecretsUnreadable: _k(503, "secrets-unavailable", "Secrets unavailable"),
    ge.StoreUnreachable: _k(503, "store-unavailable", "Storage unavailable"),
    ge.UpstreamTimeout: _k(503, "upstream-timeout", "Upstream timeout"),
    ge.TimeLimit: _k(504, "timeout", "Time limit exceeded"),
}

#: :class:`~isogate.quota.errors.Rejected` by the limit that refused the call
REJECTED: dict[str, ProblemKind] = {
    "rate_limit": _k(429, "rate-limited", "Rate limit exceeded"),
    "quota": _k(429, "quota-exceeded", "Quota exhausted"),
    "uses": _k(429, "uses-exhausted", "Uses exhausted"),
}

#: Starlette's own refusals (no route, wrong method) by status; others are "http-error"
HTTP_STATUS: dict[int, ProblemKind] = {
    404: ProblemKind(404, "not-found", "Not found"),
    405: ProblemKind(405, "method-not-allowed", "Method not allowed"),
}


def kind_of(cls: type[Exception]) -> ProblemKind:
    """The table's entry for ``cls`` (or its nearest listed base)."""
    for base in cls.__mro__:
        kind = TABLE.get(base)
        if kind is not None:
            return kind
    raise LookupError(f"{cls.__qualname__} is not in the problem table")


def to_problem(exc: Exception) -> Problem:
    """Map any exception to a :class:`Problem` (unknown ones to a bare 500)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, qe.Rejected):
        headers = rate_headers(exc.decision) if exc.decision else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return Problem(str(exc), headers, kind=REJECTED.get(exc.reason, REJECTED["uses"]))
    for base in type(exc).__mro__:
        kind = TABLE.get(base)
        if kind is not None:
            # e.g. the patterns of a route conflict, the binding a deploy named
            extra = getattr(exc, "extra", None) or {}
            return Problem(str(exc), kind=kind, **extra)
    if isinstance(exc, HTTPException):
        code = exc.status_code
        kind = HTTP_STATUS.get(code) or ProblemKind(code, "http-error", "HTTP error")
        return Problem("", dict(exc.headers or {}), kind=kind)
    if isinstance(exc, ClientDisconnect):  # nobody is left to read the answer
        return ge.ClientDisconnected()
    if isinstance(exc, TimeoutError):
        return ge.UpstreamTimeout("a dependency timed out")
    if is_outage(exc):
        log.warning("metadata store unavailable: %s", exc.__class__.__name__)
        return ge.StoreUnreachable("the metadata store is unreachable", _RETRY_SOON)
    log.error("unhandled error", exc_info=exc)
    return ge.InternalError("an unexpected error occurred")


async def handle_exception(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: every error becomes a problem document."""
    return to_problem(exc).response()
