"""Rendering helpers for the chart tests (Helm's own engine through helm_python)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate.utils as kv
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "isogate"
SCENARIOS = sorted((CHART / "ci").glob("*.yaml"))
RELEASE = "demo"
NAMESPACE = "edge"


def scenario_values(name: str) -> dict[str, Any] | None:
    """Values of a scenario: ``default`` (the chart's own) or a file in ci/."""
    if name == "default":
        return None
    return yaml.safe_load((CHART / "ci" / f"{name}.yaml").read_text())


SCENARIO_NAMES = ["default", *(p.stem for p in SCENARIOS)]


def render(chart: helm.Chart, values: dict[str, Any] | None) -> dict[str, str]:
    """Template path -> rendered text (NOTES.txt included)."""
    return chart.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def manifests(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object of a rendering (NOTES.txt and empty documents skipped)."""
    out: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        out += [d for d in yaml.safe_load_all(text) if d]
    return out


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def declared_kube_versions() -> list[str]:
    """The versions kubernetes-validate ships offline that the chart's kubeVersion allows.

    Chart.yaml declares a lower bound (``>=1.20.0-0``); every newer shipped minor counts.
    """
    constraint = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)\.\d+(-0)?", constraint.strip())
    assert m, f"unexpected kubeVersion constraint {constraint!r}"
    low = (int(m[1]), int(m[2]))
    versions = []
    for v in sorted(set(kv.all_versions()), key=lambda s: tuple(int(x) for x in s.split("."))):
        major, minor = (int(x) for x in v.split(".")[:2])
        if (major, minor) >= low:
            versions.append(v)
    return versions
