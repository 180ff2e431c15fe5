"""Operations endpoints: ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``."""

from __future__ import annotations

import hmac
import json

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from isogate.gateway.auth import bearer
from isogate.gateway.errors import NotReady, Unauthorized
from isogate.gateway.openapi import openapi_document
from isogate.gateway.shapes.ops import Status
from isogate.gateway.views import json_response, services


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return json_response(Status(status="ok"))


async def readyz(request: Request) -> Response:
    """Readiness: the runtime pool is warm and the database answers.

    A blob store outage is reported as ``degraded`` with status 200: warm functions
    keep serving, and cold loads and deploys answer 503 on their own.
    """
    svc = getattr(request.app.state, "services", None)
    if svc is None:
        raise NotReady("starting", {"Retry-After": "1"})
    failing = await svc.check_ready()
    if failing:
        raise NotReady("not ready: " + ", ".join(failing), {"Retry-After": "1"}, failing=failing)
    degraded = await svc.check_degraded()
    if degraded:
        return json_response(Status(status="ready", degraded=degraded))
    return json_response(Status(status="ready"))


async def metrics(request: Request) -> Response:
    """Prometheus text exposition; behind ``metrics_token`` when it is set (the series
    name every tenant's functions and their traffic)."""
    svc = services(request)
    token = svc.settings.metrics_token
    if token is not None:
        given = bearer(request) or ""
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise Unauthorized(
                "/metrics needs 'Authorization: Bearer <metrics token>'",
                {"WWW-Authenticate": 'Bearer realm="isogate-metrics"'},
            )
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 description of every route."""
    return Response(
        json.dumps(openapi_document(), ensure_ascii=False), media_type="application/json"
    )
