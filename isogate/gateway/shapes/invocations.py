"""Asynchronous invocations: the ``202`` answer and ``GET /v1/invocations/{id}``."""

from __future__ import annotations

from typing import Literal

from isogate.gateway.shapes.base import Number, Shape, omitted


class AsyncAccepted(Shape):
    """``Prefer: respond-async``: recorded; the result at ``location``."""

    id: str
    status: str
    location: str


class AsyncResponse(Shape):
    """The function's response: ``body`` when UTF-8, else ``body_base64``."""

    status: int
    headers: list[list[str]]
    body: str = omitted()
    body_base64: str = omitted()


class AsyncInvocation(Shape):
    """An asynchronous invocation (times in UNIX seconds)."""

    id: str
    function: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    max_attempts: int
    created_at: Number
    started_at: Number | None
    finished_at: Number | None
    expires_at: Number | None
    duration_ms: Number | None
    error: str | None
    response: AsyncResponse | None
