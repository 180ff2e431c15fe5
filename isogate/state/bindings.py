"""Bindings of a function version: ``env.NAME`` → a resource of the tenant.

Declared in the deploy body (``"bindings": {"CACHE": {"kv": "cache"}}``), checked before
the version is stored (a resource that does not exist or is another tenant's is refused
with 400 naming the binding), and kept per version (a rollback brings its own back).
Kinds today: ``kv`` (a KV namespace of the tenant, see :mod:`isogate.state.kv`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.errors import StoreUnavailable
from isogate.state.kv import NamespaceNotFound, SqlKvStore
from isogate.state.tables import function_bindings

BINDING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
KINDS = ("kv",)
MAX_BINDINGS = 32


class InvalidBinding(ValueError):
    """A binding refused at deploy; ``binding`` names it."""

    def __init__(self, binding: str, message: str) -> None:
        super().__init__(message)
        self.binding = binding


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    kind: str
    target: str


async def check_bindings(
    spec: Mapping[str, Mapping[str, str]],
    tenant: str,
    env_names: set[str],
    kv: SqlKvStore,
) -> list[Binding]:
    """The bindings of a deploy body, each checked against the tenant's resources."""
    if len(spec) > MAX_BINDINGS:
        raise InvalidBinding("", f"at most {MAX_BINDINGS} bindings")
    out: list[Binding] = []
    for name, target in sorted(spec.items()):
        if not BINDING_NAME.fullmatch(name):
            raise InvalidBinding(name[:64], "a binding name is 1-64 ASCII letters, digits and '_'")
        if name in env_names:
            raise InvalidBinding(name, f"binding {name} has the name of an env variable")
        if len(target) != 1 or next(iter(target)) not in KINDS:
            raise InvalidBinding(name, f'binding {name}: expected {{"kv": "<namespace>"}}')
        kind, value = next(iter(target.items()))
        try:
            await kv.namespace(tenant, value)
        except NamespaceNotFound:
            raise InvalidBinding(
                name, f"binding {name}: you have no KV namespace {value[:63]!r}"
            ) from None
        out.append(Binding(name, kind, value))
    return out


class SqlBindingStore:
    """Bindings per (function, version) in the metadata database."""

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout

    @asynccontextmanager
    async def _conn(self, write: bool) -> AsyncIterator[AsyncConnection]:
        try:
            async with asyncio.timeout(self._timeout):
                ctx = self._engine.begin() if write else self._engine.connect()
                async with ctx as conn:
                    yield conn
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None

    async def save(self, function: str, version: int, bindings: list[Binding]) -> None:
        async with self._conn(write=True) as conn:
            await conn.execute(
                delete(function_bindings).where(
                    function_bindings.c.function == function,
                    function_bindings.c.version == version,
                )
            )
            if bindings:
                await conn.execute(
                    insert(function_bindings),
                    [
                        {
                            "function": function,
                            "version": version,
                            "name": b.name,
                            "kind": b.kind,
                            "target": b.target,
                        }
                        for b in bindings
                    ],
                )

    async def load(self, function: str, version: int) -> list[Binding]:
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(function_bindings)
                .where(
                    function_bindings.c.function == function,
                    function_bindings.c.version == version,
                )
                .order_by(function_bindings.c.name)
            )
            return [Binding(r.name, r.kind, r.target) for r in rows]


class BindingCache:
    """Bindings per function version on one replica (they never change for a version,
    except once: they are written just after the version is stored, so an empty answer
    for a version younger than :data:`SETTLE_SECONDS` is not kept)."""

    SETTLE_SECONDS = 10.0

    def __init__(self, store: SqlBindingStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._items: dict[tuple[str, int, float], tuple[tuple[str, str], ...]] = {}

    async def kv_of(
        self, function: str, version: int, created_at: float
    ) -> tuple[tuple[str, str], ...]:
        """(env name, namespace) of the version's KV bindings."""
        ident = (function, version, created_at)
        found = self._items.get(ident)
        if found is not None:
            return found
        bindings = await self._store.load(function, version)
        kv = tuple((b.name, b.target) for b in bindings if b.kind == "kv")
        if kv or self._clock() - created_at > self.SETTLE_SECONDS:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[ident] = kv
        return kv
