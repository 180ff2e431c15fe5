"""The Helm chart: lint and render with Helm's own engine, validate every manifest against
the Kubernetes schemas of each supported version, and check the schema, settings and
shutdown arithmetic the chart promises."""

from __future__ import annotations

import base64
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate.utils as kv
import pytest
import yaml

from isogate.config import load_settings

from .chartlib import (
    CHART,
    ROOT,
    SCENARIO_NAMES,
    by_kind,
    declared_kube_versions,
    manifests,
    render,
    scenario_values,
)
from .crd_schemas import CRDS

KUBE_VERSIONS = declared_kube_versions()


def test_kube_versions_offline() -> None:
    # Chart.yaml declares >=1.20 (1.20 is proven live by scripts/k8s-e2e.sh);
    # kubernetes-validate ships schemas from 1.25 on offline.
    assert KUBE_VERSIONS[0] == "1.25.0", KUBE_VERSIONS
    assert len(KUBE_VERSIONS) >= 5


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_lint(scenario: str) -> None:
    report = helm.lint(
        CHART, scenario_values(scenario), strict=True, kube_version="v" + KUBE_VERSIONS[0]
    )
    assert report["errors"] == [], report
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert serious == [], serious


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_manifests_validate(chart: helm.Chart, scenario: str) -> None:
    objs = manifests(render(chart, scenario_values(scenario)))
    kinds = {o["kind"] for o in objs}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount"} <= kinds
    for obj in objs:
        crd = CRDS.get((obj["apiVersion"], obj["kind"]))
        if crd is not None:
            jsonschema.validate(obj, crd)
            continue
        for version in KUBE_VERSIONS:
            try:
                kv.validate(obj, version, strict=True)
            except kv.ValidationError as exc:
                pytest.fail(f"{obj['kind']} {obj['metadata']['name']} on {version}: {exc}")


def test_scenarios_cover_the_issue(chart: helm.Chart) -> None:
    kinds_by_scenario = {
        s: {o["kind"] for o in manifests(render(chart, scenario_values(s)))} for s in SCENARIO_NAMES
    }
    every = set().union(*kinds_by_scenario.values())
    assert {
        "HorizontalPodAutoscaler",
        "ScaledObject",
        "ServiceMonitor",
        "Ingress",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Secret",
    } <= every
    # existingSecret: the chart makes no Secret of its own
    assert "Secret" not in kinds_by_scenario["existing-secret-values"]


# ------------------------------------------------------------------ values schema

TYPOS = [
    ({"replicaCoutn": 2}, "replicaCoutn"),
    ({"image": {"tagg": "x"}}, "tagg"),
    ({"config": {"runtime": {"wokers": 2}}}, "wokers"),
    ({"config": {"log_levle": "info"}}, "log_levle"),
    ({"config": {"log_level": "verbose"}}, "log_level"),
    ({"config": {"runtime": {"workers": 0}}}, "workers"),
    ({"config": {"data_dir": "/x"}}, "data_dir"),  # managed by the chart
    ({"autoscaling": {"minReplica": 1}}, "minReplica"),
    ({"resources": {"limit": {"cpu": 1}}}, "limit"),
    ({"securityContext": {"readOnlyRootFileSystem": True}}, "readOnlyRootFileSystem"),
    ({"secrets": {"jwtSecret": "too-short"}}, "jwtSecret"),
]


@pytest.mark.parametrize(("values", "word"), TYPOS, ids=[w for _, w in TYPOS])
def test_schema_rejects(chart: helm.Chart, values: dict[str, Any], word: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=word):
        chart.validate_schema(values)
    with pytest.raises(helm.HelmValuesError):
        render(chart, values)
    report = helm.lint(CHART, values)
    assert report["errors"], report


def test_schema_accepts_defaults_and_scenarios(chart: helm.Chart) -> None:
    for s in SCENARIO_NAMES:
        chart.validate_schema(scenario_values(s))


def test_schema_is_generated() -> None:
    """values.schema.json is `python helm/gen_schema.py` output: in step with Settings."""
    spec = importlib.util.spec_from_file_location("gen_schema", ROOT / "helm" / "gen_schema.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (CHART / "values.schema.json").read_text()
    assert gen.render() == current, "run: python helm/gen_schema.py"


def _closed_paths(schema: dict[str, Any], path: str = "") -> list[str]:
    """Dotted paths of the chart's own keys (list items flattened; Kubernetes types and
    free-form maps are not descended into)."""
    out: list[str] = []
    for key, sub in schema.get("properties", {}).items():
        p = f"{path}.{key}" if path else key
        out.append(p)
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            sub = sub["items"]
        if sub.get("type") == "object" and sub.get("additionalProperties") is False:
            out += _closed_paths(sub, p)
    return out


def test_every_value_is_commented() -> None:
    """Each key of values.yaml the chart declares has a comment line right above it."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    schema = yaml.safe_load((CHART / "values.schema.json").read_text())
    declared = set(_closed_paths(schema))
    stack: list[tuple[int, str]] = []
    missing = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(?:- )?([A-Za-z_][\w.-]*):(\s|$)", line)
        if not m:
            continue
        indent = len(m[1])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = f"{stack[-1][1]}.{m[2]}" if stack else m[2]
        stack.append((indent, path))
        if path not in declared:
            continue  # inside a Kubernetes type or a free-form map: its parent documents it
        above = lines[i - 1].strip() if i else ""
        if not (above.startswith("#") or above.startswith("- #")):
            missing.append(f"values.yaml:{i + 1}: {path}")
    assert missing == [], missing
    # the walk covers nested and list-item keys too
    assert {
        "replicaCount",
        "config.runtime.max_timeout_ms",
        "ingress.hosts.paths.pathType",
    } <= declared


# ------------------------------------------------------------------ settings and shutdown


def _pod_env(objs: list[dict[str, Any]]) -> dict[str, str]:
    """ISOGATE_* variables a pod would see (secret refs resolved from the rendered Secret)."""
    secrets = {o["metadata"]["name"]: o.get("data", {}) for o in by_kind(objs, "Secret")}
    (dep,) = by_kind(objs, "Deployment")
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
            continue
        ref = e["valueFrom"]["secretKeyRef"]
        data = secrets.get(ref["name"])
        if data is None:  # an existingSecret: stand in a plausible value
            env[e["name"]] = {
                "ISOGATE_DATABASE_URL": "postgresql://u:p@db/isogate",
                "ISOGATE_REDIS_URL": "redis://redis:6379/0",
                "ISOGATE_SECRETS_MASTER_KEY": "ext:" + base64.b64encode(b"k" * 32).decode(),
            }.get(e["name"], "x" * 40)
        else:
            env[e["name"]] = base64.b64decode(data[ref["key"]]).decode()
    return {k: v for k, v in env.items() if k.startswith("ISOGATE_")}


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_rendered_settings_load(
    chart: helm.Chart, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap's TOML plus the pod's env pass isogate's own settings validation."""
    objs = manifests(render(chart, scenario_values(scenario)))
    (cm,) = by_kind(objs, "ConfigMap")
    toml_text = cm["data"]["isogate.toml"]
    tomllib.loads(toml_text)
    path = tmp_path / "isogate.toml"
    path.write_text(toml_text)
    for k in [k for k in __import__("os").environ if k.startswith("ISOGATE_")]:
        monkeypatch.delenv(k)
    for k, v in _pod_env(objs).items():
        monkeypatch.setenv(k, v)
    (dep,) = by_kind(objs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[:3] == ["serve", "--host", "0.0.0.0"]
    assert args[args.index("--config") + 1] == "/etc/isogate/isogate.toml"
    settings = load_settings(path, host="0.0.0.0", data_dir=args[args.index("--data-dir") + 1])
    assert settings.jwt_secret is not None and len(settings.jwt_secret.get_secret_value()) >= 32
    values = chart.merge_values(scenario_values(scenario))
    assert settings.database_url is not None if values["database"]["enabled"] else True
    assert settings.redis_url is not None if values["redis"]["enabled"] else True
    assert (settings.s3_bucket is not None) == values["s3"]["enabled"]

    # Graceful shutdown sized to the longest function run.
    longest = settings.runtime.max_timeout_ms / 1000 + settings.runtime_grace_seconds
    assert settings.shutdown_timeout_seconds >= longest
    prestop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert prestop[0] == "sleep"
    assert (
        pod["terminationGracePeriodSeconds"] > int(prestop[1]) + settings.shutdown_timeout_seconds
    )


def test_longer_time_limit_longer_grace(chart: helm.Chart) -> None:
    def grace(ms: int) -> int:
        objs = manifests(render(chart, {"config": {"runtime": {"max_timeout_ms": ms}}}))
        return by_kind(objs, "Deployment")[0]["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]

    assert grace(120_000) - grace(30_000) == 90


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_pod_hardening(chart: helm.Chart, scenario: str) -> None:
    objs = manifests(render(chart, scenario_values(scenario)))
    (dep,) = by_kind(objs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    data_dir = c["args"][c["args"].index("--data-dir") + 1]
    assert data_dir in mounts and "/tmp" in mounts  # writable despite the read-only root
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert (
        "emptyDir" in volumes[mounts[data_dir]]
        or "persistentVolumeClaim" in volumes[mounts[data_dir]]
    )
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["requests"]
    assert "checksum/config" in dep["spec"]["template"]["metadata"]["annotations"]
    for t in pod["topologySpreadConstraints"]:
        assert t["labelSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]


def test_config_change_rolls_pods(chart: helm.Chart) -> None:
    def checksum(values: dict[str, Any] | None) -> str:
        dep = by_kind(manifests(render(chart, values)), "Deployment")[0]
        return dep["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    assert checksum(None) == checksum(None)
    assert checksum(None) != checksum({"config": {"runtime": {"workers": 3}}})


REFUSED = [
    ({"replicaCount": 2}, "needs database.enabled, redis.enabled and s3.enabled"),
    ({"autoscaling": {"enabled": True}}, "needs database.enabled"),
    ({"keda": {"enabled": True}}, "needs database.enabled"),
    ({"database": {"enabled": True}}, "database.enabled needs database.url"),
    ({"s3": {"enabled": True, "bucket": "b"}}, "s3.enabled needs s3.endpoint"),
    (
        {"secrets": {"existingSecret": "mine", "adminToken": "inline"}},
        "put the JWT key, admin token",
    ),
]


@pytest.mark.parametrize(("values", "message"), REFUSED, ids=[m[:30] for _, m in REFUSED])
def test_refuses_unsafe_values(chart: helm.Chart, values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=re.escape(message)):
        render(chart, values)


def test_hpa_and_keda_are_exclusive(chart: helm.Chart) -> None:
    values = scenario_values("autoscaling-values")
    assert values is not None
    values["keda"] = {"enabled": True}
    with pytest.raises(helm.HelmRenderError, match="mutually exclusive"):
        render(chart, values)


def test_single_replica_embedded_warns(chart: helm.Chart) -> None:
    notes = render(chart, None)["isogate/templates/NOTES.txt"]
    assert "WARNING: embedded backends" in notes
    assert "isogate tenant create" in notes and "port-forward" in notes
    notes = render(chart, scenario_values("external-backends-values"))[
        "isogate/templates/NOTES.txt"
    ]
    assert "WARNING" not in notes


def test_autoscaling_objects(chart: helm.Chart) -> None:
    objs = manifests(render(chart, scenario_values("autoscaling-values")))
    (hpa,) = by_kind(objs, "HorizontalPodAutoscaler")
    (dep,) = by_kind(objs, "Deployment")
    assert "replicas" not in dep["spec"]  # the HPA owns the replica count
    types = [m["type"] for m in hpa["spec"]["metrics"]]
    assert types[0] == "Resource" and "Pods" in types
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    objs = manifests(render(chart, scenario_values("keda-values")))
    (so,) = by_kind(objs, "ScaledObject")
    assert not by_kind(objs, "HorizontalPodAutoscaler")
    query = so["spec"]["triggers"][0]["metadata"]["query"]
    assert "isogate_executors_busy" in query and 'namespace="edge"' in query


def test_package(chart: helm.Chart, tmp_path: Path) -> None:
    """`helm package` equivalent: the archive loads and leaves out the ci/ scenarios."""
    archive = chart.save(tmp_path)
    data = Path(archive).read_bytes()
    with helm.Chart.load_archive(data) as packaged:
        names = [f["name"] for f in packaged.files]
        assert "examples/prometheus-adapter-values.yaml" in names
        assert not [n for n in names if n.startswith("ci/")]
        assert packaged.metadata["kubeVersion"] == ">=1.20.0-0"
        manifests(render(packaged, None))


def test_api_versions_from_capabilities(chart: helm.Chart) -> None:
    """Offline (Helm's default capabilities) the GA versions are chosen; the beta branch
    (autoscaling/v2beta2, policy/v1beta1) is what a v1.20 cluster gets, proven live by
    scripts/k8s-e2e.sh."""
    objs = manifests(render(chart, scenario_values("autoscaling-values")))
    (hpa,) = by_kind(objs, "HorizontalPodAutoscaler")
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert pdb["apiVersion"] == "policy/v1"
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert 'Has "autoscaling/v2" -}}autoscaling/v2{{- else -}}autoscaling/v2beta2' in helpers
    assert 'Has "policy/v1" -}}policy/v1{{- else -}}policy/v1beta1' in helpers


def test_network_policy(chart: helm.Chart) -> None:
    assert not by_kind(manifests(render(chart, None)), "NetworkPolicy")
    objs = manifests(render(chart, scenario_values("external-backends-values")))
    (np,) = by_kind(objs, "NetworkPolicy")
    (dep,) = by_kind(objs, "Deployment")
    spec = np["spec"]
    assert spec["podSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    (dns, public, backends) = spec["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    v4 = public["to"][0]["ipBlock"]
    assert v4["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(v4["except"])
    assert [p["port"] for p in backends["ports"]] == [5432, 6379, 9000]
    # nothing allowed: an empty egress list (deny all), not a missing one
    objs = manifests(
        render(
            chart,
            {"networkPolicy": {"enabled": True, "allowDNS": False, "allowPublicEgress": False}},
        )
    )
    (np,) = by_kind(objs, "NetworkPolicy")
    assert np["spec"]["egress"] == []
