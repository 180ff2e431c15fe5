"""Tenants: registration and password login."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.quota.errors import InvalidCredentials, InvalidInput, StoreUnavailable, TenantExists
from isogate.quota.models import Tenant
from isogate.quota.names import check_tenant_name
from isogate.quota.passwords import hash_password, verify_password
from isogate.quota.tables import tenants

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


class TenantStore(Protocol):
    """Where tenants live (SQL now; any backend later)."""

    async def create(self, name: str, password: str) -> Tenant: ...
    async def authenticate(self, name: str, password: str) -> Tenant: ...
    async def exists(self, name: str) -> bool: ...


class SqlTenantStore:
    """Tenants in the metadata database."""

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout

    async def create(self, name: str, password: str) -> Tenant:
        """Register a tenant; :class:`TenantExists` if the name is taken."""
        check_tenant_name(name)
        if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput(f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters")
        # the name first: a taken name must not cost an Argon2 hash (a flood of them
        # stalled the process, issue 24); the insert still catches a race
        if await self.exists(name):
            raise TenantExists(f"tenant {name!r} already exists")
        hashed = await hash_password(password)
        now = time.time()
        try:
            async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
                await conn.execute(
                    insert(tenants).values(name=name, password_hash=hashed, created_at=now)
                )
        except IntegrityError:
            raise TenantExists(f"tenant {name!r} already exists") from None
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        return Tenant(name=name, created_at=now)

    async def authenticate(self, name: str, password: str) -> Tenant:
        """Return the tenant if the password matches, else :class:`InvalidCredentials`."""
        row = None
        if isinstance(name, str) and len(name) <= 63 and isinstance(password, str):
            try:
                async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                    row = (
                        await conn.execute(select(tenants).where(tenants.c.name == name))
                    ).first()
            except TimeoutError:
                raise StoreUnavailable("metadata store timed out") from None
        ok = await verify_password(row.password_hash if row else None, str(password)[:MAX_PASSWORD])
        if not ok or row is None:
            raise InvalidCredentials("unknown tenant or wrong password")
        return Tenant(name=row.name, created_at=row.created_at)

    async def exists(self, name: str) -> bool:
        """Whether the tenant exists (tokens of deleted tenants stop working)."""
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                row = (
                    await conn.execute(select(tenants.c.name).where(tenants.c.name == name))
                ).first()
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
        return row is not None
