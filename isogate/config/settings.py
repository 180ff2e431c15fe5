"""The one settings model of isogate: defaults, ``ISOGATE_*`` env vars, an optional TOML file.

Precedence, highest first: explicit overrides (CLI flags), environment variables, the TOML
file (``--config`` or ``ISOGATE_CONFIG``), defaults. Nested models use ``__`` in env vars,
e.g. ``ISOGATE_RUNTIME__WORKERS=2``. :func:`load_settings` validates everything once and
raises :class:`SettingsError` whose message names each bad key.
"""

from __future__ import annotations

import difflib
import itertools
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from isogate.config.egress import EgressSettings
from isogate.config.runtime import RuntimeSettings
from isogate.config.scheduler import SchedulerSettings

ENV_PREFIX = "ISOGATE_"
CONFIG_ENV = "ISOGATE_CONFIG"

# ISOGATE_* variables that are not settings, read by other parts on purpose: a typo
# check must not refuse them. Keep in step with their readers (named per entry).
NON_SETTING_ENV = frozenset(
    {
        CONFIG_ENV,  # the TOML file (load_settings)
        "ISOGATE_URL",  # the CLI client (cli/client.py)
        "ISOGATE_TOKEN",
        "ISOGATE_API_KEY",
        "ISOGATE_PASSWORD",
        "ISOGATE_ESBUILD",
        "ISOGATE_K8S_CACHE",  # scripts/k8s-e2e.sh (build cache, keep the cluster, load rate)
        "ISOGATE_K8S_KEEP",
        "ISOGATE_K8S_RATE",  # the esbuild `isogate deploy` bundles with (cli/wrangler.py)
        "ISOGATE_TEST_REQUIRE_REDIS",  # the test suite (scripts/test.sh, tests/fixtures)
        "ISOGATE_TEST_REDIS_URL",
        "ISOGATE_TEST_REPLICA_BACKEND",
        "ISOGATE_CONFORMANCE_BACKEND",  # tests/conformance
        "ISOGATE_CONFORMANCE_HEADER_CASE",
        "ISOGATE_FAULTS_REPORT",  # tests/faults
    }
)

_toml_path: ContextVar[Path | None] = ContextVar("isogate_toml_path", default=None)


class SettingsError(Exception):
    """A setting is invalid; the message names the key(s) and the env var to fix."""


class RateLimitDefault(BaseModel):
    """Rate limit applied to API keys created without one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(600, ge=1, description="requests allowed per window")
    per_seconds: int = Field(60, ge=1, description="window length in seconds")
    burst: int | None = Field(None, ge=1, description="bucket size; default: requests")


class Settings(BaseSettings):
    """Every setting of the gateway. Env vars: ``ISOGATE_<FIELD>`` (nested: ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    # server
    host: str = Field("127.0.0.1", description="address Hypercorn binds")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0: any free port)")
    data_dir: Path = Field(
        Path("./isogate-data"), description="embedded state: SQLite file, blobs, secrets"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # control plane
    admin_token: SecretStr | None = Field(
        None, description="bearer token that may always create tenants"
    )
    open_registration: bool = Field(True, description="anyone may create a tenant")
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 key of control-plane tokens; unset: generated in data_dir"
    )
    secrets_master_key: SecretStr | None = Field(
        None,
        description="master keyring of function secrets: ID:BASE64 (32-byte keys), "
        "comma-separated, the first current; unset: generated in data_dir (embedded "
        "database only)",
    )
    secret_max_bytes: int = Field(5120, ge=1, le=1 << 20, description="largest secret value")
    max_secrets_per_function: int = Field(64, ge=1, le=1000)
    kv_max_value_bytes: int = Field(1 << 20, ge=1, le=25 << 20, description="largest KV value")
    kv_inline_max_bytes: int = Field(
        64 << 10,
        ge=0,
        le=25 << 20,
        description="KV values longer than this are kept in the object store (S3, or the "
        "blob folder on the embedded default) instead of the SQL row",
    )
    kv_max_metadata_bytes: int = Field(1024, ge=0, le=64 << 10, description="KV metadata, JSON")
    kv_max_namespaces_per_tenant: int = Field(100, ge=1)
    kv_ops_per_day: int = Field(
        100_000, ge=1, description="KV operations (API and bindings) per tenant per UTC day"
    )
    async_max_queued_per_tenant: int = Field(
        1000, ge=1, description="unfinished asynchronous invocations per tenant (429 beyond)"
    )
    async_max_attempts: int = Field(
        3, ge=1, le=20, description="runs of an asynchronous invocation interrupted by crashes"
    )
    async_result_retention_seconds: float = Field(
        86400.0, ge=1, description="how long a finished asynchronous invocation is kept"
    )
    async_concurrency: int = Field(
        4, ge=1, le=1024, description="asynchronous invocations one replica runs at once"
    )
    async_poll_interval_seconds: float = Field(
        0.5, gt=0, le=60, description="how often a replica looks for queued invocations"
    )
    async_lease_grace_seconds: float = Field(
        30.0, gt=0, description="slack on a claim's lease beyond the longest run"
    )
    token_ttl_seconds: int = Field(900, ge=30, le=86400, description="lifetime of login tokens")
    max_body_bytes: int = Field(
        2 << 20, ge=1024, description="largest control-plane request body (deploys included)"
    )
    key_max_ttl_seconds: int = Field(
        365 * 86400, ge=60, description="longest lease an API key may get"
    )
    default_rate_limit: RateLimitDefault = Field(default_factory=RateLimitDefault)
    max_deploy_checks_per_tenant: int = Field(
        1,
        ge=1,
        le=64,
        description="deploys of one tenant checked at once per gateway process (more: 429)",
    )
    max_deploys_per_minute: int = Field(
        30, ge=0, description="deploys per tenant per minute per gateway process (0: no cap)"
    )
    max_functions_per_tenant: int = Field(
        100, ge=0, description="functions one tenant may have (0: no cap)"
    )
    max_versions_per_function: int = Field(
        20,
        ge=0,
        description="versions kept per function; older ones are dropped on deploy (0: all)",
    )
    blob_gc_grace_seconds: float = Field(
        3600.0,
        gt=0,
        description=(
            "a code blob no version references is deleted once no deploy has used it for"
            " this long (protects a deploy between its blob upload and its row)"
        ),
    )
    max_stored_bytes_per_tenant: int = Field(
        100 << 20, ge=0, description="bytes of code over a tenant's kept versions (0: no cap)"
    )
    auth_failure_limit: int = Field(
        20,
        ge=0,
        description="failed logins, tokens or API keys per client address and window before "
        "429 (0: no limit)",
    )
    auth_failure_window_seconds: int = Field(
        60, ge=1, le=86400, description="window of auth_failure_limit and auth_attempt_limit"
    )
    auth_attempt_limit: int = Field(
        30,
        ge=0,
        description="registrations and logins (successful or not) per client address and "
        "window before 429 (0: no limit)",
    )
    password_hash_threads: int = Field(
        2, ge=1, le=64, description="threads that run Argon2 (registration, login)"
    )
    password_hash_queue: int = Field(
        8,
        ge=0,
        le=10_000,
        description="password checks waiting for a hashing thread; beyond it 503 busy",
    )

    # route ownership (docs/api.md, "Route ownership")
    open_hostless_routes: bool = Field(
        False,
        description="every tenant may claim host-less route patterns (they match every "
        "hostname, the gateway's own included) without the operator's grant",
    )
    functions_domain: str | None = Field(
        None,
        description="wildcard domain of per-function origins: NAME.<functions_domain> "
        "serves function NAME at its own origin (point *.<domain> DNS and TLS at the gateway)",
        pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    )
    max_routes_per_tenant: int = Field(
        1000, ge=1, le=1_000_000, description="route patterns one tenant may hold in all"
    )

    # HTTP hardening (Hypercorn and body reads)
    http_keep_alive_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="idle keep-alive connections, and request heads not finished "
        "in this time, are closed",
    )
    http_read_timeout_seconds: float = Field(
        60.0, gt=0, description="a connection that sends nothing for this long is closed"
    )
    http_max_head_bytes: int = Field(
        16 * 1024, ge=1024, le=1 << 20, description="largest request line plus headers (431/400)"
    )
    http_max_headers: int = Field(
        100,
        ge=8,
        le=10_000,
        description="most header fields in one request, on every transport (431)",
    )
    body_read_timeout_seconds: float = Field(
        30.0, gt=0, description="deadline for reading a whole request body (408)"
    )
    http_write_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="a client that takes no part of a response body for this long loses "
        "the response and its connection (slow or stalled readers)",
    )
    response_buffer_bytes_total: int = Field(
        128 << 20,
        ge=0,
        description="bytes of function responses held for clients still reading, in total; "
        "beyond it new responses get 503",
    )
    response_buffer_bytes_per_connection: int = Field(
        16 << 20,
        ge=0,
        description="bytes of function responses held for one client connection; beyond it "
        "its new responses get 503",
    )

    # data plane and records
    invocation_retention: int = Field(
        100, ge=1, le=100_000, description="invocation records kept per function"
    )
    key_cache_ttl_seconds: float = Field(
        5.0, ge=0, description="how long a verified key lease is cached in process"
    )
    function_cache_ttl_seconds: float = Field(
        2.0, ge=0, description="how long a function's current version is cached in process"
    )
    code_cache_bytes: int = Field(64 << 20, ge=0, description="in-process code cache size")
    key_cache_entries: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="verified key leases cached in process (least recently used dropped)",
    )
    function_cache_entries: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="functions whose current version, secrets and bindings are cached in "
        "process, each (least recently used dropped)",
    )
    tenant_cache_entries: int = Field(
        100_000,
        ge=1,
        le=10_000_000,
        description="tenants known to exist, cached in process for login tokens",
    )
    retry_after_seconds: int = Field(
        1, ge=1, description="Retry-After sent with 503 overloaded/quarantined"
    )

    # metrics
    metrics_max_series_per_tenant: int = Field(
        200,
        ge=0,
        description="metric series one tenant's functions may create (a histogram and a "
        'counter per status each); beyond: counted under function="_over_limit" (0: no cap)',
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="bearer token /metrics requires; unset: /metrics is open (it names "
        "every tenant's functions: keep it off the internet)",
    )

    # deadlines of upstream calls
    store_timeout_seconds: float = Field(5.0, gt=0, description="deadline of one SQL call")
    blob_timeout_seconds: float = Field(10.0, gt=0, description="deadline of one blob call")
    runtime_grace_seconds: float = Field(
        5.0, gt=0, description="slack added to a function's limit for the runtime call deadline"
    )
    shutdown_timeout_seconds: float = Field(10.0, gt=0)

    # production backends (issue 4); unset = embedded
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; unset or sqlite: embedded file in data_dir"
    )
    redis_url: str | None = Field(None, description="unset: quotas and caches in process")
    redis_prefix: str = Field("isogate:", description="prefix of every Redis key and channel")
    redis_failure_mode: Literal["open", "closed"] = Field(
        "open",
        description="Redis unreachable: 'open' limits per replica in process (logged, "
        "counted); 'closed' answers keyed invocations with 503",
    )
    # 2 s, not 0.5 s: the deadline also counts this replica's own event-loop delay, and on
    # a loaded host (load 10-19 on 2 cores) 0.5 s was exceeded with Redis healthy; each
    # miss then limited per replica for a second (quotas no longer exact across replicas).
    redis_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="deadline of one Redis call (connect included)"
    )
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_prefix: str = ""
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_create_bucket: bool = Field(True, description="create the S3 bucket when it is missing")

    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    egress: EgressSettings = Field(default_factory=EgressSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)

    @field_validator("secrets_master_key")
    @classmethod
    def _check_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from isogate.state.crypto import parse_keyring

            parse_keyring(value.get_secret_value(), where="the keyring")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.database_url is not None and not self.database_url.startswith(
            ("sqlite", "postgresql")
        ):
            raise ValueError("database_url must be a sqlite:// or postgresql:// URL")
        if self.redis_url is not None and not self.redis_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("redis_url must be a redis://, rediss:// or unix:// URL")
        if (self.s3_endpoint is None) != (self.s3_bucket is None):
            raise ValueError("s3_endpoint and s3_bucket must be set together")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # derived locations of the embedded backends
    @property
    def database_path(self) -> Path:
        """The SQLite file used when ``database_url`` is unset."""
        return self.data_dir / "isogate.db"

    @property
    def blob_dir(self) -> Path:
        """The folder of code blobs used when S3 is not configured."""
        return self.data_dir / "blobs"

    @property
    def jwt_secret_path(self) -> Path:
        """Where the generated token-signing key is kept (mode 0600)."""
        return self.data_dir / "jwt_secret"

    @property
    def secrets_key_path(self) -> Path:
        """Where the generated master key of secrets is kept (mode 0600, embedded only)."""
        return self.data_dir / "secrets_master_key"

    @property
    def embedded_database(self) -> bool:
        """Whether the metadata database is a SQLite file (not shared by replicas)."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def effective_database_url(self) -> str:
        """The async SQLAlchemy URL to connect to."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.database_path}"
        url = self.database_url
        if url.startswith("sqlite://") and not url.startswith("sqlite+"):
            url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url[len("postgresql://") :]
        return url


def _env_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def _format_error(exc: ValidationError) -> str:
    lines = ["invalid settings:"]
    for err in exc.errors():
        loc = tuple(p for p in err.get("loc", ()) if p != "__root__")
        key = ".".join(str(p) for p in loc) or "(settings)"
        # a list item's loc ends in its index; the env var sets the whole list
        env_loc = tuple(itertools.takewhile(lambda p: not isinstance(p, int), loc))
        hint = f" (env {_env_name(env_loc)})" if env_loc else ""
        lines.append(f"  {key}{hint}: {err.get('msg', 'invalid')}")
    return "\n".join(lines)


def setting_env_names() -> dict[str, str]:
    """Every env var that sets something, mapped to its setting (``runtime.workers``)."""
    names: dict[str, str] = {}

    def walk(model: type[BaseModel], prefix: tuple[str, ...]) -> None:
        for field, info in model.model_fields.items():
            loc = (*prefix, field)
            names[_env_name(loc)] = ".".join(loc)
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                walk(sub, loc)

    walk(Settings, ())
    return names


def unknown_env(environ: dict[str, str] | os._Environ[str] | None = None) -> list[str]:
    """One message per ``ISOGATE_*`` variable that is no setting, with the likely one.

    pydantic-settings ignores them, so ``ISOGATE_PROT=9000`` would silently leave the
    port at 8000 while the same typo in the TOML file is refused.
    """
    env = os.environ if environ is None else environ
    known = setting_env_names()
    problems = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper in NON_SETTING_ENV:
            continue
        close = difflib.get_close_matches(upper, list(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]} ({known[close[0]]})?" if close else ""
        problems.append(f"{name} is not a setting{hint}")
    return problems


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build and validate the settings once; raise :class:`SettingsError` naming bad keys.

    ``config`` (or env ``ISOGATE_CONFIG``) names a TOML file whose top-level keys are the
    field names (``[runtime]`` for the runtime table). ``overrides`` win over everything;
    ``None`` values in them are ignored so CLI flags can be passed through unconditionally.
    """
    path = config if config is not None else os.environ.get(CONFIG_ENV) or None
    toml: Path | None = None
    if path is not None:
        toml = Path(path)
        if not toml.is_file():
            raise SettingsError(f"invalid settings:\n  config ({CONFIG_ENV}): no file at {toml}")
    unknown = unknown_env()
    if unknown:
        raise SettingsError("invalid settings: " + "; ".join(unknown))
    token = _toml_path.set(toml)
    try:
        clean = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**clean)
    except ValidationError as exc:
        raise SettingsError(_format_error(exc)) from None
    except (ValueError, OSError) as exc:  # e.g. malformed TOML or an unparsable env value
        raise SettingsError(f"invalid settings: {exc}") from None
    finally:
        _toml_path.reset(token)
