"""SQL tables of this package (SQLAlchemy Core; SQLite and PostgreSQL).

Declared on the registry's ``MetaData`` so their foreign keys to ``functions`` resolve;
created only by this package's own migration steps.
"""

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
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from isogate.registry.tables import metadata as metadata  # re-exported: migrations use it

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
    #: state migration 5: a value above ``kv_inline_max_bytes`` is in the object store
    #: (``value`` is then empty): the address of its :data:`kv_blobs` row
    Column("blob", String(64), nullable=True, index=True),
    ForeignKeyConstraint(["namespace"], ["kv_namespaces.id"], ondelete="CASCADE"),
    Index("ix_kv_entries_expiration", "expiration"),  # state migration 5: the sweep's
)

#: state migration 5: every object-store blob of a KV value, recorded *before* it is
#: uploaded, so none can leak: ``pending`` (uploading; claimed by the put that commits its
#: entry), ``live`` (an entry points at it), ``dead`` (replaced, deleted or expired: the
#: object goes, then the row). A blob is written once and never shared (its bytes start
#: with a random nonce), so a blob that stopped being live never becomes live again.
kv_blobs = Table(
    "kv_blobs",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("state", String(8), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_kv_blobs_state_created", "state", "created_at"),
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

#: state migration 3: asynchronous invocations (``Prefer: respond-async``): the database is
#: the queue. A row is claimed by ``UPDATE … WHERE status = 'queued'`` (one winner), run
#: under a lease (``lease_until``) that a crashed replica lets expire, then holds the result
#: until ``expires_at``. No foreign key to ``functions``: a result outlives a redeploy.
async_invocations = Table(
    "async_invocations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("function", String(63), nullable=False),
    Column("incarnation", Float, nullable=False),
    Column("key_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("method", String(16), nullable=False),
    Column("url", String(8192), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("claimed_by", String(32), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", JSON, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("error", String(4096), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("expires_at", Float, nullable=True),
    Index("ix_async_invocations_status_created", "status", "created_at"),
    Index("ix_async_invocations_tenant_status", "tenant", "status"),
    Index("ix_async_invocations_expires", "expires_at"),
)

#: state migration 4: a function's cron expressions (issue 23). Per function, not per
#: version: a redeploy that sends ``crons`` replaces them, a rollback keeps them (as
#: Workers' triggers). ``since``: when the cron was set; earlier ticks never run.
#: ``last_tick``: the newest tick claimed (Unix ms), raised with each claim; what the
#: scheduler resumes from (run rows are purged, this is not).
function_crons = Table(
    "function_crons",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("cron", String(128), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("since", Float, nullable=False),
    Column("last_tick", BigInteger, nullable=True),
    ForeignKeyConstraint(["function"], ["functions.name"], ondelete="CASCADE"),
)

#: state migration 4: runs of cron ticks. The unique (function, cron, scheduled_at) row is
#: the claim of a tick: replicas insert it with "insert or nothing", so exactly one wins
#: and runs it. Then run under a lease like async invocations (``lease_until``), retried
#: (``queued`` again) after a failure until ``max_attempts``, kept until ``expires_at``.
cron_runs = Table(
    "cron_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("function", String(63), nullable=False),
    Column("cron", String(128), nullable=False),
    Column("scheduled_at", BigInteger, nullable=False),  # Unix ms
    Column("tenant", String(63), nullable=False),
    Column("incarnation", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("claimed_by", String(32), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("error", String(4096), nullable=True),
    Column("no_retry", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("expires_at", Float, nullable=True),
    UniqueConstraint("function", "cron", "scheduled_at", name="uq_cron_runs_tick"),
    ForeignKeyConstraint(["function"], ["functions.name"], ondelete="CASCADE"),
    Index("ix_cron_runs_status", "status"),
    Index("ix_cron_runs_function_time", "function", "scheduled_at"),
    Index("ix_cron_runs_expires", "expires_at"),
)
