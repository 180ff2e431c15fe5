"""KV namespaces of tenants: the SQL store of record.

A namespace belongs to one tenant (its name is unique per tenant, and another tenant's
namespace looks like none at all). Entries are read and written with the semantics of
Workers KV: values are bytes, optional JSON metadata, optional expiration (absolute, or
a TTL of at least 60 s), ``list`` in key order with a prefix, a limit (at most 1000) and
an opaque cursor. Every operation counts against the tenant's daily quota.

Consistency: every read goes to the database (no replica cache), so a write is visible
to every later read on every replica once it is acknowledged (stronger than Workers KV,
which is eventually consistent; ``cacheTtl`` is accepted and ignored).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.errors import LimitExceeded

# the errors live in state/errors.py; re-exported for importers that name them here
from isogate.state.errors import InvalidKv as InvalidKv
from isogate.state.errors import KvError as KvError
from isogate.state.errors import KvKeyNotFound as KvKeyNotFound
from isogate.state.errors import KvQuotaExceeded as KvQuotaExceeded
from isogate.state.errors import NamespaceExists as NamespaceExists
from isogate.state.errors import NamespaceNotFound as NamespaceNotFound
from isogate.state.sql import SqlStore
from isogate.state.tables import kv_entries, kv_namespaces, kv_usage

NAMESPACE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
MAX_KEY_BYTES = 512
MAX_LIST = 1000
MIN_TTL = 60


@dataclass(frozen=True, slots=True)
class KvLimits:
    """Operator limits (settings ``kv_*``)."""

    max_value_bytes: int = 1 << 20
    max_metadata_bytes: int = 1024
    max_namespaces: int = 100
    ops_per_day: int = 100_000


@dataclass(frozen=True, slots=True)
class Namespace:
    id: str
    tenant: str
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    metadata: Any
    expiration: float | None


@dataclass(frozen=True, slots=True)
class Listing:
    keys: list[dict[str, Any]]
    list_complete: bool
    cursor: str | None


def check_namespace_name(name: str) -> str:
    if not NAMESPACE_NAME.fullmatch(name):
        raise InvalidKv("a namespace name is 1-63 of a-z, 0-9, '_' and '-', starting alphanumeric")
    return name


def check_key(key: str) -> str:
    """A key of 1-512 UTF-8 bytes, not ``.`` or ``..`` (as Workers KV)."""
    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKv("a key must be valid UTF-8") from None
    if not raw or len(raw) > MAX_KEY_BYTES:
        raise InvalidKv(f"a key is 1-{MAX_KEY_BYTES} bytes of UTF-8")
    if key in (".", ".."):
        raise InvalidKv("a key may not be '.' or '..'")
    return key


def _cursor_out(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode().rstrip("=")


def _cursor_in(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise InvalidKv("invalid cursor") from None


class SqlKvStore(SqlStore):
    """Namespaces and entries in the metadata database."""

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float,
        limits: KvLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(engine, timeout)
        self.limits = limits
        self._clock = clock

    # ------------------------------------------------------------------ namespaces

    async def create_namespace(self, tenant: str, name: str) -> Namespace:
        check_namespace_name(name)
        ns = Namespace("kv_" + secrets.token_hex(12), tenant, name, self._clock())
        try:
            async with self._conn(write=True) as conn:
                count = len(
                    (
                        await conn.execute(
                            select(kv_namespaces.c.id).where(kv_namespaces.c.tenant == tenant)
                        )
                    ).all()
                )
                if count >= self.limits.max_namespaces:
                    raise LimitExceeded(
                        f"a tenant may have at most {self.limits.max_namespaces} KV namespaces"
                    )
                await conn.execute(
                    insert(kv_namespaces).values(
                        id=ns.id, tenant=tenant, name=name, created_at=ns.created_at
                    )
                )
        except IntegrityError:
            raise NamespaceExists(f"you already have a KV namespace {name!r}") from None
        return ns

    async def namespaces(self, tenant: str) -> list[Namespace]:
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(kv_namespaces)
                .where(kv_namespaces.c.tenant == tenant)
                .order_by(kv_namespaces.c.name)
            )
            return [Namespace(r.id, r.tenant, r.name, r.created_at) for r in rows]

    async def namespace(self, tenant: str, name: str) -> Namespace:
        """The tenant's namespace ``name``; :class:`NamespaceNotFound` otherwise."""
        async with self._conn(write=False) as conn:
            row = (
                await conn.execute(
                    select(kv_namespaces).where(
                        kv_namespaces.c.tenant == tenant, kv_namespaces.c.name == name
                    )
                )
            ).first()
        if row is None:
            raise NamespaceNotFound(f"no KV namespace {name[:63]!r}")
        return Namespace(row.id, row.tenant, row.name, row.created_at)

    async def delete_namespace(self, tenant: str, name: str) -> None:
        ns = await self.namespace(tenant, name)
        async with self._conn(write=True) as conn:
            await conn.execute(delete(kv_entries).where(kv_entries.c.namespace == ns.id))
            await conn.execute(delete(kv_namespaces).where(kv_namespaces.c.id == ns.id))

    # ------------------------------------------------------------------ quota

    async def _count(self, conn: AsyncConnection, tenant: str) -> None:
        """One operation of ``tenant`` today; :class:`KvQuotaExceeded` beyond the quota."""
        day = int(self._clock() // 86400)
        limit = self.limits.ops_per_day
        where = (kv_usage.c.tenant == tenant) & (kv_usage.c.day == day)
        done = await conn.execute(
            update(kv_usage).where(where, kv_usage.c.ops < limit).values(ops=kv_usage.c.ops + 1)
        )
        if done.rowcount:
            return
        exists = (await conn.execute(select(kv_usage.c.ops).where(where))).first()
        if exists is not None:
            raise KvQuotaExceeded(f"KV operations of today used up ({limit} per day)")
        try:
            async with conn.begin_nested():
                await conn.execute(insert(kv_usage).values(tenant=tenant, day=day, ops=1))
        except IntegrityError:  # another replica inserted it meanwhile: count on it
            await conn.execute(update(kv_usage).where(where).values(ops=kv_usage.c.ops + 1))
        await conn.execute(
            delete(kv_usage).where(kv_usage.c.tenant == tenant, kv_usage.c.day < day)
        )

    async def usage(self, tenant: str) -> int:
        day = int(self._clock() // 86400)
        async with self._conn(write=False) as conn:
            row = (
                await conn.execute(
                    select(kv_usage.c.ops).where(kv_usage.c.tenant == tenant, kv_usage.c.day == day)
                )
            ).first()
        return int(row.ops) if row else 0

    # ------------------------------------------------------------------ entries

    def _expiration(self, expiration: float | None, ttl: float | None) -> float | None:
        now = self._clock()
        if ttl is not None:
            if ttl < MIN_TTL:
                raise InvalidKv(f"expirationTtl must be at least {MIN_TTL} seconds")
            return now + ttl
        if expiration is not None and expiration < now + MIN_TTL:
            raise InvalidKv(f"expiration must be at least {MIN_TTL} seconds in the future")
        return expiration

    def _metadata(self, metadata: Any) -> Any:
        if metadata is None:
            return None
        try:
            size = len(json.dumps(metadata, separators=(",", ":")).encode("utf-8"))
        except (TypeError, ValueError):
            raise InvalidKv("metadata must be JSON") from None
        if size > self.limits.max_metadata_bytes:
            raise InvalidKv(f"metadata may be at most {self.limits.max_metadata_bytes} bytes")
        return metadata

    async def put(
        self,
        tenant: str,
        ns_id: str,
        key: str,
        value: bytes,
        *,
        expiration: float | None = None,
        expiration_ttl: float | None = None,
        metadata: Any = None,
    ) -> None:
        check_key(key)
        if len(value) > self.limits.max_value_bytes:
            raise InvalidKv(f"a value may be at most {self.limits.max_value_bytes} bytes")
        row = {
            "value": value,
            "metadata": self._metadata(metadata),
            "expiration": self._expiration(expiration, expiration_ttl),
            "updated_at": self._clock(),
        }
        where = (kv_entries.c.namespace == ns_id) & (kv_entries.c.key == key)
        async with self._conn(write=True) as conn:
            await self._count(conn, tenant)
            done = await conn.execute(update(kv_entries).where(where).values(**row))
            if not done.rowcount:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            insert(kv_entries).values(namespace=ns_id, key=key, **row)
                        )
                except IntegrityError:  # written meanwhile: last writer wins
                    await conn.execute(update(kv_entries).where(where).values(**row))

    async def get(self, tenant: str, ns_id: str, key: str) -> Entry | None:
        check_key(key)
        async with self._conn(write=True) as conn:
            await self._count(conn, tenant)
            row = (
                await conn.execute(
                    select(
                        kv_entries.c.value, kv_entries.c.metadata, kv_entries.c.expiration
                    ).where(kv_entries.c.namespace == ns_id, kv_entries.c.key == key)
                )
            ).first()
        if row is None or (row.expiration is not None and row.expiration <= self._clock()):
            return None
        return Entry(bytes(row.value), row.metadata, row.expiration)

    async def delete(self, tenant: str, ns_id: str, key: str) -> None:
        check_key(key)
        async with self._conn(write=True) as conn:
            await self._count(conn, tenant)
            await conn.execute(
                delete(kv_entries).where(kv_entries.c.namespace == ns_id, kv_entries.c.key == key)
            )

    async def list(
        self,
        tenant: str,
        ns_id: str,
        prefix: str = "",
        limit: int = MAX_LIST,
        cursor: str | None = None,
    ) -> Listing:
        if not 1 <= limit <= MAX_LIST:
            raise InvalidKv(f"limit must be 1-{MAX_LIST}")
        now = self._clock()
        async with self._conn(write=True) as conn:
            await self._count(conn, tenant)
            col: Any = kv_entries.c.key
            if conn.dialect.name == "postgresql":
                col = col.collate("C")  # byte order, as SQLite's and Workers KV's
            query = select(kv_entries.c.key, kv_entries.c.metadata, kv_entries.c.expiration).where(
                kv_entries.c.namespace == ns_id,
                (kv_entries.c.expiration.is_(None)) | (kv_entries.c.expiration > now),
            )
            if prefix:
                # a range, not LIKE: no escaping of % and _, and the primary key serves it
                query = query.where(col >= prefix)
            if cursor:
                query = query.where(col > _cursor_in(cursor))
            rows = (await conn.execute(query.order_by(col).limit(limit + 1))).all()
        if prefix:
            rows = list(_prefixed(rows, prefix))
        more = len(rows) > limit
        rows = rows[:limit]
        keys = []
        for r in rows:
            item: dict[str, Any] = {"name": r.key}
            if r.expiration is not None:
                item["expiration"] = int(r.expiration)
            if r.metadata is not None:
                item["metadata"] = r.metadata
            keys.append(item)
        return Listing(keys, not more, _cursor_out(rows[-1].key) if more else None)


def _prefixed(rows: Any, prefix: str) -> Any:
    for r in rows:
        if not r.key.startswith(prefix):
            return  # keys are in order: past the prefix's range
        yield r
