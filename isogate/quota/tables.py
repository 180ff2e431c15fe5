"""SQL tables of this package (SQLAlchemy Core; SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("functions", JSON, nullable=False),
    Column("rate_requests", Integer, nullable=False),
    Column("rate_per_seconds", Integer, nullable=False),
    Column("rate_burst", Integer, nullable=False),
    Column("quota_invocations", BigInteger, nullable=True),
    Column("quota_period", String(8), nullable=True),
    Column("uses", BigInteger, nullable=True),
)

key_usage = Table(
    "key_usage",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("uses", BigInteger, nullable=False),
    Column("period_start", Float, nullable=False),
    Column("period_count", BigInteger, nullable=False),
)

Index("ix_api_keys_tenant_created", api_keys.c.tenant, api_keys.c.created_at)
