"""Versioned schema migrations of this package, applied in order by the gateway's runner.

Each step is ``(version, description, upgrade)``; ``upgrade`` receives a synchronous
SQLAlchemy ``Connection`` inside the runner's transaction. Steps are append-only: never
edit a released step, add a new one (portable Core DDL, so PostgreSQL can follow).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Column, Connection, Float, Integer, String, delete, insert, inspect, select
from sqlalchemy.schema import CreateColumn

from isogate.registry import tables
from isogate.registry.names import OPERATOR_ROOT, is_operator_path, split_route

COMPONENT = "registry"


def _v1(conn: Connection) -> None:
    tables.metadata.create_all(
        conn,
        tables=[tables.functions, tables.function_versions, tables.routes, tables.invocations],
        checkfirst=True,
    )


def _v2(conn: Connection) -> None:
    """Route ownership: hostname assignments, host-less grants, the claim lock row.

    Claims made before ownership existed are carried over where they are unambiguous: a
    tenant holding host-less routes gets the host-less grant, a hostname whose routes all
    belong to one tenant is assigned to it (a hostname several tenants used stays
    unassigned: the operator decides). Routes on the operator's paths (``/.well-known``,
    the host-less root) are dropped.
    """
    t = tables
    t.metadata.create_all(
        conn, tables=[t.route_hosts, t.hostless_route_grants, t.route_claim_lock], checkfirst=True
    )
    conn.execute(insert(t.route_claim_lock).values(id=1, claims=0))
    rows = conn.execute(
        select(t.routes.c.pattern, t.functions.c.tenant).join(
            t.functions, t.functions.c.name == t.routes.c.function
        )
    ).all()
    now = time.time()
    hostless: set[str] = set()
    hosts: dict[str, set[str]] = {}
    for pattern, tenant in rows:
        host, path = split_route(pattern)
        if is_operator_path(path.rstrip("*").rstrip("/") or "/") or (
            not host and path in OPERATOR_ROOT
        ):
            conn.execute(delete(t.routes).where(t.routes.c.pattern == pattern))
        elif host:
            hosts.setdefault(host, set()).add(tenant)
        else:
            hostless.add(tenant)
    for tenant in sorted(hostless):
        conn.execute(insert(t.hostless_route_grants).values(tenant=tenant, granted_at=now))
    for host, owners in sorted(hosts.items()):
        if len(owners) == 1:
            conn.execute(
                insert(t.route_hosts).values(host=host, tenant=owners.pop(), assigned_at=now)
            )


def _v3(conn: Connection) -> None:
    # Records were keyed by function name only, so the next owner of a name read the
    # previous owner's (issue 24). Old rows cannot be attributed: they are dropped.
    if not _has_column(conn, "invocations", "tenant"):
        for column in (Column("tenant", String(63)), Column("incarnation", Float)):
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE invocations ADD COLUMN {ddl}")
    conn.execute(delete(tables.invocations))


def _v4(conn: Connection) -> None:
    # A fresh database got the column from step 1 (it creates the tables as they are now).
    if not _has_column(conn, "function_versions", "cpu_ms"):
        ddl = CreateColumn(Column("cpu_ms", Integer)).compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE function_versions ADD COLUMN {ddl}")


def _v5(conn: Connection) -> None:
    # Blobs referenced today get a pin; blobs of versions dropped before this step have
    # no row and are not collected (docs/operations.md).
    tables.metadata.create_all(conn, tables=[tables.blob_pins], checkfirst=True)
    now = time.time()
    pinned = select(tables.blob_pins.c.sha256)
    shas = (
        conn.execute(
            select(tables.function_versions.c.sha256)
            .where(tables.function_versions.c.sha256.not_in(pinned))
            .distinct()
        )
        .scalars()
        .all()
    )
    if shas:
        conn.execute(insert(tables.blob_pins), [{"sha256": s, "pinned_at": now} for s in shas])


def _has_column(conn: Connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(conn).get_columns(table))


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "functions, function_versions, routes, invocations", _v1),
    (2, "route ownership: route_hosts, hostless_route_grants, route_claim_lock", _v2),
    (3, "invocations keyed by tenant and function incarnation", _v3),
    (4, "function_versions.cpu_ms: per-version CPU time limit", _v4),
    (5, "blob_pins: garbage collection of code blobs", _v5),
]
