"""Issue 24, item 5: a flood of registrations and logins does not stall the gateway.

Registration hashed the password before checking the name, logins were not limited, and
Argon2 ran on the default thread pool with blob writes and ``/readyz`` (64 connections
pushed readiness to 6-9 s). Now: the name is checked first, every registration and login
counts against ``auth_attempt_limit`` per address (429), and Argon2 runs on its own small
pool that refuses work when full (503 ``busy``, ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

CREDS = {"name": "flooded", "password": "password-123"}
FLOOD = 32


def _start(tmp: Path, env: dict[str, str]) -> GatewayProcess:
    gw = GatewayProcess(tmp / "data", env)
    gw.start()
    with httpx.Client(base_url=gw.url, timeout=60) as http:
        r = http.post("/v1/tenants", json=CREDS, headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 201, r.text
    return gw


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = _start(
        tmp_path_factory.mktemp("argon"),
        {
            "ISOGATE_AUTH_ATTEMPT_LIMIT": "0",
            "ISOGATE_PASSWORD_HASH_THREADS": "1",
            "ISOGATE_PASSWORD_HASH_QUEUE": "1",
        },
    )
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def _flood(gw: GatewayProcess, path: str, body: dict) -> list[httpx.Response]:
    clients = [httpx.Client(base_url=gw.url, timeout=120) for _ in range(FLOOD)]
    try:
        for c in clients:  # connections open before the flood: the requests arrive together
            assert c.get("/healthz").status_code == 200
        with ThreadPoolExecutor(FLOOD) as pool:
            return list(pool.map(lambda c: c.post(path, json=body), clients))
    finally:
        for c in clients:
            c.close()


def test_hashing_pool_refuses_when_full(small_pool: GatewayProcess) -> None:
    with ThreadPoolExecutor(1) as side:
        ready = side.submit(httpx.get, small_pool.url + "/readyz", timeout=60)
        answers = _flood(small_pool, "/v1/auth/token", CREDS)
        assert ready.result().status_code == 200
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses and 503 in statuses, statuses
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert busy.json()["type"].endswith("/busy") and busy.headers["retry-after"]


def test_taken_name_costs_no_hash(small_pool: GatewayProcess) -> None:
    # with one hashing thread and one queued job, a flood that hashed would see 503s
    answers = _flood(small_pool, "/v1/tenants", CREDS)
    assert {r.status_code for r in answers} == {409}, [r.status_code for r in answers]


def test_logins_are_limited_per_address(tmp_path_factory: pytest.TempPathFactory) -> None:
    limit = 5
    gw = _start(tmp_path_factory.mktemp("attempts"), {"ISOGATE_AUTH_ATTEMPT_LIMIT": str(limit)})
    try:
        with httpx.Client(base_url=gw.url, timeout=60) as http:
            # the registration above was the first attempt of this address
            statuses = [http.post("/v1/auth/token", json=CREDS).status_code for _ in range(limit)]
            assert statuses == [200] * (limit - 1) + [429], statuses
            r = http.post("/v1/tenants", json={"name": "other", "password": "password-123"})
            assert r.status_code == 429 and r.headers["retry-after"]
            assert r.json()["type"].endswith("/auth-rate-limited")
            assert http.get("/readyz").status_code == 200  # not an attempt: still served
    finally:
        assert gw.stop() == 0, gw.log.read_text()[-3000:]
