"""Generate helm/isogate/values.schema.json (run: ``python helm/gen_schema.py``).

The schema rejects unknown keys everywhere (``additionalProperties: false``):

* the chart's own keys are declared below;
* ``config`` is derived from isogate's settings model (``isogate.config.Settings``), minus
  the settings the chart manages itself, so a misspelt isogate setting fails at
  ``helm install`` rather than at pod start;
* Kubernetes-typed values (resources, securityContext, affinity, ...) reuse the strict
  Kubernetes JSON schemas shipped by ``kubernetes-validate``.

Only labels/annotations/selector maps and KEDA's extra metadata are free-form maps (of
strings). ``tests/helm`` checks that the committed file equals this script's output.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

CHART = Path(__file__).resolve().parent / "isogate"
K8S_VERSION = "1.37.0"  # newest definitions kubernetes-validate ships (fields of newer clusters)

# Settings the chart sets itself (CLI flags, computed, or from the Secret / backend values).
MANAGED = {
    "host",
    "port",
    "data_dir",
    "admin_token",
    "jwt_secret",
    "secrets_master_key",
    "database_url",
    "redis_url",
    "shutdown_timeout_seconds",
    "s3_endpoint",
    "s3_bucket",
    "s3_region",
    "s3_prefix",
    "s3_access_key",
    "s3_secret_key",
    "metrics_token",  # a secret: set ISOGATE_METRICS_TOKEN from a Secret via extraEnv
}

K8S_ROOTS = {
    "resources": "io.k8s.api.core.v1.ResourceRequirements",
    "podSecurityContext": "io.k8s.api.core.v1.PodSecurityContext",
    "securityContext": "io.k8s.api.core.v1.SecurityContext",
    "affinity": "io.k8s.api.core.v1.Affinity",
    "toleration": "io.k8s.api.core.v1.Toleration",
    "topologySpreadConstraint": "io.k8s.api.core.v1.TopologySpreadConstraint",
    "envVar": "io.k8s.api.core.v1.EnvVar",
    "envFromSource": "io.k8s.api.core.v1.EnvFromSource",
    "localObjectReference": "io.k8s.api.core.v1.LocalObjectReference",
    "deploymentStrategy": "io.k8s.api.apps.v1.DeploymentStrategy",
    "hpaBehavior": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    "ingressTLS": "io.k8s.api.networking.v1.IngressTLS",
    "networkPolicyPeer": "io.k8s.api.networking.v1.NetworkPolicyPeer",
    "networkPolicyEgressRule": "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
}


def obj(props: dict[str, Any], description: str = "", **extra: Any) -> dict[str, Any]:
    """A closed object: only the listed keys."""
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if description:
        out["description"] = description
    out.update(extra)
    return out


def string_map(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": description,
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


S = {"type": "string"}
B = {"type": "boolean"}
I0 = {"type": "integer", "minimum": 0}
I1 = {"type": "integer", "minimum": 1}
QUANTITY = {"type": ["string", "integer"]}
INT_OR_PERCENT = {
    "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+%$"}]
}


# ------------------------------------------------------------------ isogate settings


def _strip(schema: Any, defs: dict[str, Any]) -> Any:
    """Pydantic's schema without titles/defaults, with nested models inlined."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _strip(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {
            k: _strip(v, defs)
            for k, v in schema.items()
            if k not in ("title", "default", "$defs", "format")
        }
    if isinstance(schema, list):
        return [_strip(v, defs) for v in schema]
    return schema


def config_schema() -> dict[str, Any]:
    sys.path.insert(0, str(CHART.parent.parent))
    from isogate.config.settings import Settings

    raw = Settings.model_json_schema()
    defs = raw.get("$defs", {})
    props = {
        name: _strip(spec, defs) for name, spec in raw["properties"].items() if name not in MANAGED
    }
    for spec in props.values():
        if spec.get("type") == "object":
            spec["additionalProperties"] = False
    return obj(
        props,
        "isogate settings written to the TOML file (README 'Settings'); the chart manages "
        + ", ".join(sorted(MANAGED)),
    )


# ------------------------------------------------------------------ Kubernetes types


def _k8s_defs() -> dict[str, Any]:
    import kubernetes_validate

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = base / f"v{K8S_VERSION}-local-strict" / "_definitions.json"
    all_defs = json.loads(path.read_text())["$defs"]
    wanted: dict[str, Any] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            r = node.get("$ref")
            if isinstance(r, str) and r.startswith("#/$defs/"):
                name = r.split("/")[-1]
                if name not in wanted:
                    wanted[name] = None
                    wanted[name] = _no_descriptions(all_defs[name])
                    visit(all_defs[name])
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit([ref(n) for n in K8S_ROOTS.values()])
    return dict(sorted(wanted.items()))


def _no_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _no_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_no_descriptions(v) for v in node]
    return copy.deepcopy(node)


def k8s(key: str, description: str) -> dict[str, Any]:
    return {**ref(K8S_ROOTS[key]), "description": description}


def k8s_list(key: str, description: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(K8S_ROOTS[key]), "description": description}


# ------------------------------------------------------------------ the chart's values


def values_schema() -> dict[str, Any]:
    secret_keys = obj(
        {
            k: {"type": "string", "minLength": 1}
            for k in (
                "jwtSecret",
                "adminToken",
                "databaseUrl",
                "redisUrl",
                "s3AccessKey",
                "s3SecretKey",
                "secretsMasterKey",
            )
        },
        "key names inside the Secret",
    )
    probe = {
        "initialDelaySeconds": I0,
        "periodSeconds": I1,
        "timeoutSeconds": I1,
        "failureThreshold": I1,
    }
    props: dict[str, Any] = {
        "replicaCount": {**I0, "description": "pods without autoscaling"},
        "image": obj(
            {
                "repository": {"type": "string", "minLength": 1},
                "tag": S,
                "digest": {"type": "string", "pattern": "^$|^sha256:[0-9a-f]{64}$"},
                "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
            }
        ),
        "imagePullSecrets": k8s_list("localObjectReference", "registry credentials"),
        "nameOverride": S,
        "fullnameOverride": S,
        "serviceAccount": obj(
            {
                "create": B,
                "name": S,
                "annotations": string_map("ServiceAccount annotations"),
                "automountServiceAccountToken": B,
            }
        ),
        "podAnnotations": string_map("pod annotations"),
        "podLabels": string_map("pod labels"),
        "config": config_schema(),
        "secrets": obj(
            {
                "jwtSecret": {
                    "type": "string",
                    "anyOf": [{"maxLength": 0}, {"minLength": 32}],
                    "description": "HS256 key, at least 32 bytes; empty: generated",
                },
                "adminToken": S,
                "secretsMasterKey": {
                    "type": "string",
                    "description": "master keyring of function secrets, ID:BASE64[,...]; "
                    "empty: generated",
                },
                "existingSecret": S,
                "existingSecretKeys": secret_keys,
            }
        ),
        "database": obj(
            {"enabled": B, "url": {"type": "string", "pattern": "^$|^postgresql(\\+\\w+)?://"}}
        ),
        "redis": obj({"enabled": B, "url": {"type": "string", "pattern": "^$|^(rediss?|unix)://"}}),
        "s3": obj(
            {
                "enabled": B,
                "endpoint": {"type": "string", "pattern": "^$|^https?://"},
                "bucket": S,
                "region": S,
                "prefix": S,
                "accessKey": S,
                "secretKey": S,
            }
        ),
        "extraEnv": k8s_list("envVar", "extra environment variables"),
        "extraEnvFrom": k8s_list("envFromSource", "extra envFrom sources"),
        "dataDir": obj(
            {
                "path": {"type": "string", "pattern": "^/"},
                "sizeLimit": QUANTITY,
                "existingClaim": S,
            }
        ),
        "tmpSizeLimit": QUANTITY,
        "service": obj(
            {
                "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "targetPort": {"type": "integer", "minimum": 1024, "maximum": 65535},
                "nodePort": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
                "annotations": string_map("Service annotations"),
            }
        ),
        "ingress": obj(
            {
                "enabled": B,
                "className": S,
                "annotations": string_map("Ingress annotations"),
                "hosts": {
                    "type": "array",
                    "items": obj(
                        {
                            "host": S,
                            "paths": {
                                "type": "array",
                                "minItems": 1,
                                "items": obj(
                                    {
                                        "path": {"type": "string", "pattern": "^/"},
                                        "pathType": {
                                            "enum": ["Prefix", "Exact", "ImplementationSpecific"]
                                        },
                                    },
                                    required=["path", "pathType"],
                                ),
                            },
                        },
                        required=["host", "paths"],
                    ),
                },
                "tls": k8s_list("ingressTLS", "TLS entries"),
            }
        ),
        "resources": k8s("resources", "container resources"),
        "probes": obj(
            {
                "liveness": obj(probe),
                "readiness": obj({k: v for k, v in probe.items() if k != "initialDelaySeconds"}),
                "startup": obj({"periodSeconds": I1, "failureThreshold": I1}),
            }
        ),
        "gracefulShutdown": obj(
            {
                "preStopSleepSeconds": I0,
                "drainSeconds": I0,
                "closeSeconds": I0,
                "terminationGracePeriodSeconds": {"type": ["integer", "null"], "minimum": 0},
            }
        ),
        "podSecurityContext": k8s("podSecurityContext", "pod securityContext"),
        "securityContext": k8s("securityContext", "container securityContext"),
        "autoscaling": obj(
            {
                "enabled": B,
                "minReplicas": I1,
                "maxReplicas": I1,
                "targetCPUUtilizationPercentage": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": 100,
                },
                "podsMetrics": {
                    "type": "array",
                    "items": obj(
                        {"name": {"type": "string", "minLength": 1}, "averageValue": QUANTITY},
                        required=["name", "averageValue"],
                    ),
                },
                "behavior": k8s("hpaBehavior", "HPA behavior"),
            }
        ),
        "keda": obj(
            {
                "enabled": B,
                "minReplicaCount": I0,
                "maxReplicaCount": I1,
                "pollingInterval": I1,
                "cooldownPeriod": I0,
                "prometheus": obj(
                    {
                        "serverAddress": {"type": "string", "pattern": "^https?://"},
                        "query": S,
                        "threshold": {"type": "string", "pattern": "^[0-9.]+$"},
                        "metricType": {"enum": ["Value", "AverageValue"]},
                        "extraMetadata": string_map("extra trigger metadata"),
                        "authenticationRef": S,
                    }
                ),
            }
        ),
        "serviceMonitor": obj(
            {
                "enabled": B,
                "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                "labels": string_map("ServiceMonitor labels"),
            }
        ),
        "networkPolicy": obj(
            {
                "enabled": B,
                "ingressFrom": k8s_list("networkPolicyPeer", "peers that may reach the gateway"),
                "allowDNS": B,
                "allowPublicEgress": B,
                "extraEgress": k8s_list("networkPolicyEgressRule", "further egress rules"),
            }
        ),
        "podDisruptionBudget": obj(
            {
                "enabled": B,
                "minAvailable": {"anyOf": [INT_OR_PERCENT, {"type": "null"}]},
                "maxUnavailable": INT_OR_PERCENT,
            }
        ),
        "updateStrategy": k8s("deploymentStrategy", "Deployment strategy"),
        "topologySpreadConstraints": k8s_list(
            "topologySpreadConstraint", "spread constraints (labelSelector added by the chart)"
        ),
        "nodeSelector": string_map("node selector"),
        "tolerations": k8s_list("toleration", "tolerations"),
        "affinity": k8s("affinity", "affinity"),
        "priorityClassName": S,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "isogate chart values",
        **obj(props),
        "$defs": _k8s_defs(),
    }


def render() -> str:
    return json.dumps(values_schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    (CHART / "values.schema.json").write_text(render())
    print(f"wrote {CHART / 'values.schema.json'}")
