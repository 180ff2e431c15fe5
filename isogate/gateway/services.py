"""Everything the app talks to, built in the lifespan (never at import) and closed there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate, ping
from isogate.caches import LRU
from isogate.config import RuntimeSettings, Settings
from isogate.gateway.auth import TokenIssuer, load_jwt_secret
from isogate.gateway.deploy_checks import DeployChecks
from isogate.gateway.metrics import GatewayMetrics
from isogate.gateway.response_buffers import ResponseBuffers
from isogate.periodic import Periodic
from isogate.quota import passwords
from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.keys import KeyStore, SqlKeyStore
from isogate.quota.leases import KeyVerifier
from isogate.quota.limiter import InMemoryLimiter, Limiter
from isogate.quota.tenants import SqlTenantStore, TenantStore
from isogate.quota.usage import SqlUsageStore
from isogate.registry.blobs import BlobStore, open_blob_store
from isogate.registry.code_cache import InMemoryCodeCache
from isogate.registry.functions import FunctionStore, SqlFunctionStore
from isogate.registry.invocations import InvocationLog, SqlInvocationLog
from isogate.registry.resolver import CodeLoader, FunctionResolver
from isogate.registry.route_claims import RoutePolicy
from isogate.registry.route_grants import SqlRouteGrants
from isogate.runtime.types import (
    FunctionRef,
    InvokeRequest,
    InvokeResult,
    RuntimeStats,
    ValidationResult,
)
from isogate.state.async_queue import SqlAsyncQueue
from isogate.state.bindings import BindingCache, SqlBindingStore
from isogate.state.crypto import Keyring, load_key_file, parse_keyring
from isogate.state.kv import KvLimits, SqlKvStore
from isogate.state.kv_host import kv_host
from isogate.state.schedules import SqlScheduleStore
from isogate.state.secrets import SecretCache, SqlSecretStore

log = logging.getLogger(__name__)


class RuntimeLike(Protocol):
    """What the gateway uses of :class:`isogate.runtime.Runtime`."""

    @property
    def ready(self) -> bool: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def invoke(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult: ...
    async def validate(
        self, source: str, env: tuple[tuple[str, str], ...] = (), timeout_ms: int | None = None
    ) -> ValidationResult: ...
    def stats(self) -> RuntimeStats: ...
    def unquarantine(self, name: str) -> None: ...
    def tenant_blocked(self, tenant: str) -> float: ...


CodeLoaderFn = Callable[[FunctionRef], Awaitable[str]]
RuntimeFactory = Callable[[RuntimeSettings, CodeLoaderFn], RuntimeLike]


def default_runtime(
    settings: RuntimeSettings,
    loader: CodeLoaderFn,
    *,
    egress: Any = None,
    own_addresses: list[tuple[str, int]] | None = None,
) -> RuntimeLike:
    """The real isolate runtime (worker processes); ``fetch`` from functions follows
    ``egress`` (EgressSettings) and never reaches the gateway's own addresses."""
    # imported here so the gateway imports without the runtime's heavy dependencies
    from isogate.runtime import Runtime

    runtime: RuntimeLike = Runtime(
        settings, code_loader=loader, egress=egress, own_addresses=own_addresses
    )
    return runtime


@dataclass
class Services:
    """Handles on stores, caches, limiter, runtime and metrics for request handlers."""

    settings: Settings
    engine: AsyncEngine
    tenants: TenantStore
    keys: KeyStore
    verifier: KeyVerifier
    limiter: Limiter
    functions: FunctionStore
    blobs: BlobStore
    resolver: FunctionResolver
    code: CodeLoader
    invocations: InvocationLog
    runtime: RuntimeLike
    tokens: TokenIssuer
    metrics: GatewayMetrics
    secrets: SqlSecretStore | None = None  # function secrets (encrypted in SQL)
    secret_cache: SecretCache | None = None  # opened secrets per function, this replica
    kv: SqlKvStore | None = None  # tenants' KV namespaces
    bindings: SqlBindingStore | None = None  # bindings per function version
    binding_cache: BindingCache | None = None
    redis: Any = None  # the RedisBackend when redis_url is set
    deploy_checks: DeployChecks = field(default_factory=DeployChecks)
    route_grants: SqlRouteGrants | None = None  # hostnames and host-less grants (admin)
    responses: ResponseBuffers | None = None  # response bodies held for their clients
    async_queue: SqlAsyncQueue | None = None  # Prefer: respond-async invocations (SQL)
    async_runner: Any = None  # the AsyncRunner of this replica (gateway.async_runner)
    schedules: SqlScheduleStore | None = None  # crons of functions and runs of their ticks
    scheduler: Any = None  # the Scheduler of this replica (gateway.scheduler), if enabled
    #: FunctionRefs by version, secrets revision and bindings (gateway.invoke): building
    #: one (env sorted into a tuple) on every call is measurable on the warm path; they
    #: are immutable, so a cached one never goes stale
    function_refs: LRU[tuple[object, ...], FunctionRef] = field(
        default_factory=lambda: LRU("function_refs", 10_000)
    )

    async def check_ready(self) -> list[str]:
        """What is not ready (empty list: ready): the runtime and the database.

        The blob store is not among them: while it is down, warm functions still
        serve, and a load balancer dropping every replica would stop them too.
        See :meth:`check_degraded`.
        """
        problems: list[str] = []
        if not self.runtime.ready:
            problems.append("runtime")
        try:
            await ping(self.engine, self.settings.store_timeout_seconds)
        except Exception:
            problems.append("database")
        return problems

    async def check_degraded(self) -> list[str]:
        """Parts that are down without making the replica unready (cold loads, deploys)."""
        try:
            await self.blobs.ping()
        except Exception:
            return ["blobs"]
        return []


def load_keyring(settings: Settings) -> Keyring | None:
    """The master keyring of secrets: the setting, else (embedded database only) the key
    generated in ``data_dir``; None when neither applies (secrets answer 503)."""
    if settings.secrets_master_key is not None:
        return Keyring(parse_keyring(settings.secrets_master_key.get_secret_value()))
    if settings.embedded_database:
        path = settings.secrets_key_path
        return Keyring(load_key_file(path), reload=lambda: load_key_file(path))
    log.warning(
        "no secrets_master_key (ISOGATE_SECRETS_MASTER_KEY) with a shared database: "
        "function secrets are disabled until it is set on every replica"
    )
    return None


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    runtime_factory: RuntimeFactory | None = None,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Services]:
    """Open the engine, migrate, open stores and start the runtime; close all on exit.
    ``clock`` (tests): the cron scheduler's time instead of ``time.time``."""
    timeout = settings.store_timeout_seconds
    tokens = TokenIssuer(
        load_jwt_secret(settings),
        settings.token_ttl_seconds,
        known_entries=settings.tenant_cache_entries,
    )
    passwords.configure(settings.password_hash_threads, settings.password_hash_queue)
    engine = create_engine(settings)
    limiter: InMemoryLimiter | None = None
    invocations: SqlInvocationLog | None = None
    runtime: RuntimeLike | None = None
    redis_backend: Any = None
    collector: Periodic | None = None
    kv_sweeper: Periodic | None = None
    async_runner: Any = None
    scheduler: Any = None
    exits = contextlib.AsyncExitStack()  # backends opened as context managers (S3 client)
    try:
        applied = await migrate(engine)
        for step in applied:
            log.info("migrated %s", step)
        keyring = load_keyring(settings)  # after the database answered: its errors first
        blobs = await exits.enter_async_context(open_blob_store(settings))
        route_policy = RoutePolicy(
            open_hostless_routes=settings.open_hostless_routes,
            max_routes_per_tenant=settings.max_routes_per_tenant,
        )
        functions = SqlFunctionStore(
            engine, blobs, timeout, route_policy, settings.blob_gc_grace_seconds
        )
        # blobs orphaned within the grace (a function deleted soon after its deploy) are
        # collected by this pass; the rest go right after the prune or delete
        collector = Periodic(
            functions.collect,
            max(60.0, settings.blob_gc_grace_seconds / 4),
            name="blob-gc",
            log=log,
            failure="blob collection failed",
        )
        code = CodeLoader(blobs, InMemoryCodeCache(settings.code_cache_bytes))
        keys = SqlKeyStore(engine, timeout, settings.key_max_ttl_seconds)
        limiter = InMemoryLimiter(SqlUsageStore(engine, timeout))
        binding_store = SqlBindingStore(engine, timeout)
        secret_store = SqlSecretStore(
            engine,
            timeout,
            keyring,
            settings.secret_max_bytes,
            settings.max_secrets_per_function,
        )
        invocations = SqlInvocationLog(engine, timeout, settings.invocation_retention)

        async def load_code(ref: FunctionRef) -> str:
            return await code.load(ref.sha256)

        if runtime_factory is not None:
            runtime = runtime_factory(settings.runtime, load_code)
        else:
            runtime = default_runtime(
                settings.runtime,
                load_code,
                egress=settings.egress,
                own_addresses=[(settings.host, settings.port)],
            )
        holder: dict[str, RuntimeLike] = {"rt": runtime}
        metrics = GatewayMetrics(
            lambda: _safe_stats(holder["rt"]), settings.metrics_max_series_per_tenant
        )
        kv = SqlKvStore(
            engine,
            timeout,
            KvLimits(
                max_value_bytes=settings.kv_max_value_bytes,
                max_metadata_bytes=settings.kv_max_metadata_bytes,
                max_namespaces=settings.kv_max_namespaces_per_tenant,
                ops_per_day=settings.kv_ops_per_day,
                inline_max_bytes=settings.kv_inline_max_bytes,
            ),
            blobs=blobs.scoped("kv"),  # large values: beside the code, never collected by it
            blob_grace=settings.blob_gc_grace_seconds,
            on_op=metrics.count_kv,
        )
        # expired KV entries, and value blobs a crash or an outage left behind
        kv_sweeper = Periodic(kv.sweep, 60.0, name="kv-sweep", log=log, failure="KV sweep failed")
        await limiter.start()
        await invocations.start()
        async with asyncio.timeout(settings.runtime.start_timeout_seconds * 3):
            await runtime.start()
        svc = Services(
            settings=settings,
            engine=engine,
            tenants=SqlTenantStore(engine, timeout),
            keys=keys,
            verifier=KeyVerifier(
                keys,
                InMemoryKeyCache(
                    settings.key_cache_ttl_seconds, max_entries=settings.key_cache_entries
                ),
            ),
            limiter=limiter,
            functions=functions,
            blobs=blobs,
            resolver=FunctionResolver(
                functions,
                settings.function_cache_ttl_seconds,
                max_entries=settings.function_cache_entries,
            ),
            code=code,
            invocations=invocations,
            runtime=runtime,
            tokens=tokens,
            metrics=metrics,
            route_grants=SqlRouteGrants(engine, timeout),
            secrets=secret_store,
            secret_cache=SecretCache(
                secret_store,
                settings.function_cache_ttl_seconds,
                max_entries=settings.function_cache_entries,
            ),
            bindings=binding_store,
            binding_cache=BindingCache(binding_store, max_entries=settings.function_cache_entries),
            function_refs=LRU("function_refs", settings.function_cache_entries),
            kv=kv,
            async_queue=SqlAsyncQueue(
                engine,
                timeout,
                max_per_tenant=settings.async_max_queued_per_tenant,
                max_attempts=settings.async_max_attempts,
                retention_seconds=settings.async_result_retention_seconds,
            ),
            schedules=SqlScheduleStore(
                engine,
                timeout,
                retention_seconds=settings.scheduler.run_retention_seconds,
                **({"clock": clock} if clock is not None else {}),
            ),
            responses=ResponseBuffers(
                settings.response_buffer_bytes_total,
                settings.response_buffer_bytes_per_connection,
            ),
        )
        if svc.kv is not None and hasattr(runtime, "kv_host"):
            # KV calls of functions come from the workers to this process (state/kv_host)
            runtime.kv_host = kv_host(svc.kv)
        if settings.redis_url:
            from isogate.backends.redis import attach_redis

            redis_backend = await attach_redis(svc)
        collector.start()
        kv_sweeper.start()
        from isogate.gateway.async_runner import AsyncRunner  # it imports the data plane

        assert svc.async_queue is not None
        async_runner = svc.async_runner = AsyncRunner(svc, svc.async_queue)
        async_runner.start()
        if settings.scheduler.enabled:
            from isogate.gateway.scheduler import Scheduler

            assert svc.schedules is not None
            scheduler = svc.scheduler = Scheduler(
                svc, svc.schedules, **({"clock": clock} if clock is not None else {})
            )
            scheduler.start()
        yield svc
    finally:
        for closer in (
            scheduler.stop if scheduler else None,  # before the runtime closes
            async_runner.stop if async_runner else None,
            collector.stop if collector else None,
            kv_sweeper.stop if kv_sweeper else None,
            redis_backend.close if redis_backend else None,
            runtime.close if runtime else None,
            limiter.close if limiter else None,
            invocations.close if invocations else None,
        ):
            if closer is None:
                continue
            try:
                async with asyncio.timeout(settings.shutdown_timeout_seconds):
                    await closer()
            except Exception:
                log.exception("error while shutting down")
        try:
            await exits.aclose()
        except Exception:
            log.exception("error while closing backends")
        await engine.dispose()


def _safe_stats(rt: RuntimeLike) -> RuntimeStats | None:
    try:
        return rt.stats()
    except Exception:
        return None
