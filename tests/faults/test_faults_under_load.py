"""Faults under load: two ``isogate serve`` replicas on PostgreSQL + S3 (a private SeaweedFS)
+ a private Redis (fail-open), with a bounded load generator running; one fault at a time.

For each fault the figures (error rate by status in the fault window, recovery time: from
the end of the fault to the first of 20 consecutive successes) are printed (``-s``) and
kept in ``FIGURES``; the assertions are semantic only: which requests failed, with which
problem type, and that service comes back within a generous bounded loop. A control-plane
writer (deploy, create key, renew, revoke) runs through every fault; the last test restarts
every process it owns and reads back every write that was acknowledged with a 2xx.

The machine's PostgreSQL is shared: it is stopped for ~2 s at most and always started
again in a ``finally``. Redis and SeaweedFS are private servers on free ports.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures.postgres import ADMIN_URL, create_database, drop_database
from tests.fixtures.redis import RedisServer
from tests.fixtures.seaweedfs import SeaweedFS
from tests.gateway.e2e.conftest import Tenant
from tests.gateway.e2e.replicas import JWT_SECRET, Pair, Replica, metric, poll

from .load import LoadGenerator, Sample, Target, by_status, error_rate, recovery_time, window
from .procs import worker_pids

pytestmark = pytest.mark.timeout(240)

THREADS = 2  # executor threads per worker
FAST = "export default { fetch() { return new Response('fast') } };"
BOMB = (
    "export default { fetch() { const a = []; "
    "for (;;) a.push(new Array(1e5).fill(Math.random())); } };"
)
LOOP = "export default { fetch() { for (;;) {} } };"
RATE = 120.0  # requests/s over both replicas (the machine may have 2 CPUs)
CONSECUTIVE = 20
FIGURES: dict[str, dict] = {}


# ---------------------------------------------------------------------- the lab


@dataclass
class Writer:
    """Control-plane writes through both replicas, in a thread; records what was acked."""

    urls: list[str]
    auth: dict[str, str]
    deploys: list[tuple[str, int, str]] = field(default_factory=list)  # (fn, version, code)
    unacked_deploys: set[str] = field(default_factory=set)  # fns with an unacked deploy
    keys: dict[str, dict] = field(default_factory=dict)  # id -> last acked lease
    ambiguous_keys: set[str] = field(default_factory=set)  # an unacked write touched it
    statuses: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(60)
        if self.error:
            raise self.error

    def _count(self, op: str, r: httpx.Response | None, exc: Exception | None = None) -> None:
        if r is None:
            label = f"{op} 0 {type(exc).__name__}"
        else:
            problem = ""
            if r.headers.get("content-type", "").startswith("application/problem+json"):
                problem = " " + str(r.json().get("type", "")).rsplit("/", 1)[-1]
            label = f"{op} {r.status_code}{problem}"
        self.statuses[label] = self.statuses.get(label, 0) + 1

    def _run(self) -> None:
        clients = [httpx.Client(base_url=u, timeout=15) for u in self.urls]
        rng = random.Random(6)
        i = 0
        try:
            while not self._stop.is_set():
                i += 1
                self._step(clients[i % len(clients)], i, rng)
                self._stop.wait(0.05)
        except BaseException as exc:
            self.error = exc
        finally:
            for c in clients:
                c.close()

    def _call(self, op: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            r = send()
        except httpx.HTTPError as exc:
            self._count(op, None, exc)
            return None
        self._count(op, r)
        assert r.status_code < 500 or r.status_code == 503, (op, r.status_code, r.text)
        return r

    def _step(self, h: httpx.Client, i: int, rng: random.Random) -> None:
        kind = i % 4
        if kind == 0:
            fn = f"w{i % 5}"
            code = f"export default {{ fetch() {{ return new Response('w-{i}') }} }};"
            body = {"code": code, "public": True}
            r = self._call(
                "deploy", lambda: h.put(f"/v1/functions/{fn}", headers=self.auth, json=body)
            )
            if r is not None and r.status_code == 201:
                self.deploys.append((fn, r.json()["version"], code))
            else:
                self.unacked_deploys.add(fn)
        elif kind == 1:
            body = {"name": f"k{i}", "ttl_seconds": 86400}
            r = self._call("create-key", lambda: h.post("/v1/keys", headers=self.auth, json=body))
            if r is not None and r.status_code == 201:
                lease = r.json()
                lease.pop("key", None)
                self.keys[lease["id"]] = lease
        else:
            candidates = [
                k
                for k, v in self.keys.items()
                if v["state"] == "active"
                and k not in self.ambiguous_keys
                and not (kind == 2 and v.get("renewed"))
            ]
            if not candidates:
                return
            kid = rng.choice(candidates)
            if kind == 2:
                body = {"ttl_seconds": 3600 + i}
                r = self._call(
                    "renew", lambda: h.post(f"/v1/keys/{kid}/renew", headers=self.auth, json=body)
                )
            else:
                r = self._call("revoke", lambda: h.delete(f"/v1/keys/{kid}", headers=self.auth))
            if r is not None and r.status_code == 200:
                lease = r.json()
                lease.pop("key", None)
                lease["renewed"] = kind == 2
                self.keys[kid] = lease
            else:
                self.ambiguous_keys.add(kid)


@dataclass
class Lab:
    root: Path
    redis: RedisServer
    s3: SeaweedFS
    pair: Pair
    tenant: Tenant
    key: str
    writer: Writer

    @property
    def replicas(self) -> list[Replica]:
        return [self.pair.a, self.pair.b]

    def call(self, gw: Replica, fn: str) -> httpx.Response:
        return httpx.get(f"{gw.url}/fn/{fn}", headers={"x-api-key": self.key}, timeout=60)

    def targets(self) -> list[Target]:
        h = {"x-api-key": self.key}
        return [
            Target(gw.url, "/fn/fast", h, label=name)
            for name, gw in zip("ab", self.replicas, strict=True)
        ]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Lab]:
    request.getfixturevalue("pg_server")
    root = tmp_path_factory.mktemp("faults")
    db_name, db_url = create_database()
    redis = RedisServer(root / "redis")
    s3 = SeaweedFS(root / "weed")
    pair: Pair | None = None
    try:
        redis.start()
        s3.start()
        env = {
            "ISOGATE_DATABASE_URL": db_url,
            **s3.env("faults", prefix="code/"),
            "ISOGATE_REDIS_URL": redis.url,
            "ISOGATE_REDIS_PREFIX": "faults:",
            "ISOGATE_REDIS_FAILURE_MODE": "open",
            "ISOGATE_REDIS_TIMEOUT_SECONDS": "0.3",
            "ISOGATE_JWT_SECRET": JWT_SECRET,
            "ISOGATE_TOKEN_TTL_SECONDS": "3600",
            # long: invalidation keeps replicas in agreement; a warm function with a cached
            # lease needs no SQL (the shared PostgreSQL may be restarted by other tests)
            "ISOGATE_KEY_CACHE_TTL_SECONDS": "300",
            "ISOGATE_FUNCTION_CACHE_TTL_SECONDS": "300",
            "ISOGATE_STORE_TIMEOUT_SECONDS": "2",
            "ISOGATE_BLOB_TIMEOUT_SECONDS": "2",
            "ISOGATE_RUNTIME__WORKERS": "2",
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": str(THREADS),
        }
        a = Replica(root / "a" / "data", env, "a")
        b = Replica(root / "b" / "data", env, "b")
        for d in (a, b):
            d.data_dir.parent.mkdir(parents=True, exist_ok=True)
        pair = Pair(a, b, "postgres")
        a.start()
        b.start()
        t = Tenant(a.url, "faults")
        assert t.deploy("fast", FAST).status_code == 201
        assert t.deploy("bomb", BOMB, timeout_ms=20000).status_code == 201
        assert t.deploy("loop", LOOP, timeout_ms=300).status_code == 201
        key = t.key(rate_limit={"requests": 1_000_000, "per_seconds": 60})["key"]
        writer = Writer([a.url, b.url], t.auth)
        lab = Lab(root, redis, s3, pair, t, key, writer)
        for gw in lab.replicas:  # warm `fast` on every executor of both replicas
            LoadGenerator([Target(gw.url, "/fn/fast", {"x-api-key": key})], concurrency=8).run(1.0)
            assert lab.call(gw, "loop").status_code == 504  # its metadata cached
        writer.start()
        yield lab
        writer.stop()
        t.http.close()
    finally:
        try:
            if pair is not None:
                pair.stop()
        finally:
            s3.stop()
            redis.stop()
            drop_database(db_name)
        if FIGURES:
            print("\n" + json.dumps(FIGURES, indent=1))
            out = os.environ.get("ISOGATE_FAULTS_REPORT")
            if out:
                Path(out).write_text(json.dumps(FIGURES, indent=1))


# ---------------------------------------------------------------------- one fault


@dataclass
class Run:
    samples: list[Sample]
    t_fault: float
    t_restored: float
    t_recovered: float

    @property
    def during(self) -> list[Sample]:
        return window(self.samples, self.t_fault, max(self.t_recovered, self.t_restored))

    def failed(self) -> list[Sample]:
        return [s for s in self.during if not s.ok]

    def other_failures(self) -> list[Sample]:
        """Failures outside the fault window (must be none)."""
        inside = set(map(id, self.during))
        return [s for s in self.samples if not s.ok and id(s) not in inside]


def under_load(
    lab: Lab, name: str, inject: Callable[[], None], restore: Callable[[], None] | None = None
) -> Run:
    """Load both replicas, inject the fault after a baseline second, restore it, wait for
    CONSECUTIVE successes in a row (bounded), then a calm second; record the figures."""
    load = LoadGenerator(lab.targets(), rate=RATE, concurrency=32, max_seconds=90, timeout=30)
    load.start()
    try:
        time.sleep(1.0)
        t_fault = time.monotonic()
        try:
            inject()
        finally:
            if restore is not None:
                restore()
        t_restored = time.monotonic()
        deadline = t_restored + 45
        while (rec := recovery_time(load.samples, t_restored, CONSECUTIVE)) is None:
            assert time.monotonic() < deadline, (
                f"{name}: no recovery: {by_status(load.samples[-200:])}"
            )
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        samples = load.stop()
    run = Run(samples, t_fault, t_restored, t_restored + rec)
    during = run.during
    FIGURES[name] = {
        "requests_in_window": len(during),
        "window_s": round(max(run.t_recovered, t_restored) - t_fault, 2),
        "fault_s": round(t_restored - t_fault, 2),
        "error_rate": round(error_rate(during), 4),
        "statuses": by_status(during),
        "recovery_s": round(rec, 3),
        "total_requests": len(samples),
    }
    print(f"\n{name}: {FIGURES[name]}")
    assert not run.other_failures(), by_status(run.other_failures())
    return run


def problems(samples: list[Sample]) -> set[tuple[int, str | None]]:
    return {(s.status, s.problem) for s in samples}


# ---------------------------------------------------------------------- the faults


def respawned(gw: Replica, before: list[int]) -> bool:
    """Both workers alive, one of them new, and the runtime ready again (bounded wait)."""
    assert gw.proc is not None
    pid = gw.proc.pid

    def check() -> bool:
        now = worker_pids(pid)
        return len(now) == 2 and now != before and metric(gw.url, "isogate_runtime_ready") == 1

    return poll(check, within=30, step=0.05)


def test_kill_runtime_worker(lab: Lab) -> None:
    a = lab.pair.a
    assert a.proc is not None
    victims = worker_pids(a.proc.pid)
    assert len(victims) == 2, victims
    crashes: list[int] = []

    def inject() -> None:  # the fault lasts until the supervisor has a new worker ready
        os.kill(victims[0], signal.SIGKILL)
        crashes.append(victims[0])
        assert respawned(a, victims)

    run = under_load(lab, "kill -9 runtime worker", inject)
    failed = run.failed()
    # only invocations in flight on the killed worker fail, as 502 runtime-crashed problems
    assert problems(failed) <= {(502, "runtime-crashed")}, by_status(failed)
    assert {s.base_url for s in failed} <= {a.url}
    assert len(failed) <= 2 * THREADS, by_status(failed)


def test_memory_bomb(lab: Lab) -> None:
    b = lab.pair.b
    answer: list[httpx.Response] = []
    assert b.proc is not None
    before = worker_pids(b.proc.pid)

    def inject() -> None:
        answer.append(lab.call(b, "bomb"))
        assert respawned(b, before)

    run = under_load(lab, "memory bomb (1 invocation)", inject)
    r = answer[0]
    assert r.status_code == 502, r.text
    assert r.json()["type"].endswith("/runtime-crashed")
    failed = run.failed()
    # bystanders in flight on the same worker process die with it (isolates share the
    # process); nothing else fails
    assert problems(failed) <= {(502, "runtime-crashed")}, by_status(failed)
    assert {s.base_url for s in failed} <= {b.url}
    assert len(failed) <= 2 * THREADS, by_status(failed)
    FIGURES["memory bomb (1 invocation)"]["bomb"] = r.status_code


def test_infinite_loop(lab: Lab) -> None:
    answers: list[httpx.Response] = []

    def inject() -> None:
        for gw in (*lab.replicas, lab.pair.a):
            answers.append(lab.call(gw, "loop"))

    run = under_load(lab, "infinite loop (3 invocations)", inject)
    for r in answers:
        assert r.status_code == 504, r.text
        assert r.json()["type"].endswith("/timeout")
    assert run.failed() == [], by_status(run.failed())  # executors stopped; nobody else waits
    FIGURES["infinite loop (3 invocations)"]["loop"] = [r.status_code for r in answers]


def test_redis_restart_fail_open(lab: Lab) -> None:
    before = sum(metric(gw.url, "isogate_quota_fail_open_total") for gw in lab.replicas)

    def inject() -> None:
        lab.redis.stop()
        time.sleep(2.0)

    run = under_load(lab, "Redis restart (fail-open)", inject, lab.redis.start)
    assert run.failed() == [], by_status(run.failed())
    # the outage was real: requests were admitted by the local limiters meanwhile
    fail_open = sum(metric(gw.url, "isogate_quota_fail_open_total") for gw in lab.replicas)
    assert fail_open > before
    FIGURES["Redis restart (fail-open)"]["fail_open_admitted"] = fail_open - before


def _pg_cluster() -> tuple[str, str] | None:
    parts = urlsplit(ADMIN_URL)
    if parts.hostname not in ("127.0.0.1", "localhost") or (parts.port or 5432) != 5432:
        return None
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if p.is_dir())
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    return versions[-1], "main"


def _pg_ctl(action: str) -> None:
    cluster = _pg_cluster()
    assert cluster is not None
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action]
    if action == "stop":
        cmd += ["-m", "fast"]
    subprocess.run(cmd, check=True, timeout=60, capture_output=True)


def test_postgres_restart(lab: Lab) -> None:
    if _pg_cluster() is None:
        pytest.skip("no local PostgreSQL cluster to restart (pg_ctlcluster)")

    def inject() -> None:
        _pg_ctl("stop")
        time.sleep(2.0)
        r = httpx.get(lab.pair.a.url + "/readyz", timeout=10)  # the outage is seen
        assert r.status_code == 503 and "database" in r.json()["failing"], r.text

    try:
        run = under_load(lab, "PostgreSQL restart", inject, lambda: _pg_ctl("start"))
    finally:
        if not _pg_up():  # belt and braces: the shared server is never left stopped
            _pg_ctl("start")
    # keyed invocations of a warm function need no SQL: cached lease and version
    assert run.failed() == [], by_status(run.failed())
    for gw in lab.replicas:
        assert poll(
            lambda gw=gw: httpx.get(gw.url + "/readyz", timeout=5).status_code == 200,
            within=30,
            step=0.2,
        )


def _pg_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5432), 1).close()
        return True
    except OSError:
        return False


def test_s3_unavailable(lab: Lab) -> None:
    def inject() -> None:
        lab.s3.stop()
        time.sleep(3.0)
        body = httpx.get(lab.pair.b.url + "/readyz", timeout=10).json()  # the outage is seen
        assert "blobs" in body.get("failing", []) + body.get("degraded", []), body

    run = under_load(lab, "S3 unavailable (weed stopped)", inject, lab.s3.start)
    assert run.failed() == [], by_status(run.failed())  # warm functions need no blob


def test_no_acknowledged_write_lost(lab: Lab) -> None:
    """Restart every process this module owns (both gateways, Redis, SeaweedFS) and read
    back every write acknowledged with a 2xx during the faults."""
    w = lab.writer
    time.sleep(0.5)
    w.stop()
    FIGURES["control-plane writes"] = dict(sorted(w.statuses.items()))
    print("\nwrites:", FIGURES["control-plane writes"])
    acked = sum(n for k, n in w.statuses.items() if k.split()[1].startswith("2"))
    assert acked >= 20 and w.deploys and w.keys, w.statuses

    assert lab.pair.b.stop() == 0 and lab.pair.a.stop() == 0
    lab.redis.stop()
    lab.s3.stop()
    lab.redis.start()
    lab.s3.start()
    lab.pair.a.start()
    lab.pair.b.start()

    lost: list[str] = []
    clients = [httpx.Client(base_url=gw.url, timeout=30) for gw in lab.replicas]
    try:
        last: dict[str, int] = {}
        for n, (fn, version, code) in enumerate(w.deploys):
            h = clients[n % 2]
            r = h.get(
                f"/v1/functions/{fn}/code", params={"version": version}, headers=lab.tenant.auth
            )
            if r.status_code != 200 or r.text != code:
                lost.append(f"deploy {fn} v{version}: {r.status_code} {r.text[:80]}")
            last[fn] = max(last.get(fn, 0), version)
        for n, (fn, version) in enumerate(sorted(last.items())):
            info = clients[n % 2].get(f"/v1/functions/{fn}", headers=lab.tenant.auth).json()
            if fn not in w.unacked_deploys and info["version"] != version:
                lost.append(f"{fn} current v{info['version']} != acked v{version}")
            if info["version"] < version:
                lost.append(f"{fn} current v{info['version']} < acked v{version}")
            # the current version's code loads cold from S3 after the restart
            expected = dict(((f, v), c) for f, v, c in w.deploys).get((fn, info["version"]))
            r = clients[(n + 1) % 2].get(f"/fn/{fn}")
            if r.status_code != 200 or (expected and f"'{r.text}'" not in expected):
                lost.append(f"invoke {fn}: {r.status_code} {r.text[:80]}")
        for n, h in enumerate(clients):
            r = h.get("/v1/keys", headers=lab.tenant.auth)
            assert r.status_code == 200, r.text
            stored = {k["id"]: k for k in r.json()["keys"]}
            for kid, lease in w.keys.items():
                got = stored.get(kid)
                if got is None:
                    lost.append(f"replica {n}: key {kid} missing")
                elif kid not in w.ambiguous_keys and (
                    got["state"] != lease["state"] or got["expires_at"] != lease["expires_at"]
                ):
                    lost.append(
                        f"replica {n}: key {kid} {got['state']}/{got['expires_at']} != acked {lease['state']}/{lease['expires_at']}"
                    )
    finally:
        for h in clients:
            h.close()
    FIGURES["control-plane writes"]["lost"] = len(lost)
    assert lost == [], lost
