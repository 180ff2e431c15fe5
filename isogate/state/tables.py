"""SQL tables of this package (SQLAlchemy Core; SQLite and PostgreSQL).

Declared on the registry's ``MetaData`` so their foreign keys to ``functions`` resolve;
created only by this package's own migration steps.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKeyConstraint, LargeBinary, String, Table

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
