"""The blob half of the KV store: values above ``inline_max_bytes`` in the object store,
and the collector of the blobs no entry holds any more.

Each such value is a blob of its own (a random nonce before the value: never shared
between entries, so it can go as soon as its entry lets go of it), stored in a scope of
the code blob store. Its ``kv_blobs`` row is written before the upload and moves
``pending`` → ``live`` (in the transaction that writes the entry) → ``dead`` (in the
transaction that replaces, deletes or expires the entry); dead blobs are deleted right
after that commit, and :meth:`KvBlobs.sweep` deletes what a crash or an outage left
behind (dead blobs, pending ones older than the grace, expired entries).

:class:`KvBlobs` is the base of :class:`~isogate.state.kv.SqlKvStore` (one store of
record: an entry's row and its blob move in the same transactions); kv.py holds the
namespaces, the quota and the entries' operations.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from isogate.registry.blobs import BlobStore, sha256_hex
from isogate.registry.errors import StoreUnavailable
from isogate.state.sql import SqlStore
from isogate.state.tables import kv_blobs, kv_entries

# the KV store's own logger (kv.py's): one name for all of the store's messages
log = logging.getLogger("isogate.state.kv")

#: random bytes before a value in its blob: every blob is unique (never shared between
#: entries, so it can be deleted as soon as its entry lets go of it)
NONCE_BYTES = 16


class KvBlobs(SqlStore):
    """The blob half of :class:`~isogate.state.kv.SqlKvStore` (its base: the store is one
    object; this part uploads, reads and deletes its value blobs, and sweeps)."""

    # The store's state this half uses, set by SqlKvStore.__init__ (kv.py); declared for
    # the type checker (annotations only, no class attributes).
    blobs: BlobStore | None
    _blob_grace: float
    _clock: Callable[[], float]

    @staticmethod
    async def _lock_entry(conn: AsyncConnection, where: Any) -> Any:
        """The entry's row (its blob), locked until the commit (PostgreSQL; SQLite's one
        connection serializes writers anyway)."""
        return (
            await conn.execute(select(kv_entries.c.blob).where(where).with_for_update())
        ).first()

    async def _upload(self, value: bytes) -> str:
        """Record, then store, a new blob of ``value``; returns its address (``pending``)."""
        assert self.blobs is not None
        data = secrets.token_bytes(NONCE_BYTES) + value
        address = sha256_hex(data)
        async with self._conn(write=True) as conn:
            await conn.execute(
                insert(kv_blobs).values(
                    address=address, state="pending", size=len(value), created_at=self._clock()
                )
            )
        try:
            await self.blobs.put(data)
        except BaseException:
            await self._discard(address)
            raise
        return address

    async def _fetch(self, address: str) -> bytes:
        assert self.blobs is not None
        return (await self.blobs.get(address))[NONCE_BYTES:]

    @staticmethod
    async def _kill(conn: AsyncConnection, address: str) -> None:
        await conn.execute(
            update(kv_blobs).where(kv_blobs.c.address == address).values(state="dead")
        )

    async def _discard(self, address: str) -> None:
        """A pending blob its put gave up: dead now, deleted now or by the sweep."""
        with contextlib.suppress(Exception):
            async with self._conn(write=True) as conn:
                await conn.execute(
                    update(kv_blobs)
                    .where(kv_blobs.c.address == address, kv_blobs.c.state == "pending")
                    .values(state="dead")
                )
            await self._collect([address])

    async def _collect(self, addresses: Sequence[str]) -> int:
        """Delete dead blobs: the object, then its row (a failure leaves the row for the
        next sweep). Returns how many went."""
        if self.blobs is None:
            return 0
        gone = 0
        for address in addresses:
            try:
                await self.blobs.delete(address)
                async with self._conn(write=True) as conn:
                    await conn.execute(
                        delete(kv_blobs).where(
                            kv_blobs.c.address == address, kv_blobs.c.state == "dead"
                        )
                    )
                gone += 1
            except (StoreUnavailable, OSError) as exc:
                log.warning("KV blob %s not deleted yet: %s", address[:12], exc)
                break
        return gone

    async def sweep(self, batch: int = 500) -> dict[str, int]:
        """One pass of the collector (every replica runs it; each step is idempotent):
        delete expired entries, give up pending blobs older than the grace and live blobs
        no entry names, delete dead blobs. Returns counts by kind."""
        now = self._clock()
        out = {"expired": 0, "abandoned": 0, "orphaned": 0, "deleted": 0}
        async with self._conn(write=True) as conn:
            expired = (
                await conn.execute(
                    select(kv_entries.c.namespace, kv_entries.c.key)
                    .where(kv_entries.c.expiration <= now)
                    .limit(batch)
                )
            ).all()
            for r in expired:
                where = (
                    (kv_entries.c.namespace == r.namespace)
                    & (kv_entries.c.key == r.key)
                    & (kv_entries.c.expiration <= now)  # not if rewritten meanwhile
                )
                old = await self._lock_entry(conn, where)
                if old is None:
                    continue
                await conn.execute(delete(kv_entries).where(where))
                if old.blob is not None:
                    await self._kill(conn, old.blob)
                out["expired"] += 1
        cutoff = now - self._blob_grace
        async with self._conn(write=True) as conn:
            done = await conn.execute(
                update(kv_blobs)
                .where(kv_blobs.c.state == "pending", kv_blobs.c.created_at < cutoff)
                .values(state="dead")
            )
            out["abandoned"] = done.rowcount or 0
            # a live blob no entry names (cannot happen through this store; a row deleted
            # by hand, say): one statement's snapshot sees a put's claim and its entry
            # together, and a blob once unnamed is never named again
            named = select(kv_entries.c.blob).where(kv_entries.c.blob.is_not(None))
            orphans = (
                (
                    await conn.execute(
                        select(kv_blobs.c.address)
                        .where(
                            kv_blobs.c.state == "live",
                            kv_blobs.c.created_at < cutoff,
                            kv_blobs.c.address.not_in(named),
                        )
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if orphans:
                await conn.execute(
                    update(kv_blobs)
                    .where(kv_blobs.c.address.in_(orphans), kv_blobs.c.state == "live")
                    .values(state="dead")
                )
                out["orphaned"] = len(orphans)
        async with self._conn(write=False) as conn:
            dead = (
                (
                    await conn.execute(
                        select(kv_blobs.c.address).where(kv_blobs.c.state == "dead").limit(batch)
                    )
                )
                .scalars()
                .all()
            )
        out["deleted"] = await self._collect(list(dead))
        return out
