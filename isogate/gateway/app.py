"""The ASGI app factory: routes, error handling, and the lifespan that opens services."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from isogate.config import Settings
from isogate.gateway import ops
from isogate.gateway.api import functions as api_functions
from isogate.gateway.api import invocations as api_invocations
from isogate.gateway.api import keys as api_keys
from isogate.gateway.api import kv as api_kv
from isogate.gateway.api import schedules as api_schedules
from isogate.gateway.api import secrets as api_secrets
from isogate.gateway.api import tenants as api_tenants
from isogate.gateway.api.admin import admin_routes
from isogate.gateway.auth_failures import AuthFailureLimit
from isogate.gateway.connection_guard import CloseUnreadBody
from isogate.gateway.head_limits import HeadLimits
from isogate.gateway.invoke import DATA_PLANE_METHODS, DataPlane, invoke_by_name, invoke_by_route
from isogate.gateway.problems import TABLE, Problem, handle_exception
from isogate.gateway.services import RuntimeFactory, open_services
from isogate.quota.errors import QuotaError
from isogate.registry.errors import RegistryError
from isogate.runtime.errors import RuntimeFailure
from isogate.state.errors import KvError

ALL_METHODS = sorted(DATA_PLANE_METHODS)


def routes() -> list[Route]:
    """Every route of the API (route patterns claimed by functions are the fallback)."""
    return [
        # the data plane first: it is the hot path
        Route("/fn/{name}", invoke_by_name, methods=ALL_METHODS),
        Route("/fn/{name}/{path:path}", invoke_by_name, methods=ALL_METHODS),
        Route("/v1/tenants", api_tenants.create_tenant, methods=["POST"]),
        Route("/v1/auth/token", api_tenants.issue_token, methods=["POST"]),
        Route("/v1/keys", api_keys.create_key, methods=["POST"]),
        Route("/v1/keys", api_keys.list_keys, methods=["GET"]),
        Route("/v1/keys/{key_id}", api_keys.get_key, methods=["GET"]),
        Route("/v1/keys/{key_id}", api_keys.revoke_key, methods=["DELETE"]),
        Route("/v1/keys/{key_id}/renew", api_keys.renew_key, methods=["POST"]),
        Route("/v1/functions", api_functions.list_functions, methods=["GET"]),
        Route("/v1/functions/{name}", api_functions.deploy, methods=["PUT"]),
        Route("/v1/functions/{name}", api_functions.get_function, methods=["GET"]),
        Route("/v1/functions/{name}", api_functions.delete_function, methods=["DELETE"]),
        Route("/v1/functions/{name}/code", api_functions.get_code, methods=["GET"]),
        Route("/v1/functions/{name}/rollback", api_functions.rollback, methods=["POST"]),
        Route("/v1/functions/{name}/invocations", api_functions.list_invocations, methods=["GET"]),
        Route("/v1/functions/{name}/schedules", api_schedules.list_schedules, methods=["GET"]),
        *admin_routes(),
        Route("/v1/functions/{name}/secrets", api_secrets.list_secrets, methods=["GET"]),
        Route("/v1/functions/{name}/secrets/{secret}", api_secrets.put_secret, methods=["PUT"]),
        Route(
            "/v1/functions/{name}/secrets/{secret}", api_secrets.delete_secret, methods=["DELETE"]
        ),
        Route("/v1/kv", api_kv.create_namespace, methods=["POST"]),
        Route("/v1/kv", api_kv.list_namespaces, methods=["GET"]),
        Route("/v1/kv/{ns}", api_kv.delete_namespace, methods=["DELETE"]),
        Route("/v1/kv/{ns}/keys", api_kv.list_keys, methods=["GET"]),
        Route("/v1/kv/{ns}/keys/{key:path}", api_kv.get_key, methods=["GET"]),
        Route("/v1/kv/{ns}/keys/{key:path}", api_kv.put_key, methods=["PUT"]),
        Route("/v1/kv/{ns}/keys/{key:path}", api_kv.delete_key, methods=["DELETE"]),
        Route("/v1/invocations/{id}", api_invocations.get_invocation, methods=["GET"]),
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/readyz", ops.readyz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
        Route("/openapi.json", ops.openapi, methods=["GET"]),
    ]


def create_app(
    settings: Settings,
    runtime_factory: RuntimeFactory | None = None,
    clock: Callable[[], float] | None = None,
) -> Starlette:
    """A gateway app; its services open when the server starts it (lifespan).
    ``clock`` (tests): the time the cron scheduler sees."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, runtime_factory, clock) as services:
            app.state.services = services
            # Everything alive now lives as long as the process (modules, pools, caches):
            # move it out of the collector's reach, so that full collections, which run
            # every few thousand requests, only scan what requests allocate. Without
            # this, each one paused the event loop for ~40 ms (measured; p99 suffered).
            gc.collect()
            gc.freeze()
            yield

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(HeadLimits, settings=settings),  # every transport, h2c included
            Middleware(CloseUnreadBody),
            Middleware(AuthFailureLimit, settings=settings),
            Middleware(DataPlane),  # innermost: /fn/ skips the router (same answers)
        ],
        lifespan=lifespan,
        exception_handlers={
            # expected errors: handled in the router's exception middleware
            HTTPException: handle_exception,
            Problem: handle_exception,
            QuotaError: handle_exception,
            RegistryError: handle_exception,
            KvError: handle_exception,
            # every other class of the problem table (secrets, bindings, ...)
            **dict.fromkeys(TABLE, handle_exception),
            # a runtime restart (no worker to validate a deploy): a 503 problem; left to
            # the catch-all below, Starlette re-raised it and Hypercorn logged a traceback
            RuntimeFailure: handle_exception,
            TimeoutError: handle_exception,
            # backend outages (503 store-unavailable; a bug still logs its traceback once,
            # in to_problem): not re-raised to Hypercorn, which would log two tracebacks
            # per request while PostgreSQL is down
            SQLAlchemyError: handle_exception,
            OSError: handle_exception,
            # anything else: a bare 500 problem (Starlette still logs it)
            Exception: handle_exception,
        },
    )
    app.router.default = invoke_by_route
    app.state.settings = settings
    return app
