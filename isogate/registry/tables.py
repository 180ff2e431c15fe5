"""SQL tables of this package (SQLAlchemy Core; SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

functions = Table(
    "functions",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("current_version", Integer, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

function_versions = Table(
    "function_versions",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("env", JSON, nullable=False),
    Column("timeout_ms", Integer, nullable=True),
    # registry migration 4: CPU time one invocation may use (NULL: the runtime's default)
    Column("cpu_ms", Integer, nullable=True),
    Column("routes", JSON, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["name"], ["functions.name"], ondelete="CASCADE"),
)

routes = Table(
    "routes",
    metadata,
    Column("pattern", String(255), primary_key=True),
    Column("function", String(63), nullable=False, index=True),
    ForeignKeyConstraint(["function"], ["functions.name"], ondelete="CASCADE"),
)

invocations = Table(
    "invocations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("function", String(63), nullable=False),
    Column("version", Integer, nullable=False),
    Column("time", Float, nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("cold", Boolean, nullable=False),
    Column("logs", JSON, nullable=False),
    Column("error", Text, nullable=True),
    # registry migration 2: whose function incarnation the record belongs to
    Column("tenant", String(63), nullable=True),
    Column("incarnation", Float, nullable=True),
)

Index("ix_invocations_function_time", invocations.c.function, invocations.c.time)

#: registry migration 5: one row per stored code blob, ``pinned_at`` the last time a deploy
#: used it (written before the blob is uploaded); the garbage collector deletes a blob
#: only with its row, when no version references it and the pin is older than the grace.
blob_pins = Table(
    "blob_pins",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("pinned_at", Float, nullable=False),
)

#: Hostnames the operator assigned to tenants: a tenant claims host patterns only on its own.
route_hosts = Table(
    "route_hosts",
    metadata,
    Column("host", String(253), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("assigned_at", Float, nullable=False),
)

#: Tenants the operator allowed to claim host-less patterns (they match every hostname).
hostless_route_grants = Table(
    "hostless_route_grants",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("granted_at", Float, nullable=False),
)

#: One row, updated first by every transaction that claims routes or changes a grant: the
#: row lock (PostgreSQL) or the write lock it takes (SQLite) makes the ownership check
#: and the insert of two concurrent deploys take turns, so both can never get in.
route_claim_lock = Table(
    "route_claim_lock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("claims", BigInteger, nullable=False),
)
