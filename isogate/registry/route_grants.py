"""The operator's side of route ownership: hostnames assigned to tenants, host-less
grants, and who holds which pattern.

A route is served only while its grant stands: unassigning a hostname drops the tenant's
routes on it, revoking a host-less grant drops the tenant's host-less routes (the
functions and their versions stay). Every change takes the same claim lock as deploys
(:func:`~isogate.registry.route_claims.lock_claims`), so a deploy never passes its check
against a grant that is being withdrawn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.errors import HostTaken, StoreUnavailable
from isogate.registry.names import check_host, normalize_route
from isogate.registry.route_claims import lock_claims, overlapping
from isogate.registry.tables import functions, hostless_route_grants, route_hosts, routes


@dataclass(frozen=True)
class RouteHolder:
    """A stored pattern that matches some of the same requests as the one asked about."""

    pattern: str
    tenant: str
    function: str


class SqlRouteGrants:
    """Hostname assignments and host-less grants in the metadata database."""

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout

    @asynccontextmanager
    async def _tx(self, write: bool) -> AsyncIterator[AsyncConnection]:
        try:
            ctx = self._engine.begin() if write else self._engine.connect()
            async with asyncio.timeout(self._timeout), ctx as conn:
                yield conn
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None

    async def assign_host(self, host: str, tenant: str) -> bool:
        """Assign ``host`` to ``tenant``; False if it already was. :class:`HostTaken`
        if another tenant has it (unassign it first)."""
        host = check_host(host)
        async with self._tx(write=True) as conn:
            await lock_claims(conn)
            row = (
                await conn.execute(select(route_hosts).where(route_hosts.c.host == host))
            ).first()
            if row is not None:
                if row.tenant != tenant:
                    raise HostTaken(f"hostname {host!r} is assigned to another tenant")
                return False
            await conn.execute(
                insert(route_hosts).values(host=host, tenant=tenant, assigned_at=time.time())
            )
        return True

    async def unassign_host(self, host: str) -> list[str]:
        """Withdraw ``host``; drops the routes on it. Returns the functions whose routes
        were dropped (their cached routes must be invalidated)."""
        host = check_host(host)
        async with self._tx(write=True) as conn:
            await lock_claims(conn)
            await conn.execute(delete(route_hosts).where(route_hosts.c.host == host))
            on_host = routes.c.pattern.like(host + "/%")
            names = [
                r.function for r in await conn.execute(select(routes.c.function).where(on_host))
            ]
            await conn.execute(delete(routes).where(on_host))
        return sorted(set(names))

    async def hosts(self, tenant: str | None = None) -> list[tuple[str, str, float]]:
        """``(host, tenant, assigned_at)`` of every assignment (of one tenant)."""
        query = select(route_hosts).order_by(route_hosts.c.host)
        if tenant is not None:
            query = query.where(route_hosts.c.tenant == tenant)
        async with self._tx(write=False) as conn:
            return [(r.host, r.tenant, r.assigned_at) for r in await conn.execute(query)]

    async def grant_hostless(self, tenant: str) -> bool:
        """Let ``tenant`` claim host-less patterns; False if it already could."""
        async with self._tx(write=True) as conn:
            await lock_claims(conn)
            row = (
                await conn.execute(
                    select(hostless_route_grants).where(hostless_route_grants.c.tenant == tenant)
                )
            ).first()
            if row is not None:
                return False
            await conn.execute(
                insert(hostless_route_grants).values(tenant=tenant, granted_at=time.time())
            )
        return True

    async def revoke_hostless(self, tenant: str) -> list[str]:
        """Withdraw the grant; drops the tenant's host-less routes (functions returned)."""
        async with self._tx(write=True) as conn:
            await lock_claims(conn)
            await conn.execute(
                delete(hostless_route_grants).where(hostless_route_grants.c.tenant == tenant)
            )
            owned = select(functions.c.name).where(functions.c.tenant == tenant)
            hostless = routes.c.pattern.like("/%") & routes.c.function.in_(owned)
            names = [
                r.function for r in await conn.execute(select(routes.c.function).where(hostless))
            ]
            await conn.execute(delete(routes).where(hostless))
        return sorted(set(names))

    async def hostless_grants(self) -> list[tuple[str, float]]:
        """``(tenant, granted_at)`` of every host-less grant."""
        async with self._tx(write=False) as conn:
            rows = await conn.execute(
                select(hostless_route_grants).order_by(hostless_route_grants.c.tenant)
            )
            return [(r.tenant, r.granted_at) for r in rows]

    async def holders(self, pattern: str) -> list[RouteHolder]:
        """Every stored pattern that can match some request ``pattern`` matches (the
        pattern itself first), with the tenant and function holding it."""
        pattern = normalize_route(pattern, operator=True)
        async with self._tx(write=False) as conn:
            found = await overlapping(conn, [pattern])
        holders = sorted(
            {RouteHolder(theirs, tenant, fn) for _p, theirs, tenant, fn in found},
            key=lambda h: (h.pattern != pattern, h.pattern),
        )
        return holders

    async def release(self, pattern: str) -> str | None:
        """Drop one stored pattern (whoever holds it); returns its function, if any."""
        pattern = normalize_route(pattern, operator=True)
        async with self._tx(write=True) as conn:
            await lock_claims(conn)
            row = (await conn.execute(select(routes).where(routes.c.pattern == pattern))).first()
            if row is None:
                return None
            await conn.execute(delete(routes).where(routes.c.pattern == pattern))
        return str(row.function)
