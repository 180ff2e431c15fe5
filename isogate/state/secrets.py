"""Function secrets: the SQL store (encrypted rows) and the gateway's per-replica cache.

Values are sealed by :class:`~isogate.state.crypto.Keyring` before they reach SQL and
opened only to build a call's ``env``; names and update times are all anyone reads back.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.caches import TLRU
from isogate.registry.errors import FunctionNotFound, LimitExceeded
from isogate.registry.tables import functions
from isogate.singleflight import BatchFlight
from isogate.state.crypto import Keyring, KeyringError, Sealed

# the errors live in state/errors.py; re-exported for importers that name them here
from isogate.state.errors import InvalidSecret as InvalidSecret
from isogate.state.errors import SecretNotFound as SecretNotFound
from isogate.state.errors import SecretsUnavailable as SecretsUnavailable
from isogate.state.sql import SqlStore
from isogate.state.tables import function_secrets

#: a secret's name: what ``env.NAME`` can spell (the same alphabet as env vars)
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """What may be shown of a secret: its name and when it was last set."""

    name: str
    updated_at: float


@dataclass(frozen=True, slots=True)
class FunctionSecrets:
    """The opened secrets of one function, and a revision that changes with any write.

    The revision is a digest of names and ciphertexts (fresh nonces at every write): it
    tells runtimes to build a new context, and says nothing about the values.
    """

    tenant: str
    revision: str
    values: tuple[tuple[str, str], ...]


NO_SECRETS = ("", ())


def _context(tenant: str, function: str, name: str) -> bytes:
    # authenticated with the ciphertext: a row copied to another function or tenant
    # does not open
    return f"isogate-secret\0{tenant}\0{function}\0{name}".encode()


def check_secret_name(name: str) -> str:
    """``name`` if usable as ``env.NAME``; :class:`InvalidSecret` otherwise."""
    if not SECRET_NAME.fullmatch(name):
        raise InvalidSecret(
            "a secret name is 1-64 ASCII letters, digits and '_', not starting with a digit"
        )
    return name


class SqlSecretStore(SqlStore):
    """Secrets of functions in the metadata database; ``keyring`` None: refused (503)."""

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float,
        keyring: Keyring | None,
        max_bytes: int,
        max_per_function: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(engine, timeout)
        self.keyring = keyring
        self._max_bytes = max_bytes
        self._max_count = max_per_function
        self._clock = clock

    def _ring(self) -> Keyring:
        if self.keyring is None:
            raise SecretsUnavailable(
                "secrets need a master key: set secrets_master_key "
                "(env ISOGATE_SECRETS_MASTER_KEY) on every replica"
            )
        return self.keyring

    @staticmethod
    async def _owned(conn: AsyncConnection, tenant: str, function: str, lock: bool) -> None:
        query = select(functions.c.tenant).where(functions.c.name == function)
        if lock:  # serializes writers of one function's secrets (PostgreSQL)
            query = query.with_for_update()
        owner = (await conn.execute(query)).scalar()
        if owner != tenant:  # another tenant's function looks like no function at all
            raise FunctionNotFound(f"no function {function!r}")

    async def require_owned(self, tenant: str, function: str) -> None:
        """:class:`FunctionNotFound` unless ``tenant`` owns ``function``. The API asks this
        before it looks at anything else in a request, so another tenant learns nothing
        (not even which secret names or media types would be accepted)."""
        async with self._conn(write=False) as conn:
            await self._owned(conn, tenant, function, lock=False)

    async def put(self, tenant: str, function: str, name: str, value: str) -> SecretInfo:
        """Set (create or replace) a secret of an owned function."""
        check_secret_name(name)
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidSecret("a secret value must be valid UTF-8 text") from None
        if len(raw) > self._max_bytes:
            raise InvalidSecret(f"a secret value may be at most {self._max_bytes} bytes")
        sealed = self._ring().seal(raw, _context(tenant, function, name))
        now = self._clock()
        row = {
            "tenant": tenant,
            "key_id": sealed.key_id,
            "wrapped_key": sealed.wrapped_key,
            "ciphertext": sealed.ciphertext,
            "updated_at": now,
        }
        where = (function_secrets.c.function == function) & (function_secrets.c.name == name)
        async with self._conn(write=True) as conn:
            await self._owned(conn, tenant, function, lock=True)
            done = await conn.execute(update(function_secrets).where(where).values(**row))
            if done.rowcount == 0:
                count = (
                    await conn.execute(
                        select(func.count())
                        .select_from(function_secrets)
                        .where(function_secrets.c.function == function)
                    )
                ).scalar_one()
                if count >= self._max_count:
                    raise LimitExceeded(f"a function may have at most {self._max_count} secrets")
                await conn.execute(
                    insert(function_secrets).values(function=function, name=name, **row)
                )
        return SecretInfo(name, now)

    async def delete(self, tenant: str, function: str, name: str) -> None:
        """Remove a secret; :class:`SecretNotFound` if the owned function has none so named."""
        async with self._conn(write=True) as conn:
            await self._owned(conn, tenant, function, lock=True)
            done = await conn.execute(
                delete(function_secrets).where(
                    function_secrets.c.function == function, function_secrets.c.name == name
                )
            )
        if done.rowcount == 0:
            raise SecretNotFound(f"function {function!r} has no secret {name[:64]!r}")

    async def list(self, tenant: str, function: str) -> list[SecretInfo]:
        """Names and update times of an owned function's secrets (never values)."""
        async with self._conn(write=False) as conn:
            await self._owned(conn, tenant, function, lock=False)
            rows = await conn.execute(
                select(function_secrets.c.name, function_secrets.c.updated_at)
                .where(function_secrets.c.function == function)
                .order_by(function_secrets.c.name)
            )
            return [SecretInfo(r.name, r.updated_at) for r in rows]

    async def load_many(
        self, wanted: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], FunctionSecrets | SecretsUnavailable]:
        """The opened secrets of each (function, tenant) in ``wanted``, in one query.

        Rows of another tenant than the one asked with are ignored. A function whose
        secrets cannot be opened gets the error as its value, so one tenant's unreadable
        row never fails another's call read in the same batch.
        """
        by_function: dict[str, builtins.list[Any]] = {function: [] for function, _ in wanted}
        async with self._conn(write=False) as conn:
            rows = await conn.execute(
                select(function_secrets)
                .where(function_secrets.c.function.in_(sorted(by_function)))
                .order_by(function_secrets.c.function, function_secrets.c.name)
            )
            for r in rows:
                by_function[r.function].append(r)
        return {
            (function, tenant): self._open(
                function, tenant, [r for r in by_function[function] if r.tenant == tenant]
            )
            for function, tenant in wanted
        }

    def _open(
        self, function: str, tenant: str, rows: Sequence[Any]
    ) -> FunctionSecrets | SecretsUnavailable:
        """``rows`` (one function's, ordered by name) opened, with their revision."""
        if not rows:
            return FunctionSecrets(tenant, *NO_SECRETS)
        digest = hashlib.sha256()
        values: list[tuple[str, str]] = []
        try:
            ring = self._ring()
            for r in rows:
                sealed = Sealed(r.key_id, r.wrapped_key, r.ciphertext)
                raw = ring.open(sealed, _context(tenant, function, r.name))
                values.append((r.name, raw.decode("utf-8")))
                digest.update(r.name.encode() + b"\0" + bytes(r.ciphertext) + b"\0")
        except SecretsUnavailable as exc:
            return exc
        except KeyringError as exc:
            return SecretsUnavailable(str(exc))
        return FunctionSecrets(tenant, digest.hexdigest()[:16], tuple(values))

    async def rewrap_all(self, batch: int = 200) -> tuple[int, dict[str, int]]:
        """Re-wrap every data key not under the current master key; returns (re-wrapped,
        rows left per key id) — all rows are under the current key when the second is
        empty. Values are not re-encrypted; a row changed meanwhile is simply re-read."""
        ring = self._ring()
        done = 0
        while True:
            async with self._conn(write=True) as conn:
                rows = (
                    await conn.execute(
                        select(function_secrets)
                        .where(function_secrets.c.key_id != ring.current_id)
                        .limit(batch)
                    )
                ).all()
                for r in rows:
                    context = _context(r.tenant, r.function, r.name)
                    try:
                        fresh = ring.rewrap(Sealed(r.key_id, r.wrapped_key, r.ciphertext), context)
                    except KeyringError as exc:
                        raise SecretsUnavailable(
                            f"secret {r.name} of function {r.function}: {exc}"
                        ) from None
                    await conn.execute(
                        update(function_secrets)
                        .where(
                            function_secrets.c.function == r.function,
                            function_secrets.c.name == r.name,
                            function_secrets.c.key_id == r.key_id,
                            function_secrets.c.wrapped_key == r.wrapped_key,
                        )
                        .values(key_id=fresh.key_id, wrapped_key=fresh.wrapped_key)
                    )
                    done += 1
            if len(rows) < batch:
                break
        async with self._conn(write=False) as conn:
            left = await conn.execute(
                select(function_secrets.c.key_id, func.count()).group_by(function_secrets.c.key_id)
            )
            by_key = {k: n for k, n in left if k != ring.current_id}
        return done, by_key


class SecretCache:
    """Opened secrets per function name, for ``ttl`` seconds, on one replica.

    Dropped at once by :meth:`forget` (local writes, and other replicas' writes through
    the invalidation bus); a read that raced with a write is not kept.
    """

    def __init__(
        self,
        store: SqlSecretStore,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        #: function -> (expires, its incarnation, its opened secrets)
        self._items: TLRU[str, tuple[float, float, FunctionSecrets]] = TLRU(
            "secrets", max_entries, lambda _fn, item, _now: item[0], clock
        )
        self._generation = 0
        # Misses share reads: of one function (an entry expiring under load) and of many
        # (a burst of functions whose entries expired together) alike. A write meanwhile
        # starts a new generation, so a call after it never joins a read made before it.
        self._reads: BatchFlight[
            tuple[str, str, float, int], FunctionSecrets | SecretsUnavailable
        ] = BatchFlight(self._read_batch)
        #: called with the function's name after a local :meth:`invalidate`
        self.on_invalidate: Callable[[str], None] | None = None

    async def get(self, function: str, tenant: str, incarnation: float) -> FunctionSecrets:
        """The secrets ``function`` (owned by ``tenant``, created at ``incarnation``) gets
        in its ``env``; a name deleted and deployed again never sees the old ones.
        :class:`SecretsUnavailable` if they cannot be opened."""
        item = self._items.lookup(function)
        if item is not None and item[1] == incarnation and item[2].tenant == tenant:
            return item[2]
        generation = self._generation
        found = await self._reads.run((function, tenant, incarnation, generation))
        if isinstance(found, SecretsUnavailable):
            raise found
        if self._ttl > 0 and generation == self._generation:
            self._items[function] = (self._clock() + self._ttl, incarnation, found)
        return found

    async def _read_batch(
        self, keys: list[tuple[str, str, float, int]]
    ) -> dict[tuple[str, str, float, int], FunctionSecrets | SecretsUnavailable]:
        opened = await self._store.load_many(
            list(dict.fromkeys((function, tenant) for function, tenant, _, _ in keys))
        )
        return {key: opened[key[0], key[1]] for key in keys}

    def invalidate(self, function: str) -> None:
        """A local write: drop here and tell the other replicas."""
        self.forget(function)
        if self.on_invalidate is not None:
            self.on_invalidate(function)

    def forget(self, function: str) -> None:
        """Drop ``function`` here only."""
        self._generation += 1
        self._items.pop(function, None)

    def clear(self) -> None:
        """Drop everything (invalidations may have been missed)."""
        self._generation += 1
        self._items.clear()
