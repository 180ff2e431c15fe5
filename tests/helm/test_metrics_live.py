"""The metric names the chart scales on exist in a live gateway's /metrics under load.

Collects every ``isogate_*`` name referenced by the rendered HPA/KEDA manifests and by
the prometheus-adapter rules shipped with the chart, starts a real ``isogate serve``
(Hypercorn + runtime workers, configured by the chart's own rendered settings file),
deploys a function, invokes it concurrently, scrapes /metrics and checks each name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import httpx
import pytest
import yaml

from tests.gateway.e2e.server import ADMIN, GatewayProcess

from .chartlib import CHART, by_kind, manifests, render, scenario_values

pytestmark = pytest.mark.timeout(300)

ADAPTER = CHART / "examples" / "prometheus-adapter-values.yaml"
NAME = re.compile(r"\bisogate_[a-z_]+\b")

# Busy for ~150 ms so that executors are seen busy and invocations in flight.
SPIN = """export default {
  fetch(request) {
    const end = Date.now() + 150;
    let n = 0;
    while (Date.now() < end) n++;
    return new Response(JSON.stringify({n}), {headers: {"content-type": "application/json"}});
  }
};"""


def adapter_rules() -> list[dict[str, Any]]:
    return yaml.safe_load(ADAPTER.read_text())["rules"]["custom"]


def referenced_names(chart: helm.Chart) -> tuple[set[str], set[str]]:
    """(raw series the queries read, metric names the HPA asks the custom metrics API for)."""
    series: set[str] = set()
    for rule in adapter_rules():
        series |= set(NAME.findall(rule["seriesQuery"])) | set(NAME.findall(rule["metricsQuery"]))
    hpa_names: set[str] = set()
    for scenario in ("autoscaling-values", "keda-values"):
        for obj in manifests(render(chart, scenario_values(scenario))):
            if obj["kind"] == "HorizontalPodAutoscaler":
                for m in obj["spec"]["metrics"]:
                    if m["type"] == "Pods":
                        hpa_names.add(m["pods"]["metric"]["name"])
            if obj["kind"] == "ScaledObject":
                for t in obj["spec"]["triggers"]:
                    series |= set(NAME.findall(t["metadata"]["query"]))
    # the chart's default podsMetrics too
    for m in chart.values["autoscaling"]["podsMetrics"]:
        hpa_names.add(m["name"])
    return series, hpa_names


def test_hpa_metrics_are_served_by_the_adapter_rules(chart: helm.Chart) -> None:
    series, hpa_names = referenced_names(chart)
    served = {r["name"]["as"] for r in adapter_rules()}
    assert hpa_names and hpa_names <= served, (hpa_names, served)
    for rule in adapter_rules():
        # each rule reads the series it announces
        (announced,) = NAME.findall(rule["seriesQuery"])
        assert re.fullmatch(rule["name"]["matches"], announced)
        assert announced in rule["metricsQuery"]
        assert (
            "<<.LabelMatchers>>" in rule["metricsQuery"] and "<<.GroupBy>>" in rule["metricsQuery"]
        )
    assert {"isogate_executors_busy", "isogate_executors", "isogate_invocations_inflight"} <= series


@pytest.fixture(scope="module")
def live_gateway(
    chart: helm.Chart, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    base = tmp_path_factory.mktemp("helm-live")
    (cm,) = by_kind(manifests(render(chart, None)), "ConfigMap")
    config = base / "isogate.toml"
    config.write_text(cm["data"]["isogate.toml"])  # the chart's default settings file
    gw = GatewayProcess(
        base / "data",
        {
            "ISOGATE_CONFIG": str(config),
            "ISOGATE_RUNTIME__WORKERS": "1",
            "ISOGATE_RUNTIME__THREADS_PER_WORKER": "2",
        },
    )
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def _exported(text: str) -> dict[str, float]:
    """Sample name -> value (labels summed) of a text exposition."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m:
            out[m[1]] = out.get(m[1], 0.0) + float(m[3])
    return out


def test_metric_names_exist_in_live_metrics_under_load(
    chart: helm.Chart, live_gateway: GatewayProcess
) -> None:
    series, _ = referenced_names(chart)
    url = live_gateway.url
    with httpx.Client(base_url=url, timeout=60) as h:
        r = h.post(
            "/v1/tenants",
            json={"name": "helm-metrics", "password": "password-123"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert r.status_code == 201, r.text
        token = h.post(
            "/v1/auth/token", json={"name": "helm-metrics", "password": "password-123"}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        r = h.put("/v1/functions/spin", headers=auth, json={"code": SPIN})
        assert r.status_code == 201, r.text
        key = h.post("/v1/keys", headers=auth, json={"name": "load"}).json()["key"]
        assert h.get("/fn/spin", headers={"X-API-Key": key}).status_code == 200  # warm

        statuses: list[int] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                while not stop.is_set():
                    statuses.append(c.get("/fn/spin", headers={"X-API-Key": key}).status_code)

        threads = [threading.Thread(target=load) for _ in range(6)]
        for t in threads:
            t.start()
        peak: dict[str, float] = {}
        scrapes = []
        try:
            for _ in range(40):
                r = h.get("/metrics")
                assert r.status_code == 200
                scrapes.append(r.text)
                for name, value in _exported(r.text).items():
                    peak[name] = max(peak.get(name, 0.0), value)
                if peak.get("isogate_executors_busy", 0) > 0 and len(statuses) >= 12:
                    break
                stop.wait(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert statuses and all(s in (200, 503) for s in statuses), set(statuses)
    assert statuses.count(200) >= 6

    exported = set(peak)
    missing = sorted(series - exported)
    assert not missing, f"referenced by the chart but not in /metrics: {missing}"
    # under load the signals the autoscalers use actually move
    assert peak["isogate_executors"] >= 2
    assert peak["isogate_executors_busy"] > 0
    assert peak["isogate_invocations_inflight"] > 0
    assert peak["isogate_executors_busy"] <= peak["isogate_executors"]
    # the gateway runs with the chart's settings file (its values, not the defaults)
    assert Path(live_gateway.env["ISOGATE_CONFIG"]).is_file()
