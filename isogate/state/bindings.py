"""Bindings of a function version: ``env.NAME`` → a resource of the tenant.

Declared in the deploy body (``"bindings": {"CACHE": {"kv": "cache"}}``), checked before
the version is stored (a resource that does not exist or is another tenant's is refused
with 400 naming the binding), and kept per version (a rollback brings its own back).
Kinds today: ``kv`` (a KV namespace of the tenant, see :mod:`isogate.state.kv`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from isogate.caches import LRU
from isogate.state.errors import InvalidBinding, NamespaceNotFound
from isogate.state.kv import SqlKvStore
from isogate.state.sql import SqlStore
from isogate.state.tables import function_bindings

BINDING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: the kinds of resource a binding may name (the deploy body's keys)
Kind = Literal["kv"]
KINDS: tuple[Kind, ...] = ("kv",)
MAX_BINDINGS = 32


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    kind: str
    target: str


async def check_bindings(
    spec: Mapping[str, Mapping[Kind, str]],
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


class SqlBindingStore(SqlStore):
    """Bindings per (function, version) in the metadata database."""

    @staticmethod
    async def write(
        conn: AsyncConnection, function: str, version: int, bindings: list[Binding]
    ) -> None:
        """Replace the bindings of ``function``'s ``version`` inside ``conn``'s transaction
        (a deploy writes them in the transaction that stores the version)."""
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
    """KV bindings per function version on one replica. A version's bindings never
    change: a deploy commits them with the version (``FunctionStore.deploy``'s
    ``with_version``), so any answer, empty or not, is kept."""

    def __init__(self, store: SqlBindingStore, max_entries: int = 10_000) -> None:
        self._store = store
        #: (function, version, created_at) -> its KV bindings; a version's never change
        self._items: LRU[tuple[str, int, float], tuple[tuple[str, str], ...]] = LRU(
            "bindings", max_entries
        )

    def remember(
        self, function: str, version: int, created_at: float, bindings: list[Binding]
    ) -> None:
        """Keep what a deploy on this replica just committed (its first call then asks
        no database)."""
        self._items[(function, version, created_at)] = _kv(bindings)

    async def kv_of(
        self, function: str, version: int, created_at: float
    ) -> tuple[tuple[str, str], ...]:
        """(env name, namespace) of the version's KV bindings."""
        ident = (function, version, created_at)
        found = self._items.lookup(ident)
        if found is not None:
            return found
        kv = _kv(await self._store.load(function, version))
        self._items[ident] = kv
        return kv


def _kv(bindings: list[Binding]) -> tuple[tuple[str, str], ...]:
    """(env name, namespace) of the KV bindings among ``bindings``."""
    return tuple((b.name, b.target) for b in bindings if b.kind == "kv")
