"""Versioned schema migrations of this package, applied in order by the gateway's runner.

Each step is ``(version, description, upgrade)``; ``upgrade`` receives a synchronous
SQLAlchemy ``Connection`` inside the runner's transaction. Steps are append-only: never
edit a released step, add a new one (portable Core DDL, so PostgreSQL can follow).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from isogate.quota import tables

COMPONENT = "quota"


def _v1(conn: Connection) -> None:
    tables.metadata.create_all(
        conn, tables=[tables.tenants, tables.api_keys, tables.key_usage], checkfirst=True
    )


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "tenants, api_keys, key_usage", _v1),
]
