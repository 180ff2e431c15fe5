"""Asynchronous invocations: acceptance of ``Prefer: respond-async`` calls (used by the
data plane) and ``GET /v1/invocations/{id}``.

An accepted call is a committed row of the SQL queue before the caller hears ``202``;
:mod:`isogate.gateway.async_runner` runs it. The resource is visible to the function's
tenant (login token) and to the API key that made the call; to anyone else it does not
exist (404).
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import require_tenant
from isogate.gateway.errors import AsyncDisabled, AsyncQueueFull, NotFound, Unauthorized
from isogate.gateway.problems import Problem
from isogate.gateway.services import Services
from isogate.gateway.shapes.invocations import AsyncAccepted, AsyncInvocation
from isogate.gateway.views import json_response, services
from isogate.quota.models import ApiKey
from isogate.registry.models import Function
from isogate.state.async_queue import InvocationRow
from isogate.state.errors import QueueFull

PREFERENCE = "respond-async"


def wants_async(request: Request) -> bool:
    """Whether the request carries ``Prefer: respond-async`` (RFC 7240; other
    preferences in the same or other ``Prefer`` headers are ignored)."""
    for value in request.headers.getlist("prefer"):
        for pref in value.split(","):
            name = pref.split(";", 1)[0].split("=", 1)[0].strip().lower()
            if name == PREFERENCE:
                return True
    return False


def _full(svc: Services, detail: str) -> Problem:
    return AsyncQueueFull(detail, {"Retry-After": str(svc.settings.retry_after_seconds)})


async def check_room(svc: Services, fn: Function) -> None:
    """429 before the quota is counted when the tenant's queue is already full."""
    queue = svc.async_queue
    if queue is None:
        raise AsyncDisabled("asynchronous invocations are off")
    if await queue.unfinished(fn.tenant) >= queue.max_per_tenant:
        raise _full(svc, f"at most {queue.max_per_tenant} asynchronous invocations may wait")


async def accept(
    svc: Services,
    fn: Function,
    key: ApiKey | None,
    inv_id: str,
    method: str,
    url: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    extra_headers: dict[str, str],
) -> Response:
    """Record the invocation durably and answer ``202 Accepted``."""
    queue = svc.async_queue
    assert queue is not None
    try:
        await queue.enqueue(
            inv_id,
            tenant=fn.tenant,
            function=fn.name,
            incarnation=fn.created_at,
            key_id=key.id if key is not None else None,
            method=method,
            url=url,
            headers=headers,
            body=body,
        )
    except QueueFull as exc:
        raise _full(svc, str(exc)) from None
    if svc.async_runner is not None:
        svc.async_runner.wake()
    location = f"/v1/invocations/{inv_id}"
    return json_response(
        AsyncAccepted(id=inv_id, status="queued", location=location),
        202,
        {**extra_headers, "Location": location, "Preference-Applied": PREFERENCE},
    )


def _body_view(raw: bytes | None) -> dict[str, str]:
    data = bytes(raw or b"")
    try:
        return {"body": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode("ascii")}


def invocation_view(row: InvocationRow) -> AsyncInvocation:
    """The public view of an invocation row (never the request it carried)."""
    view: dict[str, Any] = {
        "id": row["id"],
        "function": row["function"],
        "status": row["status"],
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "expires_at": row["expires_at"],
        "duration_ms": (
            (row["finished_at"] - row["started_at"]) * 1000
            if row["finished_at"] is not None and row["started_at"] is not None
            else None
        ),
        "error": row["error"],
        "response": None,
    }
    if row["response_status"] is not None:
        view["response"] = {
            "status": row["response_status"],
            "headers": [list(h) for h in row["response_headers"] or []],
            **_body_view(row["response_body"]),
        }
    return AsyncInvocation.model_validate(view)


def _unauthorized() -> Problem:
    return Unauthorized(
        "send the tenant's login token or the API key that made the call",
        {"WWW-Authenticate": 'Bearer realm="isogate"'},
    )


def _not_found() -> Problem:
    return NotFound("no such invocation")


async def _caller_may_read(request: Request, svc: Services, row: InvocationRow) -> bool:
    """The owning tenant's login token, or the API key that made the call."""
    secret = request.headers.get("x-api-key")
    if not secret:
        try:
            return await require_tenant(request) == row["tenant"]
        except Problem:
            pass
        scheme, _, cred = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not cred.strip():
            raise _unauthorized()
        secret = cred.strip()
    try:
        key = await svc.verifier.lookup(secret.strip())
    except Exception:
        return False
    return row["key_id"] is not None and key.id == row["key_id"]


async def get_invocation(request: Request) -> Response:
    """``GET /v1/invocations/{id}``: status, the function's response, timings, attempts."""
    svc = services(request)
    if svc.async_queue is None:
        raise _not_found()
    inv_id = request.path_params["id"]
    row = await svc.async_queue.get(inv_id) if len(inv_id) <= 32 else None
    if row is None:
        # credentials are still required: an anonymous caller learns nothing either way
        if not request.headers.get("x-api-key") and not request.headers.get("authorization"):
            raise _unauthorized()
        raise _not_found()
    if not await _caller_may_read(request, svc, row):
        raise _not_found()
    return json_response(invocation_view(row))
