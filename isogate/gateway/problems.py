"""RFC 9457 problem details, and the one place where domain errors become HTTP.

Every error response of the gateway is ``application/problem+json`` with a stable
``type`` URI under :data:`PROBLEM_BASE`; no traceback or internal detail ever leaks.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from isogate.backends.database import is_outage
from isogate.gateway.ratelimit_headers import rate_headers
from isogate.quota import errors as qe
from isogate.registry import errors as re_
from isogate.runtime.errors import RuntimeStartError
from isogate.state import kv
from isogate.state import secrets as st

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://isogate.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An HTTP error to send as a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str = "",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self, instance: str | None = None) -> Response:
        """The problem as a response."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return Response(
            json.dumps(body, ensure_ascii=False),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=self.headers,
        )


# domain error class -> (status, slug, title)
_MAP: dict[type[Exception], tuple[int, str, str]] = {
    qe.StoreUnavailable: (503, "store-unavailable", "Storage unavailable"),
    qe.InvalidName: (400, "invalid-name", "Invalid name"),
    qe.InvalidInput: (422, "invalid-request", "Invalid request"),
    qe.TenantExists: (409, "tenant-exists", "Tenant exists"),
    qe.InvalidCredentials: (401, "invalid-credentials", "Invalid credentials"),
    qe.PasswordHashBusy: (503, "busy", "Busy"),
    qe.KeyNotFound: (404, "key-not-found", "Key not found"),
    qe.KeyUnknown: (401, "invalid-api-key", "Missing or unknown API key"),
    qe.KeyExpired: (403, "key-expired", "API key expired"),
    qe.KeyRevoked: (403, "key-revoked", "API key revoked"),
    qe.KeyOutOfScope: (403, "key-out-of-scope", "API key not allowed here"),
    re_.StoreUnavailable: (503, "store-unavailable", "Storage unavailable"),
    re_.InvalidName: (400, "invalid-name", "Invalid name"),
    re_.InvalidRoute: (400, "invalid-route", "Invalid route"),
    re_.InvalidFunction: (422, "invalid-function", "Invalid function"),
    re_.FunctionNotFound: (404, "function-not-found", "Function not found"),
    re_.VersionNotFound: (404, "version-not-found", "Version not found"),
    re_.NameTaken: (409, "name-taken", "Name taken"),
    re_.RouteConflict: (409, "route-conflict", "Route conflict"),
    re_.RouteForbidden: (403, "route-not-allowed", "Route not allowed"),
    re_.RouteLimit: (403, "route-limit", "Route limit reached"),
    re_.HostTaken: (409, "host-taken", "Hostname taken"),
    re_.BlobMissing: (503, "code-unavailable", "Code unavailable"),
    re_.LimitExceeded: (403, "limit-exceeded", "Tenant limit exceeded"),
    st.SecretNotFound: (404, "secret-not-found", "Secret not found"),
    st.InvalidSecret: (422, "invalid-secret", "Invalid secret"),
    st.SecretsUnavailable: (503, "secrets-unavailable", "Secrets unavailable"),
    kv.NamespaceNotFound: (404, "kv-namespace-not-found", "KV namespace not found"),
    kv.NamespaceExists: (409, "kv-namespace-exists", "KV namespace exists"),
    kv.KvKeyNotFound: (404, "kv-key-not-found", "KV key not found"),
    kv.InvalidKv: (422, "invalid-kv", "Invalid KV request"),
    kv.KvQuotaExceeded: (429, "kv-quota-exceeded", "KV quota exhausted"),
    RuntimeStartError: (503, "runtime-unavailable", "Runtime unavailable"),
}

_RETRY = {"store-unavailable": "1", "code-unavailable": "1", "busy": "1"}


def to_problem(exc: Exception) -> Problem:
    """Map any exception to a :class:`Problem` (unknown ones to a bare 500)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, qe.Rejected):
        headers = rate_headers(exc.decision) if exc.decision else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        slug = {"rate_limit": "rate-limited", "quota": "quota-exceeded"}.get(
            exc.reason, "uses-exhausted"
        )
        title = {
            "rate-limited": "Rate limit exceeded",
            "quota-exceeded": "Quota exhausted",
            "uses-exhausted": "Uses exhausted",
        }[slug]
        return Problem(429, slug, title, str(exc), headers)
    for cls, (status, slug, title) in _MAP.items():
        if isinstance(exc, cls):
            headers = {}
            if slug in _RETRY:
                headers["Retry-After"] = _RETRY[slug]
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            extra = getattr(exc, "extra", None) or {}  # e.g. the patterns of a route conflict
            return Problem(status, slug, title, str(exc), headers, **extra)
    if isinstance(exc, HTTPException):
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return Problem(exc.status_code, slug, title, "", dict(exc.headers or {}))
    if isinstance(exc, ClientDisconnect):  # nobody is left to read the answer
        return Problem(400, "client-disconnected", "Client disconnected", "")
    if isinstance(exc, TimeoutError):
        return Problem(503, "upstream-timeout", "Upstream timeout", "a dependency timed out")
    if is_outage(exc):
        log.warning("metadata store unavailable: %s", exc.__class__.__name__)
        return Problem(
            503,
            "store-unavailable",
            "Storage unavailable",
            "the metadata store is unreachable",
            {"Retry-After": "1"},
        )
    log.error("unhandled error", exc_info=exc)
    return Problem(500, "internal", "Internal error", "an unexpected error occurred")


async def handle_exception(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: every error becomes a problem document."""
    return to_problem(exc).response()
