"""Who may claim which route pattern, checked inside the claiming transaction.

Rules (docs/api.md, "Route ownership"):

* A pattern with a host needs that hostname assigned to the tenant by the operator.
* A host-less pattern (it matches every hostname, the operator's included) needs the
  operator's grant, or the ``open_hostless_routes`` setting.
* Two patterns of different tenants that can match one same request never coexist:
  the later claim is refused with :class:`RouteConflict`, which names the patterns only.
* A tenant holds at most ``max_routes_per_tenant`` patterns.

Atomicity: every claim first updates the one row of ``route_claim_lock`` in the same
transaction, before it reads anything. On PostgreSQL the row lock makes concurrent
claims wait for each other until commit (the second then sees the first's routes); on
SQLite the update takes the database's write lock, which does the same. Deploys are
rare, so one lock for all claims costs nothing that matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from isogate.registry.errors import RouteConflict, RouteForbidden, RouteLimit
from isogate.registry.names import routes_overlap, split_route
from isogate.registry.tables import (
    functions,
    hostless_route_grants,
    route_claim_lock,
    route_hosts,
    routes,
)


@dataclass(frozen=True)
class RoutePolicy:
    """The operator's route settings."""

    open_hostless_routes: bool = False
    max_routes_per_tenant: int = 1000


async def lock_claims(conn: AsyncConnection) -> None:
    """Serialize route claims and grant changes (see the module docstring)."""
    await conn.execute(
        update(route_claim_lock)
        .where(route_claim_lock.c.id == 1)
        .values(claims=route_claim_lock.c.claims + 1)
    )


def _candidates_where(patterns: Sequence[str]) -> object:
    """SQL filter of the stored patterns that could overlap ``patterns``."""
    hosts = {split_route(p)[0] for p in patterns}
    if "" in hosts:
        return True  # a host-less pattern can overlap any pattern
    # hostnames are [a-z0-9.-] only: nothing to escape in LIKE
    return or_(routes.c.pattern.like("/%"), *(routes.c.pattern.like(h + "/%") for h in hosts))


async def overlapping(
    conn: AsyncConnection, patterns: Sequence[str], other_than_tenant: str | None = None
) -> list[tuple[str, str, str, str]]:
    """Stored ``(new pattern, stored pattern, tenant, function)`` pairs that overlap."""
    query = (
        select(routes.c.pattern, routes.c.function, functions.c.tenant)
        .join(functions, functions.c.name == routes.c.function)
        .where(_candidates_where(patterns))  # type: ignore[arg-type]
    )
    if other_than_tenant is not None:
        query = query.where(functions.c.tenant != other_than_tenant)
    found = []
    for row in await conn.execute(query):
        for p in patterns:
            if routes_overlap(p, row.pattern):
                found.append((p, row.pattern, row.tenant, row.function))
    return found


async def check_claims(
    conn: AsyncConnection, policy: RoutePolicy, tenant: str, function: str, patterns: list[str]
) -> None:
    """Raise unless ``tenant`` may make ``patterns`` the routes of ``function`` now.

    Call with :func:`lock_claims` already taken in the same transaction.
    """
    hosts = {split_route(p)[0] for p in patterns}
    if "" in hosts and not policy.open_hostless_routes:
        granted = (
            await conn.execute(
                select(hostless_route_grants.c.tenant).where(
                    hostless_route_grants.c.tenant == tenant
                )
            )
        ).first()
        if granted is None:
            first = next(p for p in patterns if p.startswith("/"))
            raise RouteForbidden(
                f"route {first!r} has no host: host-less routes match every hostname and "
                "need the operator's grant; claim a pattern on a hostname assigned to you"
            )
    named = sorted(hosts - {""})
    if named:
        rows = await conn.execute(
            select(route_hosts.c.host, route_hosts.c.tenant).where(route_hosts.c.host.in_(named))
        )
        mine = {r.host for r in rows if r.tenant == tenant}
        for host in named:
            if host not in mine:
                raise RouteForbidden(
                    f"hostname {host!r} is not assigned to your tenant; "
                    "the operator assigns hostnames"
                )
    held = (
        await conn.execute(
            select(func.count())
            .select_from(routes.join(functions, functions.c.name == routes.c.function))
            .where(
                functions.c.tenant == tenant,
                routes.c.function != function,
                routes.c.pattern.not_in(patterns),
            )
        )
    ).scalar_one()
    if held + len(patterns) > policy.max_routes_per_tenant:
        raise RouteLimit(
            f"a tenant may hold at most {policy.max_routes_per_tenant} route patterns "
            f"(you hold {held} on other functions)"
        )
    clash = await overlapping(conn, patterns, other_than_tenant=tenant)
    if clash:
        mine_p, theirs, _tenant, _function = clash[0]  # never tell whose it is
        raise RouteConflict(
            f"route {mine_p!r} can match the same requests as the pattern {theirs!r}, "
            "which another tenant holds",
            pattern=mine_p,
            conflicts_with=theirs,
        )
