"""Versioned schema migrations of this package, applied in order by the gateway's runner.

Each step is ``(version, description, upgrade)``; ``upgrade`` receives a synchronous
SQLAlchemy ``Connection`` inside the runner's transaction. Steps are append-only: never
edit a released step, add a new one (portable Core DDL, so PostgreSQL can follow).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, Float, String, delete, inspect
from sqlalchemy.schema import CreateColumn

from isogate.registry import tables

COMPONENT = "registry"


def _v1(conn: Connection) -> None:
    tables.metadata.create_all(
        conn,
        tables=[tables.functions, tables.function_versions, tables.routes, tables.invocations],
        checkfirst=True,
    )


def _v2(conn: Connection) -> None:
    # Records were keyed by function name only, so the next owner of a name read the
    # previous owner's (issue 24). Old rows cannot be attributed: they are dropped.
    if not _has_column(conn, "invocations", "tenant"):
        for column in (Column("tenant", String(63)), Column("incarnation", Float)):
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE invocations ADD COLUMN {ddl}")
    conn.execute(delete(tables.invocations))


def _has_column(conn: Connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(conn).get_columns(table))


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "functions, function_versions, routes, invocations", _v1),
    (2, "invocations keyed by tenant and function incarnation", _v2),
]
