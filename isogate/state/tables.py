"""SQL tables of this package (SQLAlchemy Core; SQLite and PostgreSQL).

Declared on the registry's ``MetaData`` so their foreign keys to ``functions`` resolve;
created only by this package's own migration steps.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from isogate.registry.tables import metadata

#: state migration 1: a function's secrets, envelope-encrypted (:mod:`isogate.state.crypto`);
#: they go with the function (a name deleted and deployed again starts without them)
function_secrets = Table(
    "function_secrets",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("key_id", String(32), nullable=False, index=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_at", Float, nullable=False),
    ForeignKeyConstraint(["function"], ["functions.name"], ondelete="CASCADE"),
)

#: state migration 2: a tenant's KV namespaces (``id`` is internal: names are per tenant)
kv_namespaces = Table(
    "kv_namespaces",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("name", String(63), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant", "name", name="uq_kv_namespaces_tenant_name"),
)

#: state migration 2: KV entries; ``expiration`` in Unix seconds (NULL: never)
kv_entries = Table(
    "kv_entries",
    metadata,
    Column("namespace", String(32), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("metadata", JSON, nullable=True),
    Column("expiration", Float, nullable=True),
    Column("updated_at", Float, nullable=False),
    ForeignKeyConstraint(["namespace"], ["kv_namespaces.id"], ondelete="CASCADE"),
)

#: state migration 2: KV operations of a tenant per UTC day (the quota's counter)
kv_usage = Table(
    "kv_usage",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("ops", BigInteger, nullable=False),
)

#: state migration 2: a version's bindings (``env.NAME`` → a resource of the tenant)
function_bindings = Table(
    "function_bindings",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("target", String(63), nullable=False),
    ForeignKeyConstraint(["function"], ["functions.name"], ondelete="CASCADE"),
)
