"""Cron schedules end to end (issue 23): real gateways (Hypercorn, runtime workers) on
loopback, ticks every second (``scheduler.seconds_field``, croniter's sixth field: tests
never wait for real minutes). The embedded default, then two replicas on PostgreSQL + S3 +
Redis; both restart a gateway in the middle. Assertions are on counts and sets of ticks,
never on durations: every tick between the first and the last run ran exactly once (its
KV counter is 1), whether the gateway was up or restarting at the time (missed ticks
within ``catch_up_seconds`` run after the restart)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from .conftest import Tenant, unique
from .replicas import Pair, replicas_fixture, tenant_on
from .server import GatewayProcess

EVERY_SECOND = "* * * * * *"

#: each tick counts itself in KV (run twice: 2), reads an env var and a secret, and
#: leaves work to ctx.waitUntil
TICKER = """
export default {
  async scheduled(controller, env, ctx) {
    const k = 'tick:' + controller.scheduledTime;
    await new Promise((r) => setTimeout(r, 150));
    const n = Number((await env.C.get(k)) ?? '0') + 1;
    await env.C.put(k, String(n));
    ctx.waitUntil(env.C.put('seen:' + controller.scheduledTime,
      controller.cron + '|' + env.GREETING + '|' + env.TOKEN));
  },
  fetch() { return new Response('ok'); },
};
"""

MASTER = "r1:" + base64.b64encode(os.urandom(32)).decode()
SETTINGS = {
    "ISOGATE_SCHEDULER__SECONDS_FIELD": "true",
    "ISOGATE_SCHEDULER__POLL_INTERVAL_SECONDS": "0.2",
    "ISOGATE_SCHEDULER__CONCURRENCY": "8",
}


def _wait(check, what: str, within: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited too long for {what}"
        time.sleep(0.1)


def _schedules(url: str, t: Tenant, fn: str) -> dict:
    r = httpx.get(f"{url}/v1/functions/{fn}/schedules?limit=100", headers=t.auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _runs(url: str, t: Tenant, fn: str) -> list[dict]:
    data = _schedules(url, t, fn)
    return [run for s in data["schedules"] for run in s["last_runs"]]


def _succeeded(url: str, t: Tenant, fn: str) -> int:
    return sum(1 for r in _runs(url, t, fn) if r["status"] == "succeeded")


def _setup(url: str, t: Tenant) -> tuple[str, str]:
    ns = unique("cron-ns")
    assert httpx.post(url + "/v1/kv", json={"name": ns}, headers=t.auth).status_code == 201
    fn = unique("ticker")
    r = t.deploy(
        fn,
        TICKER,
        env={"GREETING": "hi"},
        bindings={"C": {"kv": ns}},
        crons=[EVERY_SECOND],
        timeout_ms=5000,
    )
    assert r.status_code == 201, r.text
    assert r.json()["crons"] == [EVERY_SECOND]
    r = t.http.put(f"/v1/functions/{fn}/secrets/TOKEN", json={"value": "s3cret"}, headers=t.auth)
    assert r.status_code in (200, 201, 204), r.text
    return ns, fn


def _stop_ticks_and_check(url: str, t: Tenant, fn: str, ns: str) -> list[int]:
    """Remove the cron, let the runs in progress end, then check every tick from the first
    run to the last ran exactly once. Returns the ticks (Unix ms)."""
    r = t.deploy(fn, TICKER, env={"GREETING": "hi"}, bindings={"C": {"kv": ns}}, crons=[])
    assert r.status_code == 201, r.text

    # runs are not listed once their cron is gone: read them from KV instead
    def settled() -> bool:
        listed = _kv_ticks(url, t, ns)
        time.sleep(1.0)  # a run still in flight would add a tick or a count meanwhile
        return listed == _kv_ticks(url, t, ns)

    _wait(settled, "the last runs to end")
    counts = _kv_ticks(url, t, ns)
    ticks = sorted(counts)
    assert len(ticks) >= 6, counts
    expected = list(range(ticks[0], ticks[-1] + 1, 1000))
    assert ticks == expected, f"ticks lost: {sorted(set(expected) - set(ticks))}"
    twice = {k: v for k, v in counts.items() if v != 1}
    assert not twice, f"ticks run more than once: {twice}"
    seen = httpx.get(f"{url}/v1/kv/{ns}/keys/seen:{ticks[-1]}", headers=t.auth, timeout=30).text
    assert seen == f"{EVERY_SECOND}|hi|s3cret"
    return ticks


def _kv_ticks(url: str, t: Tenant, ns: str) -> dict[int, int]:
    out: dict[int, int] = {}
    cursor = None
    while True:
        params: dict[str, str | int] = {"prefix": "tick:", "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = httpx.get(f"{url}/v1/kv/{ns}/keys", params=params, headers=t.auth, timeout=30)
        assert r.status_code == 200, r.text
        data = r.json()
        for k in data["keys"]:
            value = httpx.get(f"{url}/v1/kv/{ns}/keys/{k['name']}", headers=t.auth, timeout=30).text
            out[int(k["name"].split(":")[1])] = int(value)
        if data["list_complete"]:
            return out
        cursor = data["cursor"]


@pytest.fixture(scope="module")
def cron_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(tmp_path_factory.mktemp("cron") / "data", dict(SETTINGS))
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def test_embedded_ticks_run_once_through_a_restart(cron_gateway: GatewayProcess) -> None:
    gw = cron_gateway
    t = Tenant(gw.url, unique("cron"))
    ns, fn = _setup(gw.url, t)
    _wait(lambda: _succeeded(gw.url, t, fn) >= 3, "three runs")
    before = _succeeded(gw.url, t, fn)
    assert gw.stop() == 0  # runs in progress finish (drained) before it exits
    time.sleep(2.5)  # ticks fall due while it is down
    gw.start()
    _wait(lambda: _succeeded(gw.url, t, fn) >= before + 6, "runs after the restart")
    runs = _runs(gw.url, t, fn)
    assert {r["status"] for r in runs} <= {"succeeded", "running", "queued"}, runs
    ok = [r for r in runs if r["status"] == "succeeded"]
    assert all(r["http_status"] == 200 and r["error"] is None for r in ok)
    assert all(r["duration_ms"] is not None and r["duration_ms"] > 0 for r in ok)
    view = _schedules(gw.url, t, fn)["schedules"][0]
    assert view["cron"] == EVERY_SECOND and view["next_run_ms"] > ok[0]["scheduled_time_ms"]
    # metrics: runs by outcome, lag of a run behind its tick
    metrics = httpx.get(gw.url + "/metrics", timeout=30).text
    m = re.search(r'^isogate_cron_runs_total\{outcome="succeeded"\} (\S+)$', metrics, re.M)
    assert m and float(m.group(1)) >= 6
    assert re.search(r"^isogate_cron_lag_seconds_count (\S+)$", metrics, re.M)
    # the CLI shows the same runs
    env = {**os.environ, "ISOGATE_URL": gw.url, "ISOGATE_TOKEN": t.token}
    out = subprocess.run(
        [sys.executable, "-m", "isogate.cli", "schedules", fn, "--limit", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert EVERY_SECOND in out.stdout and "succeeded" in out.stdout
    # another tenant: 404
    other = Tenant(gw.url, unique("cron-other"))
    r = other.http.get(f"/v1/functions/{fn}/schedules", headers=other.auth)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    _stop_ticks_and_check(gw.url, t, fn, ns)


def test_function_without_scheduled_handler_fails_clearly(cron_gateway: GatewayProcess) -> None:
    gw = cron_gateway
    t = Tenant(gw.url, unique("cron"))
    fn = unique("fetch-only")
    code = "export default { fetch() { return new Response('x'); } };"
    r = t.deploy(fn, code, crons=[EVERY_SECOND])
    assert r.status_code == 201, r.text
    runs = _wait(
        lambda: [r for r in _runs(gw.url, t, fn) if r["status"] == "failed"], "a failed run"
    )
    run = runs[0]
    assert run["attempts"] == 1 and run["no_retry"] is True  # retrying cannot help
    assert "no scheduled() handler" in run["error"]
    assert run["outcome"] == "js_error"
    assert t.deploy(fn, code, crons=[]).status_code == 201


def test_bad_cron_refused_at_deploy(cron_gateway: GatewayProcess) -> None:
    t = Tenant(cron_gateway.url, unique("cron"))
    r = t.deploy(unique("f"), "export default { scheduled() {} };", crons=["*/5 * * * *"])
    assert r.status_code == 400  # this gateway's test mode wants six fields
    body = r.json()
    assert body["type"].endswith("/invalid-cron") and body["cron"] == "*/5 * * * *"


# -- two replicas ------------------------------------------------------------------------


replicas = replicas_fixture("cron", {**SETTINGS, "ISOGATE_SECRETS_MASTER_KEY": MASTER})


def _metric(url: str, outcome: str) -> float:
    text = httpx.get(url + "/metrics", timeout=30).text
    m = re.search(rf'^isogate_cron_runs_total\{{outcome="{outcome}"\}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_two_replicas_run_each_tick_once_through_a_restart(replicas: Pair) -> None:
    t = tenant_on(replicas, unique("cr"))
    ns, fn = _setup(replicas.a.url, t)
    _wait(lambda: _succeeded(replicas.b.url, t, fn) >= 4, "four runs")
    assert replicas.a.stop() == 0  # B goes on alone meanwhile
    time.sleep(1.5)
    replicas.a.start()
    _wait(lambda: _succeeded(replicas.a.url, t, fn) >= 12, "runs after A's restart")
    ticks = _stop_ticks_and_check(replicas.b.url, t, fn, ns)
    # each run is counted on the replica that made it; together, every tick once
    total = _metric(replicas.a.url, "succeeded") + _metric(replicas.b.url, "succeeded")
    assert total <= len(ticks) + 1  # A's counters restarted: never more than the ticks
