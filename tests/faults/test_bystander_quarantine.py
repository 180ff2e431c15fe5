"""Another tenant's memory bomb must not quarantine an innocent function that merely
shared the worker process when it crashed.

The runtime strikes a function only for a crash it was alone on the worker for; after
an ambiguous crash every function in flight becomes a suspect whose next call runs
alone (isogate/runtime/pool.py ``_on_crash``, admission.py ``_pick_solo``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.e2e.conftest import Tenant
from tests.gateway.e2e.server import GatewayProcess

# Long enough to be still running when the bomb's heap runs out, even on a loaded
# machine (with 1.5 s, a slow out-of-memory let it finish first now and then).
STEADY = (
    "export default { fetch() { const end = Date.now() + 6000; let n = 0;"
    " while (Date.now() < end) n++; return new Response('steady') } };"
)
BOMB = (
    "export default { fetch() { const a = []; "
    "for (;;) a.push(new Array(1e5).fill(Math.random())); } };"
)


@pytest.mark.timeout(120)
def test_memory_bomb_does_not_quarantine_a_bystander(tmp_path: Path) -> None:
    gw = GatewayProcess(
        tmp_path / "data",
        {
            "ISOGATE_RUNTIME__WORKERS": "1",
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": "2",
            "ISOGATE_RUNTIME__QUARANTINE_CRASHES": "2",
            # the bomb waits behind a suspect's solo run (6 s) in the second round
            "ISOGATE_RUNTIME__QUEUE_TIMEOUT_MS": "30000",
        },
    )
    gw.start()
    try:
        victim = Tenant(gw.url, "victim")
        attacker = Tenant(gw.url, "attacker")
        assert victim.deploy("steady", STEADY, public=True, timeout_ms=10000).status_code == 201
        assert attacker.deploy("bomb", BOMB, public=True, timeout_ms=5000).status_code == 201
        assert victim.http.get("/fn/steady").status_code == 200
        for round_ in range(2):
            seen: list[int] = []
            t = threading.Thread(
                target=lambda seen=seen: seen.append(
                    httpx.get(gw.url + "/fn/steady", timeout=30).status_code
                )
            )
            t.start()
            time.sleep(0.5)  # the bystander is running on one executor
            assert attacker.http.get("/fn/bomb").status_code == 502
            t.join(30)
            if round_ == 0:
                assert seen == [502]  # it died with the worker: that one had to fail
            else:
                # a suspect since the first crash, it ran alone and was cleared
                assert seen == [200]
            deadline = time.monotonic() + 20
            while httpx.get(gw.url + "/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.1)
        # the bystander never crashed anything by itself: it must still serve
        r = victim.http.get("/fn/steady")
        assert r.status_code == 200, r.text
        # the bomb, alone on its worker in the second round, was struck; one more crash
        # (quarantine_crashes=2) and it is quarantined, while the bystander serves on
        assert attacker.http.get("/fn/bomb").status_code == 502
        deadline = time.monotonic() + 20
        while httpx.get(gw.url + "/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert attacker.http.get("/fn/bomb").status_code == 503
        assert victim.http.get("/fn/steady").status_code == 200
    finally:
        gw.stop()
