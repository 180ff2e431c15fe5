"""API-key leases: issue, list, renew, revoke, and look up by the secret's hash.

Secrets are ``isg_`` + 32 random bytes (URL-safe base64). Only their SHA-256 is stored; a
key is found by its hash and the match confirmed with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.quota.errors import InvalidInput, KeyNotFound, StoreUnavailable
from isogate.quota.models import ApiKey, KeyPolicy, PeriodQuota, RateLimit
from isogate.quota.tables import api_keys

SECRET_PREFIX = "isg_"
PREFIX_LEN = 12  # shown in listings: "isg_" + 8 characters


def new_secret() -> str:
    """A fresh high-entropy API key secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


#: A key cache miss's lookup, built once (statement building is most of its CPU).
_BY_HASH = select(api_keys).where(api_keys.c.secret_hash == bindparam("digest"))


def _row_to_key(row: Any) -> ApiKey:
    quota = (
        PeriodQuota(invocations=row.quota_invocations, period=row.quota_period)
        if row.quota_invocations is not None
        else None
    )
    return ApiKey(
        id=row.id,
        tenant=row.tenant,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        functions=tuple(row.functions),
        policy=KeyPolicy(
            rate=RateLimit(row.rate_requests, row.rate_per_seconds, row.rate_burst),
            quota=quota,
            uses=row.uses,
        ),
    )


class KeyStore(Protocol):
    """Where leases live (SQL now)."""

    async def create(
        self, tenant: str, name: str, ttl_seconds: int, functions: list[str], policy: KeyPolicy
    ) -> tuple[ApiKey, str]: ...
    async def list(self, tenant: str) -> list[ApiKey]: ...
    async def get(self, tenant: str, key_id: str) -> ApiKey: ...
    async def renew(self, tenant: str, key_id: str, ttl_seconds: int) -> ApiKey: ...
    async def revoke(self, tenant: str, key_id: str) -> ApiKey: ...
    async def find(self, secret: str) -> ApiKey | None: ...


class SqlKeyStore:
    """Leases in the metadata database."""

    def __init__(self, engine: AsyncEngine, timeout: float, max_ttl_seconds: int) -> None:
        self._engine = engine
        self._timeout = timeout
        self._max_ttl = max_ttl_seconds

    def _check_ttl(self, ttl_seconds: int) -> None:
        if not 1 <= ttl_seconds <= self._max_ttl:
            raise InvalidInput(f"ttl_seconds must be between 1 and {self._max_ttl}")

    async def create(
        self, tenant: str, name: str, ttl_seconds: int, functions: list[str], policy: KeyPolicy
    ) -> tuple[ApiKey, str]:
        """Issue a lease; returns it with the secret (shown once, never stored)."""
        self._check_ttl(ttl_seconds)
        if "\x00" in name or not _encodable(name):  # PostgreSQL text holds neither
            raise InvalidInput("name must be text without NUL or unpaired surrogates")
        secret = new_secret()
        now = time.time()
        key_id = "key_" + secrets.token_hex(8)
        values = {
            "id": key_id,
            "tenant": tenant,
            "name": name,
            "prefix": secret[:PREFIX_LEN],
            "secret_hash": hash_secret(secret),
            "created_at": now,
            "expires_at": now + ttl_seconds,
            "revoked_at": None,
            "functions": list(functions),
            "rate_requests": policy.rate.requests,
            "rate_per_seconds": policy.rate.per_seconds,
            "rate_burst": policy.rate.burst,
            "quota_invocations": policy.quota.invocations if policy.quota else None,
            "quota_period": policy.quota.period if policy.quota else None,
            "uses": policy.uses,
        }
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                await conn.execute(insert(api_keys).values(**values))
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        return _row_to_key(_Row(values)), secret

    async def list(self, tenant: str) -> list[ApiKey]:
        """Every lease of ``tenant``, oldest first."""
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                rows = await conn.execute(
                    select(api_keys)
                    .where(api_keys.c.tenant == tenant)
                    .order_by(api_keys.c.created_at)
                )
                return [_row_to_key(r) for r in rows]
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None

    async def get(self, tenant: str, key_id: str) -> ApiKey:
        """One lease of ``tenant``; another tenant's key is :class:`KeyNotFound` too."""
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(api_keys).where(api_keys.c.id == key_id, api_keys.c.tenant == tenant)
                    )
                ).first()
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        if row is None:
            raise KeyNotFound(f"no key {key_id!r}")
        return _row_to_key(row)

    async def _update(self, tenant: str, key_id: str, **values: Any) -> ApiKey:
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                result = await conn.execute(
                    update(api_keys)
                    .where(api_keys.c.id == key_id, api_keys.c.tenant == tenant)
                    .values(**values)
                )
                if result.rowcount == 0:
                    raise KeyNotFound(f"no key {key_id!r}")
                row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).one()
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        return _row_to_key(row)

    async def renew(self, tenant: str, key_id: str, ttl_seconds: int) -> ApiKey:
        """Extend the lease to now + ``ttl_seconds``; a revoked key stays revoked."""
        self._check_ttl(ttl_seconds)
        key = await self.get(tenant, key_id)
        if key.revoked_at is not None:
            raise InvalidInput("a revoked key cannot be renewed")
        return await self._update(tenant, key_id, expires_at=time.time() + ttl_seconds)

    async def revoke(self, tenant: str, key_id: str) -> ApiKey:
        """Revoke at once (idempotent: the first revocation time is kept)."""
        key = await self.get(tenant, key_id)
        if key.revoked_at is not None:
            return key
        return await self._update(tenant, key_id, revoked_at=time.time())

    async def find(self, secret: str) -> ApiKey | None:
        """The lease whose secret is ``secret``, whatever its state; ``None`` if unknown."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                row = (await conn.execute(_BY_HASH, {"digest": digest})).first()
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            return None
        return _row_to_key(row)


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Row:
    """Attribute access over a dict, to build an :class:`ApiKey` from inserted values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
