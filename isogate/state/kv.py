"""KV namespaces of tenants: the SQL store of record.

A namespace belongs to one tenant (its name is unique per tenant, and another tenant's
namespace looks like none at all). Entries are read and written with the semantics of
Workers KV: values are bytes, optional JSON metadata, optional expiration (absolute, or
a TTL of at least 60 s), ``list`` in key order with a prefix, a limit (at most 1000) and
an opaque cursor. Every operation counts against the tenant's daily quota.

Consistency: every read goes to the database (no replica cache), so a write is visible
to every later read on every replica once it is acknowledged (stronger than Workers KV,
which is eventually consistent; ``cacheTtl`` is accepted and ignored).

Large values: a value above ``inline_max_bytes`` goes to the object store (S3, or a
folder on the embedded default; a scope of the code blob store) and the row names it.
That half of the store, the blob's lifecycle and :meth:`SqlKvStore.sweep` (what a crash
or an outage left behind), is its base :class:`~isogate.state.kv_blobs.KvBlobs`; this
module holds the namespaces, the quota count and the entries' operations. The errors
are in state/errors.py (re-exported here), the tables in state/tables.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.blobs import BlobStore
from isogate.registry.errors import BlobMissing, LimitExceeded, StoreUnavailable

# the errors live in state/errors.py; re-exported for importers that name them here
from isogate.state.errors import InvalidKv as InvalidKv
from isogate.state.errors import KvError as KvError
from isogate.state.errors import KvKeyNotFound as KvKeyNotFound
from isogate.state.errors import KvQuotaExceeded as KvQuotaExceeded
from isogate.state.errors import NamespaceExists as NamespaceExists
from isogate.state.errors import NamespaceNotFound as NamespaceNotFound
from isogate.state.kv_blobs import KvBlobs
from isogate.state.tables import kv_blobs, kv_entries, kv_namespaces, kv_usage

log = logging.getLogger(__name__)

NAMESPACE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
MAX_KEY_BYTES = 512
MAX_LIST = 1000
MIN_TTL = 60
#: how often a read retries when the blob its row named was replaced meanwhile
_READ_RETRIES = 3


@dataclass(frozen=True, slots=True)
class KvLimits:
    """Operator limits (settings ``kv_*``)."""

    max_value_bytes: int = 1 << 20
    max_metadata_bytes: int = 1024
    max_namespaces: int = 100
    ops_per_day: int = 100_000
    #: values longer than this go to the object store (when the store has one)
    inline_max_bytes: int = 64 << 10


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


#: outcomes of a KV operation as counted (``on_op``): bounded, whatever the callers do
OUTCOMES = ("ok", "miss", "invalid", "quota", "unavailable", "error")


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, InvalidKv):
        return "invalid"
    if isinstance(exc, KvQuotaExceeded):
        return "quota"
    if isinstance(exc, StoreUnavailable | BlobMissing | OSError | TimeoutError):
        return "unavailable"
    return "error"


class _Op:
    outcome = "ok"


class SqlKvStore(KvBlobs):
    """Namespaces and entries in the metadata database, large values in ``blobs``.

    ``on_op(op, outcome)`` is told of every entry operation (``get``, ``put``, ``delete``,
    ``list``) with one of :data:`OUTCOMES` (the gateway counts them in its metrics).
    ``blob_grace`` is how long a ``pending`` blob may wait for its entry before
    :meth:`sweep` takes it for abandoned (longer than any put can take).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float,
        limits: KvLimits,
        clock: Callable[[], float] = time.time,
        *,
        blobs: BlobStore | None = None,
        blob_grace: float = 3600.0,
        on_op: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(engine, timeout)
        self.limits = limits
        self._clock = clock
        self.blobs = blobs
        self._blob_grace = blob_grace
        self.on_op = on_op

    @contextlib.asynccontextmanager
    async def _op(self, name: str) -> AsyncIterator[_Op]:
        op = _Op()
        try:
            yield op
        except Exception as exc:
            op.outcome = _outcome(exc)
            raise
        finally:
            if self.on_op is not None:
                self.on_op(name, op.outcome)

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
            held = select(kv_entries.c.blob).where(
                kv_entries.c.namespace == ns.id, kv_entries.c.blob.is_not(None)
            )
            await conn.execute(
                update(kv_blobs).where(kv_blobs.c.address.in_(held)).values(state="dead")
            )
            await conn.execute(delete(kv_entries).where(kv_entries.c.namespace == ns.id))
            await conn.execute(delete(kv_namespaces).where(kv_namespaces.c.id == ns.id))
        # the objects go with the next sweep (a namespace may hold many)

    # ------------------------------------------------------------------ quota

    async def _count(self, conn: AsyncConnection, tenant: str) -> None:
        """One operation of ``tenant`` today; :class:`KvQuotaExceeded` beyond the quota.

        Writers may race for the day's first row (PostgreSQL, read committed): one inserts
        it, the others find it there when their update or insert has failed, and count on
        it within the quota (a row seen only then is not a spent quota)."""
        day = int(self._clock() // 86400)
        limit = self.limits.ops_per_day
        where = (kv_usage.c.tenant == tenant) & (kv_usage.c.day == day)
        spent = KvQuotaExceeded(f"KV operations of today used up ({limit} per day)")
        for _ in range(4):
            done = await conn.execute(
                update(kv_usage).where(where, kv_usage.c.ops < limit).values(ops=kv_usage.c.ops + 1)
            )
            if done.rowcount:
                return
            row = (await conn.execute(select(kv_usage.c.ops).where(where))).first()
            if row is not None:
                if row.ops >= limit:
                    raise spent
                continue  # inserted since the update looked: count on it
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(kv_usage).values(tenant=tenant, day=day, ops=1))
            except IntegrityError:  # inserted meanwhile by another writer
                continue
            await conn.execute(
                delete(kv_usage).where(kv_usage.c.tenant == tenant, kv_usage.c.day < day)
            )
            return
        raise StoreUnavailable("KV usage counter is contended, try again")

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
        async with self._op("put"):
            await self._put(tenant, ns_id, key, value, expiration, expiration_ttl, metadata)

    async def _put(
        self,
        tenant: str,
        ns_id: str,
        key: str,
        value: bytes,
        expiration: float | None,
        expiration_ttl: float | None,
        metadata: Any,
    ) -> None:
        check_key(key)
        if len(value) > self.limits.max_value_bytes:
            raise InvalidKv(f"a value may be at most {self.limits.max_value_bytes} bytes")
        row = {
            "value": value,
            "metadata": self._metadata(metadata),
            "expiration": self._expiration(expiration, expiration_ttl),
            "updated_at": self._clock(),
            "blob": None,
        }
        address = None
        if self.blobs is not None and len(value) > self.limits.inline_max_bytes:
            address = await self._upload(value)
            row["value"], row["blob"] = b"", address
        where = (kv_entries.c.namespace == ns_id) & (kv_entries.c.key == key)
        old = None
        try:
            async with self._conn(write=True) as conn:
                await self._count(conn, tenant)
                if address is not None:
                    claimed = await conn.execute(
                        update(kv_blobs)
                        .where(kv_blobs.c.address == address, kv_blobs.c.state == "pending")
                        .values(state="live")
                    )
                    if claimed.rowcount != 1:  # the sweep took it for abandoned
                        raise StoreUnavailable("KV value upload took too long, try again")
                old = await self._lock_entry(conn, where)
                if old is None:
                    try:
                        async with conn.begin_nested():
                            await conn.execute(
                                insert(kv_entries).values(namespace=ns_id, key=key, **row)
                            )
                    except IntegrityError:  # written meanwhile (last writer wins), or the
                        old = await self._lock_entry(conn, where)  # namespace is gone
                        if old is None:
                            raise NamespaceNotFound("the KV namespace was deleted") from None
                if old is not None:
                    await conn.execute(update(kv_entries).where(where).values(**row))
                    if old.blob is not None:
                        await self._kill(conn, old.blob)
        except KvError:
            # refused before the commit: the new blob is nobody's
            if address is not None:
                await self._discard(address)
            raise
        # after any other failure the new blob may or may not be live: the sweep decides
        if old is not None and old.blob is not None:
            await self._collect([old.blob])

    async def get(self, tenant: str, ns_id: str, key: str) -> Entry | None:
        async with self._op("get") as op:
            check_key(key)
            async with self._conn(write=True) as conn:
                await self._count(conn, tenant)
                row = await self._read(conn, ns_id, key)
            for _ in range(_READ_RETRIES):
                if row is None or (row.expiration is not None and row.expiration <= self._clock()):
                    op.outcome = "miss"
                    return None
                if row.blob is None:
                    return Entry(bytes(row.value), row.metadata, row.expiration)
                try:
                    value = await self._fetch(row.blob)
                except BlobMissing:
                    # replaced (and its blob deleted) between the row and the object: the
                    # current row says where the value is now (not counted again)
                    async with self._conn(write=False) as conn:
                        fresh = await self._read(conn, ns_id, key)
                    if fresh is not None and fresh.blob == row.blob:
                        log.error("KV value blob %s is missing or corrupt", row.blob[:12])
                        raise StoreUnavailable("KV value is unavailable") from None
                    row = fresh
                    continue
                return Entry(value, row.metadata, row.expiration)
            raise StoreUnavailable("KV value keeps changing, try again")

    @staticmethod
    async def _read(conn: AsyncConnection, ns_id: str, key: str) -> Any:
        return (
            await conn.execute(
                select(
                    kv_entries.c.value,
                    kv_entries.c.metadata,
                    kv_entries.c.expiration,
                    kv_entries.c.blob,
                ).where(kv_entries.c.namespace == ns_id, kv_entries.c.key == key)
            )
        ).first()

    async def delete(self, tenant: str, ns_id: str, key: str) -> None:
        async with self._op("delete"):
            check_key(key)
            where = (kv_entries.c.namespace == ns_id) & (kv_entries.c.key == key)
            async with self._conn(write=True) as conn:
                await self._count(conn, tenant)
                old = await self._lock_entry(conn, where)
                await conn.execute(delete(kv_entries).where(where))
                if old is not None and old.blob is not None:
                    await self._kill(conn, old.blob)
            if old is not None and old.blob is not None:
                await self._collect([old.blob])

    async def list(
        self,
        tenant: str,
        ns_id: str,
        prefix: str = "",
        limit: int = MAX_LIST,
        cursor: str | None = None,
    ) -> Listing:
        async with self._op("list"):
            return await self._list(tenant, ns_id, prefix, limit, cursor)

    async def _list(
        self, tenant: str, ns_id: str, prefix: str, limit: int, cursor: str | None
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
