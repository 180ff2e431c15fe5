"""Settings of the JavaScript runtime (worker processes, executors, limits)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RuntimeSettings(BaseModel):
    """Sizing and limits of the isolate runtime. Env vars: ``ISOGATE_RUNTIME__<FIELD>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(1, ge=1, le=64, description="runtime worker processes")
    threads_per_worker: int = Field(2, ge=1, le=64, description="executor threads per worker")
    prewarm_isolates: int = Field(
        16,
        ge=0,
        le=1024,
        description=(
            "blank isolates each executor keeps ready, each holding functions_per_isolate"
            " contexts made ahead (~5.5 MB per isolate with 8): 16 x 8 cover a burst of"
            " 128 new functions per executor"
        ),
    )
    functions_per_isolate: int = Field(
        8,
        ge=1,
        le=256,
        description=(
            "functions of one tenant that share a V8 isolate, each in its own context"
            " (cheaper cold starts and memory); the heap limit applies per isolate;"
            " 1 = an isolate per function"
        ),
    )
    heap_limit_mb: int = Field(
        64, ge=8, le=4096, description="V8 old-space limit per isolate (see functions_per_isolate)"
    )
    memory_budget_mb: int = Field(
        512, ge=16, description="warm-function budget per worker process (LRU eviction)"
    )
    default_timeout_ms: int = Field(1000, ge=1, description="time limit when a function sets none")
    max_timeout_ms: int = Field(30000, ge=1, description="upper bound of any function's limit")
    default_cpu_ms: int = Field(
        1000,
        ge=1,
        description=(
            "CPU time one invocation may use when its function sets none (measured on the"
            " executor thread; time spent awaiting timers or fetch is not counted)"
        ),
    )
    max_cpu_ms: int = Field(30000, ge=1, description="upper bound of any function's cpu_ms")
    wait_until_ms: int = Field(
        30000,
        ge=1,
        description="wall time ctx.waitUntil() work may go on after the response is sent",
    )
    max_waiting_per_executor: int = Field(
        4096,
        ge=1,
        description=(
            "invocations awaiting timers or fetch on one executor thread (~3 KB of V8 heap"
            " each, docs/benchmarks.md); a full executor takes no new calls"
        ),
    )
    max_waiting_per_tenant: int = Field(
        2048,
        ge=1,
        description=(
            "invocations of one tenant awaiting timers or fetch at once (per gateway);"
            " more are answered 429"
        ),
    )
    max_concurrency_per_function: int = Field(
        4, ge=1, description="executors one function may occupy at once"
    )
    max_queue: int = Field(4096, ge=0, description="invocations waiting for an executor")
    max_queue_per_tenant: int = Field(
        1024,
        ge=0,
        description=(
            "invocations of one tenant waiting for an executor; more are answered 429"
            " (that tenant only). Tenants' queues are served in turn"
        ),
    )
    queue_timeout_ms: int = Field(
        5000, ge=1, description="longest wait for an executor before 'overloaded'"
    )
    max_request_body: int = Field(1 << 20, ge=0, description="bytes")
    max_response_body: int = Field(8 << 20, ge=0, description="bytes")
    max_source_bytes: int = Field(1 << 20, ge=1, description="bytes of one function's code")
    max_worker_rss_mb: int = Field(
        0,
        ge=0,
        description=(
            "resident memory at which a runtime worker process is stopped and restarted"
            " (ArrayBuffer and WebAssembly memory live outside the V8 heap limit);"
            " 0 = memory_budget_mb + threads_per_worker * heap_limit_mb * 4 + 1024"
        ),
    )
    isolate_recycle_mb: int = Field(
        4,
        ge=1,
        le=4096,
        description=(
            "an isolate is replaced (its functions reload in a fresh one) once the scripts"
            " its invocations evaluated have left about this much behind: the binding keeps"
            " every evaluated source for the isolate's lifetime (~2-4 KB per call)"
        ),
    )
    spare_idle_seconds: float = Field(
        30.0, gt=0, description="idle time after which extra copies of a function are evicted"
    )
    idle_evict_seconds: float = Field(
        300.0,
        ge=0,
        description=(
            "idle time after which a warm function's last copy is evicted too (its context,"
            " and its tenant's isolate with the last context in it): resident memory"
            " follows the functions in use, not those deployed; a later call is a cold"
            " start (~3 ms). 0: never"
        ),
    )
    quarantine_crashes: int = Field(3, ge=1, description="crashes that quarantine a function")
    core_dump_dir: str | None = Field(
        None,
        description=(
            "write a core file of a runtime worker that dies by a signal into this "
            "directory (RLIMIT_CORE raised, the worker's working directory; the kernel's "
            "core_pattern decides the name). Unset: no core files. docs/operations.md"
        ),
    )
    debug_gc_every: int = Field(
        0,
        ge=0,
        description=(
            "soak/stress runs only: force a full V8 garbage collection after every N calls "
            "of an executor (exposes gc() to the functions; never in production). 0: off"
        ),
    )
    quarantine_window_seconds: float = Field(600.0, gt=0)
    tenant_crash_budget: int = Field(
        6,
        ge=1,
        description=(
            "strikes (crashes a tenant's code caused) within quarantine_window_seconds after "
            "which all of that tenant's calls and deploys are refused until the window passes"
        ),
    )
    validation_processes: int = Field(
        2,
        ge=1,
        le=64,
        description=(
            "deploy checks at once, each in a process of its own (never on the executors"
            " that serve calls); more wait for one"
        ),
    )
    start_timeout_seconds: float = Field(
        20.0, gt=0, description="deadline for a worker to start and self-test"
    )

    @model_validator(mode="after")
    def _check(self) -> RuntimeSettings:
        if self.default_timeout_ms > self.max_timeout_ms:
            raise ValueError("default_timeout_ms must not exceed max_timeout_ms")
        if self.default_cpu_ms > self.max_cpu_ms:
            raise ValueError("default_cpu_ms must not exceed max_cpu_ms")
        return self

    @property
    def worker_rss_limit_mb(self) -> int:
        """The effective ``max_worker_rss_mb`` (its default derived from the other limits)."""
        if self.max_worker_rss_mb:
            return self.max_worker_rss_mb
        return self.memory_budget_mb + self.threads_per_worker * self.heap_limit_mb * 4 + 1024
