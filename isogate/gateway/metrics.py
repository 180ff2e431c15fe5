"""Prometheus metrics (``isogate_*``): counters kept here, gauges read from the runtime."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from isogate.caches import live_caches
from isogate.runtime.types import RuntimeStats

#: bound on the cached metric children (the metrics themselves keep every label set)
_MAX_CHILDREN = 10_000

#: The ``function`` label of a tenant's invocations once it has used up its series
#: (``metrics_max_series_per_tenant``): one shared series set, whatever the tenant count.
OVER_LIMIT = "_over_limit"

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _RuntimeCollector(Collector):
    def __init__(self, stats: Callable[[], RuntimeStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats()
        if s is None:
            return
        gauges = {
            "isogate_executors": ("executor threads", s.executors),
            "isogate_executors_busy": ("executors running an invocation", s.executors_busy),
            "isogate_invocations_inflight": ("invocations admitted, not finished", s.inflight),
            "isogate_runtime_workers": ("runtime worker processes", s.workers),
            "isogate_runtime_queue_depth": ("invocations waiting for an executor", s.queue_depth),
            "isogate_warm_functions": ("function versions loaded in isolates", s.warm_functions),
            "isogate_isolates": ("live V8 isolates", s.isolates),
            "isogate_quarantined_functions": ("functions quarantined", s.quarantined),
            "isogate_runtime_ready": ("1 when the runtime pool is warm", int(s.ready)),
        }
        for name, (doc, value) in gauges.items():
            yield GaugeMetricFamily(name, doc, value=value)
        counters = {
            "isogate_cold_starts": ("cold loads of a function version", s.cold_starts),
            "isogate_terminations": ("scripts stopped by the watchdog", s.terminations),
            "isogate_deploy_check_crashes": (
                "deploy checks whose code killed the check process (e.g. a heap bomb)",
                s.check_crashes,
            ),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(name, doc, value=value)
        crashes = CounterMetricFamily(
            "isogate_runtime_crashes",
            "runtime worker deaths by cause: 'signal' a runtime fault (native crash), 'oom' a "
            "heap over its limit, 'killed' wedged or broke the protocol, 'exit' the RSS cap",
            labels=["reason"],
        )
        for reason, n in (s.crashes_by_reason or {"signal": s.crashes}).items():
            crashes.add_metric([reason], n)
        yield crashes
        egress = CounterMetricFamily(
            "isogate_egress_requests",
            "fetch() calls of functions by tenant and outcome: 'allowed' (answered), "
            "'refused' (egress policy or subrequest limit), 'error' (network), 'cancelled'",
            labels=["tenant", "outcome"],
        )
        for (tenant, outcome), n in sorted(s.egress.items()):
            egress.add_metric([tenant, outcome], n)
        yield egress
        yield GaugeMetricFamily(
            "isogate_invocations_waiting",
            "invocations in flight that await timers or fetch (hold no executor)",
            value=s.waiting,
        )
        yield CounterMetricFamily(
            "isogate_runtime_retried_invocations",
            "invocations run again because their worker died before they started",
            value=s.retried,
        )
        abandoned = CounterMetricFamily(
            "isogate_invocations_abandoned",
            "invocations whose caller went away (client closed or reset): 'queued' were "
            "dropped before starting, 'running' stopped at their next safe point",
            labels=["stage"],
        )
        abandoned.add_metric(["queued"], s.abandoned_queued)
        abandoned.add_metric(["running"], s.abandoned_running)
        yield abandoned
        yield GaugeMetricFamily(
            "isogate_runtime_queued_tenants",
            "tenants with invocations waiting for an executor (served in turn)",
            value=s.queued_tenants,
        )


class _CacheCollector(Collector):
    """``isogate_cache_*`` of the process's bounded caches (isogate.caches), by ``cache``
    name (summed over caches of one name: several apps in one process, as in tests), and
    of the runtime workers' code caches (summed over the workers)."""

    COUNTERS: ClassVar[dict[str, str]] = {
        "hits": "lookups of the cache that found an entry",
        "misses": "lookups of the cache that found none (or an expired one)",
        "evictions": "entries dropped to stay within the cache's bound (least recently used)",
        "expirations": "entries dropped because their time to live ran out",
    }

    def __init__(self, stats: Callable[[], RuntimeStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        totals: dict[str, list[float]] = {}
        runtime = self._stats()  # the workers' caches, reported by them (code_cache.py)
        for name, (h, m, e, used, bound_) in (
            runtime.worker_caches.items() if runtime is not None else ()
        ):
            totals[name] = [h, m, e, 0, used, bound_]
        for name, stats, size, bound in live_caches():
            t = totals.setdefault(name, [0, 0, 0, 0, 0, 0])
            t[0] += stats.hits
            t[1] += stats.misses
            t[2] += stats.evictions
            t[3] += stats.expirations
            t[4] += size
            t[5] += bound
        for i, (kind, doc) in enumerate(self.COUNTERS.items()):
            family = CounterMetricFamily(f"isogate_cache_{kind}", doc, labels=["cache"])
            for name, t in sorted(totals.items()):
                family.add_metric([name], t[i])
            yield family
        for i, (kind, doc) in enumerate(
            (
                ("size", "entries in the cache (characters or bytes for the code caches)"),
                ("bound", "the cache's bound, in the unit of isogate_cache_size"),
            ),
            start=4,
        ):
            gauge = GaugeMetricFamily(f"isogate_cache_{kind}", doc, labels=["cache"])
            for name, t in sorted(totals.items()):
                gauge.add_metric([name], t[i])
            yield gauge


class GatewayMetrics:
    """The gateway's metric registry (one per app, so tests can build several)."""

    def __init__(
        self, stats: Callable[[], RuntimeStats | None], max_series_per_tenant: int = 0
    ) -> None:
        self.registry = CollectorRegistry()
        # series by function: the codes counted, its owner; series by tenant (a function
        # has one histogram plus one counter per code): deleted functions' series are
        # removed (300 deploy/delete cycles grew /metrics to 550 KB), and a tenant's
        # count is capped (0: no cap)
        self.max_series_per_tenant = max_series_per_tenant
        self._codes: dict[str, set[int]] = {}
        self._owner: dict[str, str] = {}
        self._series: dict[str, int] = {}
        self._histograms: set[str] = set()  # functions whose histogram has their name
        self.invocations = Counter(
            "isogate_invocations",
            "invocations by function and HTTP status code",
            ["function", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "isogate_invocation_duration_seconds",
            "wall time of invocations through the gateway",
            ["function"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.quota_rejections = Counter(
            "isogate_quota_rejections",
            "requests refused by a limit, by reason (rate_limit, quota, uses)",
            ["reason"],
            registry=self.registry,
        )
        self.route_refusals = Counter(
            "isogate_route_refusals",
            "route claims refused, by reason (conflict, not_allowed, limit)",
            ["reason"],
            registry=self.registry,
        )
        # by operation and outcome, not by tenant: bounded (4 x 6 series) whatever the
        # tenant count; a tenant's own count is GET /v1/kv's ops_today
        self.kv_operations = Counter(
            "isogate_kv_operations",
            "KV operations (admin API and functions' bindings) by op (get, put, delete, "
            "list) and outcome (ok, miss: get of an absent or expired key, invalid, quota, "
            "unavailable: database or object store, error)",
            ["op", "outcome"],
            registry=self.registry,
        )
        for op in ("get", "put", "delete", "list"):
            self.kv_operations.labels(op, "ok")  # at zero from the start: rate() sees the first
        self.cron_runs = Counter(
            "isogate_cron_runs",
            "attempts of cron runs by outcome: succeeded, failed (final), retried (a "
            "failed attempt that runs again)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("succeeded", "failed", "retried"):
            self.cron_runs.labels(outcome)
        self.cron_lag = Histogram(
            "isogate_cron_lag_seconds",
            "how late a cron tick's run started after its scheduled time",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=self.registry,
        )
        self.registry.register(_RuntimeCollector(stats))
        self.registry.register(_CacheCollector(stats))
        # Children by label values: ``labels()`` validates and locks on every call, and
        # these two are touched on every invocation.
        self._counted: dict[tuple[str, int], Any] = {}
        self._timed: dict[str, Any] = {}

    def count_kv(self, op: str, outcome: str) -> None:
        """One KV operation (``SqlKvStore.on_op``)."""
        self.kv_operations.labels(op, outcome).inc()

    def prepare(self, function: str, tenant: str = "") -> None:
        """Create ``function``'s series at zero (at deploy): its first invocation does not
        pay for them, and Prometheus sees the counter start at 0, so ``rate()`` counts the
        first call too."""
        self._counter(function, 200, tenant)
        self._histogram(function, tenant)

    def count(self, function: str, status: int, tenant: str = "") -> None:
        """One invocation of ``function`` (owned by ``tenant``) answered with ``status``."""
        child = self._counted.get((function, status))
        if child is None:
            child = self._counter(function, status, tenant)
        child.inc()

    def observe(self, function: str, seconds: float, tenant: str = "") -> None:
        """The wall time of one invocation of ``function``."""
        child = self._timed.get(function)
        if child is None:
            child = self._histogram(function, tenant)
        child.observe(seconds)

    def forget(self, function: str) -> None:
        """Remove every series of ``function`` (it was deleted)."""
        codes = self._codes.pop(function, set())
        owned = self._owner.pop(function, None)
        for code in codes:
            self._counted.pop((function, code), None)
            with contextlib.suppress(KeyError):
                self.invocations.remove(function, str(code))
        self._timed.pop(function, None)
        had_histogram = function in self._histograms
        self._histograms.discard(function)
        with contextlib.suppress(KeyError):
            self.duration.remove(function)
        if owned is not None:
            left = self._series.get(owned, 0) - len(codes) - (1 if had_histogram else 0)
            if left > 0:
                self._series[owned] = left
            else:
                self._series.pop(owned, None)

    def _admit(self, function: str, tenant: str) -> str:
        """The label to use for a new series of ``function``: its name, or
        :data:`OVER_LIMIT` when its tenant has no series left."""
        if not tenant or not self.max_series_per_tenant:
            return function
        if self._series.get(tenant, 0) >= self.max_series_per_tenant:
            return OVER_LIMIT
        self._series[tenant] = self._series.get(tenant, 0) + 1
        self._owner[function] = tenant
        return function

    def _counter(self, function: str, status: int, tenant: str = "") -> Any:
        child = self._counted.get((function, status))
        if child is None:
            if len(self._counted) > _MAX_CHILDREN:
                self._counted.clear()
            codes = self._codes.setdefault(function, set())
            label = function if status in codes else self._admit(function, tenant)
            if label == function:
                codes.add(status)
            child = self._counted[(function, status)] = self.invocations.labels(label, str(status))
        return child

    def _histogram(self, function: str, tenant: str = "") -> Any:
        child = self._timed.get(function)
        if child is None:
            if len(self._timed) > _MAX_CHILDREN:
                self._timed.clear()
            label = function if function in self._histograms else self._admit(function, tenant)
            if label == function:
                self._histograms.add(function)
            child = self._timed[function] = self.duration.labels(label)
        return child

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
