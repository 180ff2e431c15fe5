"""Session fixtures: real gateways (Hypercorn + real runtime workers) on loopback ports."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .server import ADMIN, GatewayProcess

_names = itertools.count(1)


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The shared gateway: default limits, quarantine after 2 crashes."""
    gw = GatewayProcess(
        tmp_path_factory.mktemp("gw") / "data",
        {"ISOGATE_RUNTIME__QUARANTINE_CRASHES": "2"},
    )
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


@pytest.fixture(scope="session")
def small_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway with one executor and no queue, to provoke 'overloaded'."""
    gw = GatewayProcess(
        tmp_path_factory.mktemp("small") / "data",
        {
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": "1",
            "ISOGATE_RUNTIME__MAX_QUEUE": "0",
            "ISOGATE_RUNTIME__QUEUE_TIMEOUT_MS": "200",
            "ISOGATE_RUNTIME__MAX_CONCURRENCY_PER_FUNCTION": "1",
        },
    )
    gw.start()
    yield gw
    gw.stop()


class Tenant:
    """A registered, logged-in tenant with a sync HTTP client."""

    def __init__(self, url: str, name: str, password: str = "password-123") -> None:
        self.name = name
        self.http = httpx.Client(base_url=url, timeout=60)
        r = self.http.post(
            "/v1/tenants",
            json={"name": name, "password": password},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert r.status_code == 201, r.text
        r = self.http.post("/v1/auth/token", json={"name": name, "password": password})
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def deploy(self, fn: str, code: str, **opts) -> httpx.Response:
        return self.http.put(f"/v1/functions/{fn}", headers=self.auth, json={"code": code, **opts})

    def grant_hostless(self) -> None:
        """The operator lets this tenant claim host-less route patterns."""
        r = self.http.put(
            f"/v1/admin/hostless-grants/{self.name}", headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert r.status_code in (200, 201), r.text

    def key(self, **body) -> dict:
        r = self.http.post("/v1/keys", headers=self.auth, json=body)
        assert r.status_code == 201, r.text
        return r.json()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def tenant(gateway: GatewayProcess) -> Iterator[Tenant]:
    t = Tenant(gateway.url, unique("t"))
    yield t
    t.http.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
