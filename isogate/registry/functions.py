"""Functions, immutable versions and claimed routes, in the metadata database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.blobs import BlobStore, sha256_hex
from isogate.registry.errors import (
    FunctionNotFound,
    InvalidFunction,
    LimitExceeded,
    NameTaken,
    StoreUnavailable,
    VersionNotFound,
)
from isogate.registry.models import Function, Version
from isogate.registry.names import MAX_ROUTES, check_function_name, normalize_route
from isogate.registry.route_claims import RoutePolicy, check_claims, lock_claims
from isogate.registry.tables import (
    blob_pins,
    function_versions,
    functions,
    invocations,
    routes,
)

log = logging.getLogger(__name__)

MAX_ENV = 64
MAX_ENV_VALUE = 4096


@dataclass(frozen=True, slots=True)
class DeployLimits:
    """Per-tenant caps a deploy is checked against (0 = no cap), in its transaction."""

    functions: int = 0  #: functions a tenant may have
    versions: int = 0  #: versions kept per function (older ones are dropped on deploy)
    stored_bytes: int = 0  #: bytes of code over all kept versions of a tenant's functions


def _version(row: Any, prefix: str = "") -> Version:
    """A version from a row of ``function_versions`` (its columns named ``prefix + name``)."""
    col = row._mapping
    return Version(
        name=col[prefix + "name"],
        version=col[prefix + "version"],
        sha256=col[prefix + "sha256"],
        size=col[prefix + "size"],
        env=dict(col[prefix + "env"]),
        timeout_ms=col[prefix + "timeout_ms"],
        routes=tuple(col[prefix + "routes"]),
        public=bool(col[prefix + "public"]),
        created_at=col[prefix + "created_at"],
        cpu_ms=col[prefix + "cpu_ms"],
    )


def _with_current() -> Select[Any]:
    """Functions joined with their current version (version columns prefixed ``v_``)."""
    v = function_versions
    return select(functions, *(c.label("v_" + c.name) for c in v.c)).join(
        v, (v.c.name == functions.c.name) & (v.c.version == functions.c.current_version)
    )


#: The resolver's lookup, built once: building this join on every call cost ~170 µs of
#: CPU, more than SQLite's own work (statements are immutable, so one serves every call).
_BY_NAMES = _with_current().where(functions.c.name.in_(bindparam("names", expanding=True)))


def _function(row: Any) -> Function:
    return Function(
        name=row.name,
        tenant=row.tenant,
        current_version=row.current_version,
        latest_version=row.latest_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        current=_version(row, "v_"),
    )


def check_env(env: dict[str, str]) -> dict[str, str]:
    """Validate env vars handed to a function."""
    if len(env) > MAX_ENV:
        raise InvalidFunction(f"at most {MAX_ENV} env vars")
    for k, v in env.items():
        if not k or len(k) > 128 or not k.replace("_", "a").isalnum() or not k.isascii():
            raise InvalidFunction(f"env var name {k[:40]!r} must be ASCII letters, digits, '_'")
        if len(v) > MAX_ENV_VALUE:
            raise InvalidFunction(f"env var {k} is longer than {MAX_ENV_VALUE} characters")
    return env


#: called inside a deploy's transaction once the new version's row is written, with the
#: connection, the function's name and the version number: what belongs to the version
#: (its bindings) commits with it or not at all
VersionHook = Callable[[AsyncConnection, str, int], Awaitable[None]]


class FunctionStore(Protocol):
    """Where functions live (SQL)."""

    async def deploy(
        self,
        tenant: str,
        name: str,
        source: bytes,
        env: dict[str, str],
        timeout_ms: int | None,
        route_patterns: list[str],
        public: bool,
        limits: DeployLimits | None = None,
        *,
        cpu_ms: int | None = None,
        with_version: VersionHook | None = None,
    ) -> Version: ...
    async def get(self, tenant: str | None, name: str) -> Function: ...
    async def get_many(self, names: Sequence[str]) -> dict[str, Function]: ...
    async def versions(self, tenant: str, name: str) -> list[Version]: ...
    async def version(self, tenant: str, name: str, version: int | None) -> Version: ...
    async def list(self, tenant: str) -> list[Function]: ...
    async def rollback(self, tenant: str, name: str, version: int) -> Version: ...
    async def delete(self, tenant: str, name: str) -> None: ...
    async def routes(self) -> dict[str, str]: ...
    async def routes_of(self, names: Sequence[str]) -> dict[str, str]: ...


class SqlFunctionStore:
    """Functions in SQL, code in a :class:`BlobStore` (blob first, then the row)."""

    def __init__(
        self,
        engine: AsyncEngine,
        blobs: BlobStore,
        timeout: float,
        route_policy: RoutePolicy | None = None,
        gc_grace_seconds: float = 3600.0,
    ) -> None:
        self._engine = engine
        self._blobs = blobs
        self._timeout = timeout
        self._route_policy = route_policy or RoutePolicy()
        self._gc_grace = gc_grace_seconds

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                yield conn
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                yield conn
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None

    async def _owned(
        self, conn: AsyncConnection, tenant: str | None, name: str, lock: bool = False
    ) -> Any:
        query = select(functions).where(functions.c.name == name)
        if lock:  # the function row before the route-claim lock, in the order deploys take them
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None or (tenant is not None and row.tenant != tenant):
            raise FunctionNotFound(f"no function {name!r}")
        return row

    async def _claim_routes(
        self, conn: AsyncConnection, tenant: str, name: str, patterns: list[str]
    ) -> None:
        """Make ``patterns`` the routes of ``name``: ownership rules in
        :mod:`~isogate.registry.route_claims`; a pattern another function of the same
        tenant held moves to this one."""
        if patterns:
            await lock_claims(conn)
            await check_claims(conn, self._route_policy, tenant, name, patterns)
            await conn.execute(delete(routes).where(routes.c.pattern.in_(patterns)))
        await conn.execute(delete(routes).where(routes.c.function == name))
        if patterns:
            await conn.execute(insert(routes), [{"pattern": p, "function": name} for p in patterns])

    async def deploy(
        self,
        tenant: str,
        name: str,
        source: bytes,
        env: dict[str, str],
        timeout_ms: int | None,
        route_patterns: list[str],
        public: bool,
        limits: DeployLimits | None = None,
        *,
        cpu_ms: int | None = None,
        with_version: VersionHook | None = None,
    ) -> Version:
        """Store a new version and make it current. Another tenant's name: :class:`NameTaken`.

        ``timeout_ms`` (wall time) and ``cpu_ms`` (CPU time) are the version's limits per
        invocation, ``None`` for the runtime's defaults; the caller checks them against
        the runtime's maxima.

        With ``limits``: a new function beyond the tenant's cap, or stored code beyond
        its bytes, raises :class:`LimitExceeded` (nothing is written); versions beyond
        ``limits.versions`` are dropped, oldest first (never the new, current one).

        ``with_version`` writes what belongs to the version in the same transaction, so
        that no reader ever sees the version without it."""
        check_function_name(name)
        check_env(env)
        if len(route_patterns) > MAX_ROUTES:
            raise InvalidFunction(f"at most {MAX_ROUTES} routes")
        patterns = list(dict.fromkeys(normalize_route(p) for p in route_patterns))
        async with self._read() as conn:
            row = (await conn.execute(select(functions).where(functions.c.name == name))).first()
        if row is not None and row.tenant != tenant:
            raise NameTaken(f"function name {name!r} is taken")
        # Pin first (committed), then the blob, then the row: a collection that runs
        # meanwhile sees a fresh pin and keeps the blob (see collect()).
        await self._pin(sha256_hex(source))
        sha = await self._blobs.put(source)  # the blob first: no row without its blob
        now = time.time()
        dropped: list[str] = []
        try:
            async with self._write() as conn:
                # FOR UPDATE (PostgreSQL; SQLite is serial anyway): concurrent deploys of one
                # function take turns instead of colliding on the next version number
                row = (
                    await conn.execute(
                        select(functions).where(functions.c.name == name).with_for_update()
                    )
                ).first()
                if row is None:
                    version = 1
                    await conn.execute(
                        insert(functions).values(
                            name=name,
                            tenant=tenant,
                            current_version=1,
                            latest_version=1,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                elif row.tenant != tenant:
                    raise NameTaken(f"function name {name!r} is taken")
                else:
                    version = row.latest_version + 1
                    await conn.execute(
                        update(functions)
                        .where(functions.c.name == name)
                        .values(current_version=version, latest_version=version, updated_at=now)
                    )
                values: dict[str, Any] = {
                    "name": name,
                    "version": version,
                    "sha256": sha,
                    "size": len(source),
                    "env": env,
                    "timeout_ms": timeout_ms,
                    "cpu_ms": cpu_ms,
                    "routes": patterns,
                    "public": public,
                    "created_at": now,
                }
                await conn.execute(insert(function_versions).values(**values))
                if with_version is not None:
                    await with_version(conn, name, version)
                if limits is not None:
                    dropped = await self._enforce(conn, tenant, name, version, row is None, limits)
                await self._claim_routes(conn, tenant, name, patterns)
        except IntegrityError:
            raise NameTaken(f"function {name!r} was changed concurrently; retry") from None
        if dropped:
            await self._collect_quietly(dropped)
        return Version(**{**values, "routes": tuple(patterns)})

    @staticmethod
    async def _enforce(
        conn: AsyncConnection,
        tenant: str,
        name: str,
        version: int,
        new_function: bool,
        limits: DeployLimits,
    ) -> list[str]:
        """Apply ``limits`` inside the deploy's transaction (raising rolls it back);
        returns the blob addresses of the versions it dropped."""
        dropped: list[str] = []
        if new_function and limits.functions:
            count = (
                await conn.execute(
                    select(func.count()).select_from(functions).where(functions.c.tenant == tenant)
                )
            ).scalar_one()
            if count > limits.functions:
                raise LimitExceeded(f"at most {limits.functions} functions per tenant")
        if limits.versions:
            # Old versions go (rollback reaches the newest ``versions``); their blobs are
            # collected afterwards if nothing else references them (content-addressed:
            # shared by versions, functions, tenants).
            old = function_versions.c.version <= version - limits.versions
            dropped = list(
                (
                    await conn.execute(
                        select(function_versions.c.sha256).where(
                            (function_versions.c.name == name) & old
                        )
                    )
                ).scalars()
            )
            await conn.execute(
                delete(function_versions).where(
                    (function_versions.c.name == name)
                    & (function_versions.c.version <= version - limits.versions)
                )
            )
        if limits.stored_bytes:
            total = (
                await conn.execute(
                    select(func.coalesce(func.sum(function_versions.c.size), 0))
                    .select_from(function_versions.join(functions))
                    .where(functions.c.tenant == tenant)
                )
            ).scalar_one()
            if total > limits.stored_bytes:
                raise LimitExceeded(
                    f"stored code would exceed {limits.stored_bytes} bytes for this tenant;"
                    " delete functions first"
                )
        return dropped

    async def get(self, tenant: str | None, name: str) -> Function:
        """The function and its current version; ``tenant=None`` skips the owner check."""
        async with self._read() as conn:
            row = await self._owned(conn, tenant, name)
            cur = (
                await conn.execute(
                    select(function_versions).where(
                        function_versions.c.name == name,
                        function_versions.c.version == row.current_version,
                    )
                )
            ).one()
        return Function(
            name=row.name,
            tenant=row.tenant,
            current_version=row.current_version,
            latest_version=row.latest_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            current=_version(cur),
        )

    async def versions(self, tenant: str, name: str) -> list[Version]:
        """Every version of an owned function, oldest first."""
        async with self._read() as conn:
            await self._owned(conn, tenant, name)
            rows = await conn.execute(
                select(function_versions)
                .where(function_versions.c.name == name)
                .order_by(function_versions.c.version)
            )
            return [_version(r) for r in rows]

    async def version(self, tenant: str, name: str, version: int | None) -> Version:
        """One version (``None``: the current one) of an owned function."""
        async with self._read() as conn:
            row = await self._owned(conn, tenant, name)
            v = row.current_version if version is None else version
            ver = (
                await conn.execute(
                    select(function_versions).where(
                        function_versions.c.name == name, function_versions.c.version == v
                    )
                )
            ).first()
        if ver is None:
            raise VersionNotFound(f"function {name!r} has no version {v}")
        return _version(ver)

    async def get_many(self, names: Sequence[str]) -> dict[str, Function]:
        """Functions of any tenant by name, with their current versions, in one query
        (the resolver batches concurrent cold lookups into it)."""
        if not names:
            return {}
        async with self._read() as conn:
            rows = (await conn.execute(_BY_NAMES, {"names": list(names)})).all()
        return {r.name: _function(r) for r in rows}

    async def list(self, tenant: str) -> list[Function]:
        """The tenant's functions, by name."""
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    _with_current().where(functions.c.tenant == tenant).order_by(functions.c.name)
                )
            ).all()
        return [_function(r) for r in rows]

    async def rollback(self, tenant: str, name: str, version: int) -> Version:
        """Make an earlier (or any existing) version current again, with its routes."""
        async with self._write() as conn:
            await self._owned(conn, tenant, name, lock=True)
            ver = (
                await conn.execute(
                    select(function_versions).where(
                        function_versions.c.name == name, function_versions.c.version == version
                    )
                )
            ).first()
            if ver is None:
                raise VersionNotFound(f"function {name!r} has no version {version}")
            # the same rules as a deploy: a version may predate reserved paths or grants
            patterns = [normalize_route(p) for p in ver.routes]
            await self._claim_routes(conn, tenant, name, patterns)
            await conn.execute(
                update(functions)
                .where(functions.c.name == name)
                .values(current_version=version, updated_at=time.time())
            )
        return _version(ver)

    async def delete(self, tenant: str, name: str) -> None:
        """Delete the function, its versions, routes and records; then its blobs that
        nothing else references."""
        async with self._write() as conn:
            await self._owned(conn, tenant, name)
            shas = list(
                (
                    await conn.execute(
                        select(function_versions.c.sha256).where(function_versions.c.name == name)
                    )
                ).scalars()
            )
            await conn.execute(delete(routes).where(routes.c.function == name))
            await conn.execute(delete(invocations).where(invocations.c.function == name))
            await conn.execute(delete(function_versions).where(function_versions.c.name == name))
            await conn.execute(delete(functions).where(functions.c.name == name))
        await self._collect_quietly(shas)

    async def _pin(self, sha: str) -> None:
        """Record that a deploy uses ``sha`` now (committed before the blob is written)."""
        now = time.time()
        async with self._write() as conn:
            # Waits for a collection holding this blob's row (PostgreSQL row lock, SQLite
            # write lock): after it, the blob is either kept or gone, and put() rewrites
            # a blob that is gone.
            updated = await conn.execute(
                update(blob_pins).where(blob_pins.c.sha256 == sha).values(pinned_at=now)
            )
            if updated.rowcount == 0:
                from sqlalchemy.dialects import postgresql, sqlite

                pg = conn.dialect.name == "postgresql"
                upsert = postgresql.insert if pg else sqlite.insert
                stmt = upsert(blob_pins).values(sha256=sha, pinned_at=now)
                await conn.execute(
                    stmt.on_conflict_do_update(index_elements=["sha256"], set_={"pinned_at": now})
                )

    async def _collect_quietly(self, shas: Sequence[str]) -> None:
        """Collect after a change that is already committed: a failure is only logged
        (the periodic pass retries)."""
        try:
            await self.collect(shas)
        except Exception as exc:
            log.warning("blob collection failed: %s", exc.__class__.__name__)

    async def collect(self, shas: Sequence[str] | None = None, limit: int = 500) -> int:
        """Delete blobs no version references and no deploy used within the grace period
        (``shas``: only those; ``None``: any, up to ``limit``). Returns how many went.

        Safe against a concurrent deploy of the same code: a deploy pins the blob (a
        committed row update) before uploading it and inserts its version row within
        seconds, far inside the grace. Each blob is deleted inside the transaction that
        deletes its pin row, so a deploy pinning it meanwhile waits on that row until
        the blob is gone, and then its upload writes it again; a deploy that pinned
        first makes the pin fresh, and the blob stays. A grace period alone would not do:
        a deploy of code whose blob was orphaned long ago re-uses it without writing.
        """
        cutoff = time.time() - self._gc_grace
        unreferenced = (
            ~select(function_versions.c.sha256)
            .where(function_versions.c.sha256 == blob_pins.c.sha256)
            .exists()
        )
        due = (blob_pins.c.pinned_at < cutoff) & unreferenced
        query = select(blob_pins.c.sha256).where(due)
        if shas is not None:
            if not shas:
                return 0
            query = query.where(blob_pins.c.sha256.in_(sorted(set(shas))))
        async with self._read() as conn:
            candidates = list((await conn.execute(query.limit(limit))).scalars())
        gone = 0
        for sha in candidates:
            async with self._write() as conn:
                # re-checked under the row's lock: a pin or a version since the read wins
                deleted = await conn.execute(
                    delete(blob_pins).where((blob_pins.c.sha256 == sha) & due)
                )
                if deleted.rowcount == 1:
                    await self._blobs.delete(sha)  # raising rolls the row back: retried
                    gone += 1
        return gone

    async def routes(self) -> dict[str, str]:
        """Every claimed route: pattern → function name."""
        async with self._read() as conn:
            rows = await conn.execute(select(routes.c.pattern, routes.c.function))
            return {r.pattern: r.function for r in rows}

    async def routes_of(self, names: Sequence[str]) -> dict[str, str]:
        """The claimed routes of some functions: pattern → function name."""
        if not names:
            return {}
        async with self._read() as conn:
            rows = await conn.execute(
                select(routes.c.pattern, routes.c.function).where(
                    routes.c.function.in_(list(names))
                )
            )
            return {r.pattern: r.function for r in rows}
