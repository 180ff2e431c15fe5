"""A bounded HTTP load generator for fault and soak runs (loopback only).

asyncio + httpx (HTTP/1.1 keep-alive), run on a private event loop in a background thread
so synchronous tests can inject faults while it runs. Every run is bounded twice: by a
number of requests and by a duration; and it refuses non-loopback targets.

Two modes:

* closed loop (``rate=None``): ``concurrency`` clients send back to back (maximum
  throughput);
* open loop (``rate=R``): requests are started at ``R`` per second on a fixed schedule,
  at most ``concurrency`` in flight (a start that finds them all busy is counted in
  ``skipped``, not queued: the schedule never drifts).

Each request becomes a :class:`Sample` (start/end on ``time.monotonic()``, target, status
or 0 for a transport error, and the problem ``type`` slug of RFC 9457 answers), from which
:func:`window`, :func:`by_status`, :func:`recovery_time` and :func:`percentile` compute
the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Target:
    """One kind of request: ``GET base_url + path`` with ``headers``; ``weight`` in the mix."""

    base_url: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    weight: int = 1
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"{urlsplit(self.base_url).port}{self.path}"


@dataclass(frozen=True)
class Sample:
    start: float
    end: float
    target: str  #: Target.name
    base_url: str
    status: int  #: 0: transport error (connection refused/reset, client timeout)
    problem: str | None = None  #: last segment of the problem ``type`` (e.g. runtime-crashed)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.end - self.start


class LoadGenerator:
    """Background load over ``targets``; ``start()``, inject faults, ``stop()``."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        concurrency: int = 8,
        rate: float | None = None,
        max_requests: int = 200_000,
        max_seconds: float = 600.0,
        timeout: float = 30.0,
    ) -> None:
        if not targets:
            raise ValueError("no targets")
        for t in targets:
            host = urlsplit(t.base_url).hostname
            if host not in LOOPBACK:
                raise ValueError(f"load is for loopback only, not {t.base_url}")
        if max_requests <= 0 or max_seconds <= 0 or concurrency <= 0:
            raise ValueError("bounds must be positive")
        self.targets = list(targets)
        self.concurrency = concurrency
        self.rate = rate
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.skipped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        schedule = [t for t in self.targets for _ in range(t.weight)]
        self._schedule = itertools.cycle(schedule)
        self._issued = 0

    # ------------------------------------------------------------------ control

    def start(self) -> LoadGenerator:
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 10)
            if self._thread.is_alive():
                raise RuntimeError("load generator did not stop")
        if self._error is not None:
            raise RuntimeError("load generator failed") from self._error
        return list(self.samples)

    def run(self, seconds: float) -> list[Sample]:
        """Run in the foreground for ``seconds`` (still bounded by ``max_requests``)."""
        self.max_seconds = min(self.max_seconds, seconds)
        self._run()
        if self._error is not None:
            raise RuntimeError("load generator failed") from self._error
        return list(self.samples)

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    # ------------------------------------------------------------------ engine

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by stop()
            self._error = exc

    def _take(self) -> Target | None:
        if self._issued >= self.max_requests:
            return None
        self._issued += 1
        return next(self._schedule)

    async def _main(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        clients = {
            url: httpx.AsyncClient(base_url=url, timeout=self.timeout, limits=limits)
            for url in {t.base_url for t in self.targets}
        }
        try:
            if self.rate is None:
                await asyncio.gather(
                    *(self._closed(clients, deadline) for _ in range(self.concurrency))
                )
            else:
                await self._open(clients, deadline)
        finally:
            for c in clients.values():
                await c.aclose()

    def _running(self, deadline: float) -> bool:
        return not self._stop.is_set() and time.monotonic() < deadline

    async def _closed(self, clients: dict[str, httpx.AsyncClient], deadline: float) -> None:
        while self._running(deadline):
            target = self._take()
            if target is None:
                return
            await self._one(clients[target.base_url], target)

    async def _open(self, clients: dict[str, httpx.AsyncClient], deadline: float) -> None:
        assert self.rate
        interval = 1.0 / self.rate
        inflight: set[asyncio.Task[None]] = set()
        next_at = time.monotonic()
        while self._running(deadline):
            now = time.monotonic()
            if now < next_at:
                await asyncio.sleep(min(next_at - now, 0.05))
                continue
            next_at += interval
            if next_at < now - 1.0:  # fell far behind (e.g. a GC pause): don't burst
                next_at = now
            if len(inflight) >= self.concurrency:
                self.skipped += 1
                continue
            target = self._take()
            if target is None:
                break
            task = asyncio.create_task(self._one(clients[target.base_url], target))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
        if inflight:
            await asyncio.wait(inflight, timeout=self.timeout + 5)
        for task in inflight:
            task.cancel()

    async def _one(self, client: httpx.AsyncClient, target: Target) -> None:
        start = time.monotonic()
        status, problem, error = 0, None, None
        try:
            r = await client.get(target.path, headers=target.headers)
            status = r.status_code
            if r.headers.get("content-type", "").startswith("application/problem+json"):
                with contextlib.suppress(ValueError, AttributeError):
                    problem = str(r.json().get("type", "")).rsplit("/", 1)[-1] or None
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        self.samples.append(
            Sample(start, time.monotonic(), target.name, target.base_url, status, problem, error)
        )


# ---------------------------------------------------------------------- analysis


def window(samples: Iterable[Sample], t0: float, t1: float) -> list[Sample]:
    """Samples *started* in ``[t0, t1)``, plus those started earlier and still running at t0."""
    return [s for s in samples if (t0 <= s.start < t1) or (s.start < t0 < s.end)]


def by_status(samples: Iterable[Sample]) -> dict[str, int]:
    """``{"200": n, "502 runtime-crashed": m, "0 ConnectError": k, ...}``."""
    c: Counter[str] = Counter()
    for s in samples:
        if s.status == 0:
            c["0 " + (s.error or "error").split(":", 1)[0]] += 1
        else:
            c[f"{s.status} {s.problem}" if s.problem else str(s.status)] += 1
    return dict(sorted(c.items()))


def failures(samples: Iterable[Sample]) -> list[Sample]:
    return [s for s in samples if not s.ok]


def error_rate(samples: Sequence[Sample]) -> float:
    return len(failures(samples)) / len(samples) if samples else 0.0


def recovery_time(samples: Iterable[Sample], since: float, consecutive: int = 20) -> float | None:
    """Seconds from ``since`` to the start of the first run of ``consecutive`` successful
    requests (ordered by start) among those started after ``since``; None if never."""
    after = sorted((s for s in samples if s.start >= since), key=lambda s: s.start)
    run = 0
    for i, s in enumerate(after):
        run = run + 1 if s.ok else 0
        if run >= consecutive:
            return after[i - consecutive + 1].start - since
    return None


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]
