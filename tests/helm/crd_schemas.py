"""Hand-written structural schemas of the two custom resources the chart renders.

kubernetes-validate ships only the built-in Kubernetes types. These schemas cover the
fields of ``monitoring.coreos.com/v1 ServiceMonitor`` (Prometheus Operator) and
``keda.sh/v1alpha1 ScaledObject`` (KEDA >= 2.7, trigger ``metricType``) that the chart
uses, closed with ``additionalProperties: false`` so a misspelt field fails. They are
written from the projects' API references, not generated from their CRDs.
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer"}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_META = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": _STR, "namespace": _STR, "labels": _LABELS, "annotations": _LABELS},
    "additionalProperties": False,
}


def _closed(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "required": required or [],
    }


_DURATION = {
    "type": "string",
    "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}

SERVICE_MONITOR = _closed(
    {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": _META,
        "spec": _closed(
            {
                "selector": _closed({"matchLabels": _LABELS}, ["matchLabels"]),
                "namespaceSelector": _closed(
                    {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": _STR}}
                ),
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed(
                        {
                            "port": _STR,
                            "path": _STR,
                            "scheme": {"enum": ["http", "https"]},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                        },
                        ["port"],
                    ),
                },
            },
            ["selector", "endpoints"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
)

_HPA_RULES = _closed(
    {
        "stabilizationWindowSeconds": _INT,
        "selectPolicy": {"enum": ["Max", "Min", "Disabled"]},
        "policies": {
            "type": "array",
            "items": _closed(
                {"type": {"enum": ["Pods", "Percent"]}, "value": _INT, "periodSeconds": _INT},
                ["type", "value", "periodSeconds"],
            ),
        },
    }
)

SCALED_OBJECT = _closed(
    {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": _META,
        "spec": _closed(
            {
                "scaleTargetRef": _closed(
                    {"apiVersion": _STR, "kind": _STR, "name": _STR}, ["name"]
                ),
                "pollingInterval": _INT,
                "cooldownPeriod": _INT,
                "minReplicaCount": _INT,
                "maxReplicaCount": _INT,
                "advanced": _closed(
                    {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": _closed(
                            {
                                "name": _STR,
                                "behavior": _closed(
                                    {"scaleUp": _HPA_RULES, "scaleDown": _HPA_RULES}
                                ),
                            }
                        ),
                    }
                ),
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed(
                        {
                            "type": _STR,
                            "name": _STR,
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "metadata": {"type": "object", "additionalProperties": _STR},
                            "authenticationRef": _closed({"name": _STR, "kind": _STR}, ["name"]),
                        },
                        ["type", "metadata"],
                    ),
                },
            },
            ["scaleTargetRef", "triggers"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
)

CRDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
}
