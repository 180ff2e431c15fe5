"""Request bodies: size caps (413) checked while reading, JSON and content-type checks."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.types import Scope

from isogate.gateway.errors import (
    BadRequest,
    BodyTooLarge,
    InvalidRequest,
    MalformedJson,
    RequestTimeout,
    UnsupportedMediaType,
)
from isogate.gateway.problems import Problem

M = TypeVar("M", bound=BaseModel)


def too_large(limit: int) -> Problem:
    """413 problem for a body over ``limit`` bytes."""
    return BodyTooLarge(f"the body exceeds {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or a 413 problem as soon as it passes ``limit`` bytes, or a 408
    problem when it does not arrive within ``body_read_timeout_seconds`` (slow senders)."""
    body, _ = await read_head(request, limit, None)
    return body


async def read_head(request: Request, limit: int, head: int | None) -> tuple[bytes, bool]:
    """The body's start: (bytes, whether more follows). Reads until the body ends or,
    with ``head``, until at least that many bytes have come; 413 and 408 problems as
    :func:`read_body` (the deadline is for what is read here)."""
    if has_no_body(request.scope):
        return b"", False  # nothing to wait for: no deadline, no receive() (the common GET)
    deadline = request.app.state.settings.body_read_timeout_seconds
    try:
        async with asyncio.timeout(deadline):
            return await _read_head(request, limit, head)
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {deadline:g} s", {"Connection": "close"}
        ) from None


def has_no_body(scope: Scope) -> bool:
    """Whether the request of ``scope`` comes without a body. An HTTP/1 request with
    neither Content-Length nor Transfer-Encoding has none (RFC 9112 section 6.3); HTTP/2
    and 3 frame bodies without them, so those are read."""
    if scope.get("http_version") not in ("1.1", "1.0"):
        return False
    return all(k != b"content-length" and k != b"transfer-encoding" for k, _ in scope["headers"])


async def _read_head(request: Request, limit: int, head: int | None) -> tuple[bytes, bool]:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large(limit)
        except ValueError:
            raise BadRequest("invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if head is not None and size >= head:
            return b"".join(chunks), True


def media_type(request: Request) -> str:
    """The request's media type, lower-cased, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(mt: str) -> bool:
    """Whether ``mt`` is JSON (``application/json`` or ``+json``)."""
    return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))


def parse_json(raw: bytes) -> Any:
    """Parse JSON or raise a 400 problem."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None


def validate(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model`` or raise a 422 problem listing the bad fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors(include_input=False, include_url=False)
        ][:20]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidRequest(detail, errors=errors) from None


async def json_body(request: Request, model: type[M], limit: int) -> M:
    """Read, parse and validate a JSON request body (415 if not JSON)."""
    if not is_json(media_type(request)):
        raise UnsupportedMediaType("send the body as application/json")
    raw = await read_body(request, limit)
    return validate(model, parse_json(raw))
