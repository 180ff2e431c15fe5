"""Checks of scripts/k8s-e2e.sh against isogate running on the cluster it built.

Standard library only, except ``helm`` (helm-python-sdk, installed by the shell script
into its cached virtualenv). Every request goes to a Service ClusterIP of that cluster
(reached through kube-proxy's rules on this machine) and nowhere else.

    python k8s_e2e.py helm install|upgrade KUBECONFIG CHART RELEASE NAMESPACE VALUES_JSON
    python k8s_e2e.py embedded BASE_URL ADMIN_TOKEN
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

FUNCTION_JS = """export default {
  async fetch(request) {
    return new Response("hello from " + new URL(request.url).pathname);
  },
};
"""


def call(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One HTTP request; returns (status, body) for any HTTP answer."""
    data = None
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
        hdrs.setdefault("Content-Type", "application/javascript")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def expect(what: str, status: int, body: bytes, want: int) -> Any:
    """Fail loudly unless ``status`` is ``want``; return the parsed JSON body if any."""
    if status != want:
        raise SystemExit(f"FAIL {what}: HTTP {status} (want {want}): {body[:300]!r}")
    try:
        return json.loads(body)
    except ValueError:
        return body


def wait_healthy(base: str, seconds: float = 120.0) -> None:
    """Poll /healthz through the Service until it answers 200."""
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            status, body = call("GET", f"{base}/healthz", timeout=3)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(1)
    raise SystemExit(f"FAIL /healthz through the Service: {last}")


def tenant_with_function(
    base: str, admin_token: str, tenant: str, function: str, key_body: dict | None = None
) -> tuple[str, str]:
    """Create a tenant, deploy ``function`` and make a key; return (login token, key)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    password = "e2e-password-" + tenant
    s, b = call("POST", f"{base}/v1/tenants", {"name": tenant, "password": password}, admin)
    expect("create tenant", s, b, 201)
    s, b = call("POST", f"{base}/v1/auth/token", {"name": tenant, "password": password})
    token = expect("login", s, b, 200)["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    s, b = call("PUT", f"{base}/v1/functions/{function}", FUNCTION_JS, auth)
    expect("deploy", s, b, 201)
    s, b = call("POST", f"{base}/v1/keys", key_body or {"name": "e2e"}, auth)
    key = expect("create key", s, b, 201)["key"]
    return token, key


def embedded(base: str, admin_token: str) -> None:
    """Item 2: /healthz, then tenant + deploy + keyed invoke through the Service."""
    wait_healthy(base)
    _, key = tenant_with_function(base, admin_token, "e2e-embedded", "hello")
    s, b = call("GET", f"{base}/fn/hello/world", headers={"X-API-Key": key})
    expect("invoke with key", s, b, 200)
    if b != b"hello from /world":
        raise SystemExit(f"FAIL invoke body: {b!r}")
    s, b = call("GET", f"{base}/fn/hello/world")
    expect("invoke without key", s, b, 401)
    print("embedded: /healthz 200, tenant created, function deployed, keyed call 200, "
          "unkeyed call 401")


def helm_cmd(op: str, kubeconfig: str, chart: str, release: str, namespace: str,
             values_json: str) -> None:
    """helm install/upgrade with helm-python-sdk, waiting for the rollout."""
    import helm_python as helm

    values = json.loads(values_json)
    with helm.Config(kubeconfig_path=kubeconfig, namespace=namespace) as cfg:
        if op == "uninstall":
            cfg.uninstall(release, wait="watcher", timeout=300)
            print(f"helm uninstall: {release}")
            return
        if op == "install":
            rel = cfg.install(chart, release, values, namespace=namespace, wait="watcher",
                              timeout=600, create_namespace=True)
        else:
            rel = cfg.upgrade(chart, release, values, namespace=namespace, wait="watcher",
                              timeout=600)
    print(f"helm {op}: {release} revision {rel['revision']} {rel['status']}")


def main(argv: list[str]) -> None:
    """Dispatch the sub-command named in ``argv[0]``."""
    cmd, args = argv[0], argv[1:]
    if cmd == "helm":
        helm_cmd(*args)
    elif cmd == "embedded":
        embedded(*args)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
