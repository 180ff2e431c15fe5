"""Two ``isogate serve`` replicas sharing Redis, the metadata database and the blob store.

Backends (``ISOGATE_TEST_REPLICA_BACKEND``, comma-separated; default ``postgres``):

* ``postgres`` (default, the production layout): a fresh PostgreSQL database
  (127.0.0.1:5432) and a bucket on the session's SeaweedFS S3 server; each replica has a
  data dir of its own;
* ``sqlite``: both replicas use one data dir, so one SQLite file (WAL) and one blob
  folder.

Redis is the shared test Redis under this session's prefix (or a private server).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Tenant
from .server import GatewayProcess

JWT_SECRET = "replica-test-jwt-secret-0123456789abcdef"


class Replica(GatewayProcess):
    """A gateway process with a log of its own even when it shares a data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str], name: str) -> None:
        super().__init__(data_dir, env)
        self.log = data_dir.parent / f"{name}-server.log"


@dataclass
class Pair:
    a: Replica
    b: Replica
    backend: str
    cleanups: list = field(default_factory=list)

    def stop(self) -> list[int | None]:
        codes = [self.b.stop(), self.a.stop()]
        for cleanup in self.cleanups:
            cleanup()
        return codes


#: The shared backends the replica tests run on: ``ISOGATE_TEST_REPLICA_BACKEND=postgres``
#: (default), ``sqlite`` or ``postgres,sqlite``.
BACKENDS = os.environ.get("ISOGATE_TEST_REPLICA_BACKEND", "postgres").split(",")


def backend_env(
    request: pytest.FixtureRequest, root: Path, backend: str
) -> tuple[dict[str, str], bool, list]:
    """(env, shared data dir?, cleanups) for one shared backend."""
    if backend == "sqlite":
        return {}, True, []
    if backend != "postgres":
        raise ValueError(f"replica backend {backend!r}: sqlite or postgres")
    from tests.fixtures.postgres import create_database, drop_database

    request.getfixturevalue("pg_server")
    s3 = request.getfixturevalue("s3_server")
    name, url = create_database()
    env = {"ISOGATE_DATABASE_URL": url, **s3.env(f"isogate-{secrets.token_hex(4)}")}
    return env, False, [lambda: drop_database(name)]


def start_pair(
    request: pytest.FixtureRequest,
    root: Path,
    redis_url: str,
    redis_prefix: str,
    backend: str = "sqlite",
    extra: dict[str, str] | None = None,
) -> Pair:
    """Start replica A, then B (so B finds A's migrations and secrets in place)."""
    env, shared_dir, cleanups = backend_env(request, root, backend)
    env = {
        **env,
        "ISOGATE_REDIS_URL": redis_url,
        "ISOGATE_REDIS_PREFIX": redis_prefix,
        "ISOGATE_JWT_SECRET": JWT_SECRET,
        "ISOGATE_KEY_CACHE_TTL_SECONDS": "30",  # long: only invalidation can make B agree
        "ISOGATE_FUNCTION_CACHE_TTL_SECONDS": "30",
        **(extra or {}),
    }
    dir_a = root / "data"
    dir_b = dir_a if shared_dir else root / "data-b"
    a = Replica(dir_a, env, "a")
    b = Replica(dir_b, env, "b")
    pair = Pair(a, b, backend, cleanups)
    try:
        a.start()
        b.start()
    except BaseException:
        pair.stop()
        raise
    return pair


def replicas_fixture(name: str, extra: dict[str, str] | None = None) -> Any:
    """A module's ``replicas`` fixture (one pair per backend of BACKENDS, for the module):
    under its own data folder and Redis prefix named ``name``, with the settings
    ``extra``; both replicas must stop cleanly after the module."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def replicas(
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        redis_url: str,
        redis_prefix: str,
    ) -> Iterator[Pair]:
        pair = start_pair(
            request,
            tmp_path_factory.mktemp(f"{name}-replicas"),
            redis_url,
            f"{redis_prefix}{name}-{request.param}:",
            request.param,
            extra=extra,
        )
        yield pair
        codes = pair.stop()
        assert codes == [0, 0], (pair.a.log.read_text()[-3000:], pair.b.log.read_text()[-3000:])

    return replicas


def metric(url: str, name: str, labels: str = "") -> float:
    """One sample of a replica's ``/metrics`` (0 if absent)."""
    text = httpx.get(url + "/metrics", timeout=10).text
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + r"$", text, re.M)
    return float(found.group(1)) if found else 0.0


def tenant_on(pair: Pair, name: str) -> Tenant:
    """A tenant registered (and logged in) through replica A."""
    return Tenant(pair.a.url, name)


async def hammer(
    urls: list[str], path: str, key: str, total: int, concurrency: int = 50
) -> dict[int, int]:
    """``total`` requests spread round-robin over ``urls`` by ``concurrency`` clients."""
    statuses: dict[int, int] = {}
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(base_url=u, timeout=60, limits=limits) for u in urls]

    async def one(i: int) -> None:
        async with sem:
            r = await clients[i % len(clients)].get(path, headers={"x-api-key": key})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    try:
        await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        for c in clients:
            await c.aclose()
    return statuses


def poll(check, within: float = 1.0, step: float = 0.02) -> bool:
    """True as soon as ``check()`` is true, polling for at most ``within`` seconds."""
    import time

    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
