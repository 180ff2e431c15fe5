"""Versioned schema migrations of this package (see :mod:`isogate.registry.migrations`).

Its own component (``state``), migrated after ``registry`` (its tables reference
``functions``), so its step numbers never collide with the other packages'.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, String, inspect
from sqlalchemy.schema import CreateColumn

from isogate.state import tables

COMPONENT = "state"


def _v1(conn: Connection) -> None:
    tables.metadata.create_all(conn, tables=[tables.function_secrets], checkfirst=True)


def _v2(conn: Connection) -> None:
    tables.metadata.create_all(
        conn,
        tables=[
            tables.kv_namespaces,
            tables.kv_entries,
            tables.kv_usage,
            tables.function_bindings,
        ],
        checkfirst=True,
    )


def _v3(conn: Connection) -> None:
    tables.metadata.create_all(conn, tables=[tables.async_invocations], checkfirst=True)


def _v4(conn: Connection) -> None:
    tables.metadata.create_all(
        conn, tables=[tables.function_crons, tables.cron_runs], checkfirst=True
    )


def _v5(conn: Connection) -> None:
    # A fresh database got the column from step 2 (it creates the tables as they are now).
    if not any(c["name"] == "blob" for c in inspect(conn).get_columns("kv_entries")):
        ddl = CreateColumn(Column("blob", String(64))).compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE kv_entries ADD COLUMN {ddl}")
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_kv_entries_blob ON kv_entries (blob)")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_kv_entries_expiration ON kv_entries (expiration)"
    )
    tables.metadata.create_all(conn, tables=[tables.kv_blobs], checkfirst=True)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "function_secrets: envelope-encrypted secrets of functions", _v1),
    (2, "kv_namespaces, kv_entries, kv_usage, function_bindings", _v2),
    (3, "async_invocations: the queue and results of Prefer: respond-async calls", _v3),
    (4, "function_crons, cron_runs: cron schedules and the claims of their ticks", _v4),
    (5, "kv_blobs, kv_entries.blob: large KV values in the object store", _v5),
]
