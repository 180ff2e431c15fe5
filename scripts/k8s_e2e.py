"""Checks of scripts/k8s-e2e.sh against isogate running on the cluster it built.

Standard library only, except ``helm`` (helm-python-sdk, installed by the shell script
into its cached virtualenv). Every request goes to a Service ClusterIP of that cluster
(reached through kube-proxy's rules on this machine) and nowhere else.

    python k8s_e2e.py helm install|upgrade|uninstall KUBECONFIG CHART RELEASE NAMESPACE VALUES
    python k8s_e2e.py embedded BASE_URL ADMIN_TOKEN
    python k8s_e2e.py shape BASE_URL ADMIN_TOKEN POD_URLS QUOTA_N PROPAGATION_S
    python k8s_e2e.py setup-load BASE_URL ADMIN_TOKEN TENANT USES
    python k8s_e2e.py load BASE_URL KEY FUNCTION RATE STOP_FILE OUT_FILE [TENANT] [MAX_SECONDS]
    python k8s_e2e.py verify-writes BASE_URL KEY TENANT RESULT_FILE USES
    python k8s_e2e.py render-live KUBECONFIG CHART RELEASE NAMESPACE VALUES OUT_FILE
    python k8s_e2e.py check-accepted SENT_JSON ACCEPTED_JSON KINDS
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
            status, _ = call("GET", f"{base}/healthz", timeout=3)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(1)
    raise SystemExit(f"FAIL /healthz through the Service: {last}")


def tenant_with_function(
    base: str,
    admin_token: str,
    tenant: str,
    function: str,
    key_body: dict | None = None,
    existing_ok: bool = False,
) -> tuple[str, str]:
    """Create a tenant, deploy ``function`` and make a key; return (login token, key)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    password = "e2e-password-" + tenant
    s, b = call("POST", f"{base}/v1/tenants", {"name": tenant, "password": password}, admin)
    if not (s == 409 and existing_ok):  # a rerun against a kept cluster (debugging)
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
    print(
        "embedded: /healthz 200, tenant created, function deployed, keyed call 200, "
        "unkeyed call 401"
    )


def pod_invocations(pod_url: str) -> float:
    """Sum of ``isogate_invocations_total`` on one pod's /metrics (pod IP, port 8000)."""
    s, b = call("GET", f"{pod_url}/metrics")
    expect("pod /metrics", s, b, 200)
    total = 0.0
    for line in b.decode().splitlines():
        if line.startswith("isogate_invocations_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def shape(base: str, admin_token: str, pod_urls_csv: str, quota_n: str, propagation_s: str) -> None:
    """Item 3: exactly-N quota across replicas, deploy on one pod served by the other."""
    pods = pod_urls_csv.split(",")
    n = int(quota_n)
    if len(pods) < 2:
        raise SystemExit(f"FAIL want two or more replicas, have {pods}")
    wait_healthy(base)
    _, key = tenant_with_function(
        base, admin_token, "e2e-shape", "hello", {"name": "quota", "uses": n}
    )
    before = [pod_invocations(p) for p in pods]
    codes: dict[int, int] = {}
    for _ in range(n + 10):
        s, b = call("GET", f"{base}/fn/hello/q", headers={"X-API-Key": key})
        codes[s] = codes.get(s, 0) + 1
    served = [pod_invocations(p) - b0 for p, b0 in zip(pods, before, strict=True)]
    if codes.get(200) != n or sum(codes.values()) - codes.get(200, 0) != 10:
        raise SystemExit(f"FAIL quota of {n} over the Service: answers {codes}")
    if sum(1 for x in served if x > 0) < 2:
        raise SystemExit(f"FAIL calls were not spread over the replicas: {served}")
    print(
        f"shape: quota uses={n} over the Service allowed exactly {codes.get(200)} "
        f"({codes}); served per pod {[int(x) for x in served]}"
    )

    # A deploy on one replica, served by another within the documented time.
    _, key2 = tenant_with_function(base, admin_token, "e2e-prop", "prop")
    auth2 = _login(base, "e2e-prop")
    for p in pods:  # warm the other replicas' caches with version 1
        s, b = call("GET", f"{p}/fn/prop/x", headers={"X-API-Key": key2})
        expect("invoke v1 on a pod", s, b, 200)
    new_js = FUNCTION_JS.replace("hello from ", "v2 from ")
    s, b = call("PUT", f"{pods[0]}/v1/functions/prop", new_js, auth2)
    expect("deploy v2 on pod 0", s, b, 201)
    t0 = time.monotonic()
    limit = float(propagation_s)
    for other in pods[1:]:
        while True:
            s, b = call("GET", f"{other}/fn/prop/x", headers={"X-API-Key": key2})
            if s == 200 and b.startswith(b"v2 from"):
                break
            if time.monotonic() - t0 > limit:
                raise SystemExit(f"FAIL deploy on pod 0 not served by {other} within {limit}s")
            time.sleep(0.02)
    took = time.monotonic() - t0
    print(
        f"shape: deploy on one replica served by the other after {took * 1000:.0f} ms "
        f"(documented: under {limit:g} s)"
    )


def setup_load(base: str, admin_token: str, tenant: str, uses: str) -> None:
    """Tenant + function + key (``uses`` calls) for a load run; prints the key on stdout.

    The function is named after the tenant: function names are unique across tenants.
    """
    _, key = tenant_with_function(
        base,
        admin_token,
        tenant,
        tenant,
        {"name": "load", "uses": int(uses), "rate_limit": {"requests": 100000, "per_seconds": 60}},
        existing_ok=True,
    )
    print(key)


def load(
    base: str,
    key: str,
    fn: str,
    rate: str,
    stop_file: str,
    out_file: str,
    tenant: str = "",
    max_seconds: str = "600",
) -> None:
    """Call the function at a steady ``rate`` per second until ``stop_file`` exists.

    Every call is a new connection through the Service (kube-proxy picks a pod each
    time). With ``tenant`` set, every 50th tick also makes an accepted write (a deploy and
    a new key) whose result is recorded, so that the pod-kill check can look for it
    afterwards. Results go to ``out_file`` as JSON. Bounded: ``max_seconds`` at most.
    """
    import os

    period = 1.0 / float(rate)
    sent = failed = ok = 0
    failures: list[str] = []
    writes: dict[str, list] = {"versions": [], "keys": []}
    auth = _login(base, tenant) if tenant else {}
    t0 = next_t = time.monotonic()
    tick = 0
    while not os.path.exists(stop_file) and time.monotonic() - t0 < float(max_seconds):
        tick += 1
        sent += 1
        try:
            s, b = call("GET", f"{base}/fn/{fn}/x", headers={"X-API-Key": key}, timeout=10)
            if s == 200:
                ok += 1
            else:
                failed += 1
                failures.append(f"HTTP {s} {b[:120]!r}")
        except OSError as exc:
            failed += 1
            failures.append(repr(exc)[:160])
        if tenant and tick % 50 == 0:  # under max_deploys_per_minute
            try:
                js = FUNCTION_JS.replace("hello from ", f"w{tick} from ")
                s, b = call("PUT", f"{base}/v1/functions/{fn}", js, auth, timeout=30)
                if s == 201:
                    writes["versions"].append(json.loads(b)["version"])
                s, b = call("POST", f"{base}/v1/keys", {"name": f"k{tick}"}, auth, timeout=30)
                if s == 201:
                    writes["keys"].append(json.loads(b)["id"])
            except OSError:
                pass  # a write that was not acknowledged is not an accepted write
        next_t += period
        time.sleep(max(0.0, next_t - time.monotonic()))
    result = {
        "sent": sent,
        "ok": ok,
        "failed": failed,
        "failures": failures[:20],
        "seconds": round(time.monotonic() - t0, 1),
        "writes": writes,
    }
    with open(out_file, "w") as f:
        json.dump(result, f)


def verify_writes(base: str, key: str, tenant: str, result_file: str, uses: str) -> None:
    """After a pod kill: every acknowledged deploy and key exists; usage was kept."""
    with open(result_file) as f:
        result = json.load(f)
    auth = _login(base, tenant)
    s, b = call("GET", f"{base}/v1/functions/{tenant}", headers=auth)
    meta = expect("function metadata", s, b, 200)
    have = {v["version"] if isinstance(v, dict) else v for v in meta["versions"]}
    kept = result["writes"]["versions"][-15:]  # the function keeps its newest 20 versions
    missing = [v for v in kept if v not in have]
    s, b = call("GET", f"{base}/v1/keys", headers=auth)
    ids = {k["id"] for k in expect("list keys", s, b, 200)["keys"]}
    missing_keys = [k for k in result["writes"]["keys"] if k not in ids]
    if missing or missing_keys:
        raise SystemExit(f"FAIL accepted writes lost: versions {missing}, keys {missing_keys}")
    # Usage: the key allows `uses` calls in all; the load's successes were counted, so
    # exactly uses - ok more succeed (fewer only if a failed in-flight call was counted).
    more = 0
    for _ in range(int(uses) + 5):
        s, b = call("GET", f"{base}/fn/{tenant}/x", headers={"X-API-Key": key})
        if s != 200:
            break
        more += 1
    total = result["ok"] + more
    if total > int(uses) or total < int(uses) - result["failed"]:
        raise SystemExit(
            f"FAIL usage: {result['ok']} + {more} successful calls with a key "
            f"of {uses} uses ({result['failed']} failed during the kill)"
        )
    print(
        f"podkill: {len(result['writes']['versions'])} deploys and "
        f"{len(result['writes']['keys'])} keys acknowledged, none lost; usage kept "
        f"({result['ok']} + {more} = {total} of {uses} uses)"
    )


def _login(base: str, tenant: str) -> dict[str, str]:
    s, b = call(
        "POST", f"{base}/v1/auth/token", {"name": tenant, "password": "e2e-password-" + tenant}
    )
    return {"Authorization": f"Bearer {expect('login', s, b, 200)['access_token']}"}


def helm_cmd(
    op: str, kubeconfig: str, chart: str, release: str, namespace: str, values_json: str
) -> None:
    """helm install/upgrade with helm-python-sdk, waiting for the rollout."""
    import helm_python as helm

    values = json.loads(values_json)
    with helm.Config(kubeconfig_path=kubeconfig, namespace=namespace) as cfg:
        if op == "uninstall":
            cfg.uninstall(release, wait="watcher", timeout=300)
            print(f"helm uninstall: {release}")
            return
        if op == "install":
            rel = cfg.install(
                chart,
                release,
                values,
                namespace=namespace,
                wait="watcher",
                timeout=600,
                create_namespace=True,
            )
        else:
            rel = cfg.upgrade(
                chart, release, values, namespace=namespace, wait="watcher", timeout=600
            )
    print(f"helm {op}: {release} revision {rel['revision']} {rel['status']}")


def render_live(
    kubeconfig: str, chart: str, release: str, namespace: str, values_json: str, out_file: str
) -> None:
    """Render the chart with the live cluster's capabilities (a server dry-run install:
    Helm reads the API versions by discovery) and write the manifest to ``out_file``."""
    import helm_python as helm

    with helm.Config(kubeconfig_path=kubeconfig, namespace=namespace) as cfg:
        rel = cfg.install(
            chart, release, json.loads(values_json), namespace=namespace, dry_run="server"
        )
    with open(out_file, "w") as f:
        f.write(rel["manifest"])


def _objects(path: str) -> list[dict[str, Any]]:
    """Objects in kubectl's JSON output (one object, a List, or several documents)."""
    with open(path) as f:
        text = f.read()
    dec = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, i = dec.raw_decode(text, i)
        out += obj["items"] if obj.get("kind") == "List" else [obj]
    return out


def check_accepted(sent_json: str, accepted_json: str, kinds: str) -> None:
    """Item 6: every object of ``kinds`` was accepted by the API server, nothing pruned.

    ``sent_json`` is the manifest as kubectl parsed it (client dry-run), ``accepted_json``
    the objects the API server returned from a server-side dry-run create.
    """
    sent = {(o["kind"], o["metadata"]["name"]): o for o in _objects(sent_json)}
    got = {(o["kind"], o["metadata"]["name"]): o for o in _objects(accepted_json)}
    report = []
    for kind in kinds.split(","):
        names = [k for k in sent if k[0] == kind]
        if not names:
            raise SystemExit(f"FAIL the chart rendered no {kind}")
        for key in names:
            if key not in got:
                raise SystemExit(f"FAIL {kind} {key[1]} not accepted by the API server")
            if sent[key]["apiVersion"] != got[key]["apiVersion"]:
                raise SystemExit(
                    f"FAIL {kind}: sent {sent[key]['apiVersion']}, stored {got[key]['apiVersion']}"
                )
            if kind == "ServiceMonitor" and got[key]["spec"] != sent[key]["spec"]:
                raise SystemExit(
                    f"FAIL ServiceMonitor fields pruned by the CRD schema: "
                    f"sent {sent[key]['spec']}, kept {got[key]['spec']}"
                )
            report.append(f"{kind} {sent[key]['apiVersion']}")
    print("fit: accepted by the API server (server-side dry run): " + ", ".join(report))


def main(argv: list[str]) -> None:
    """Dispatch the sub-command named in ``argv[0]``."""
    cmd, args = argv[0], argv[1:]
    if cmd == "helm":
        helm_cmd(*args)
    elif cmd == "embedded":
        embedded(*args)
    elif cmd == "shape":
        shape(*args)
    elif cmd == "setup-load":
        setup_load(*args)
    elif cmd == "load":
        load(*args)
    elif cmd == "verify-writes":
        verify_writes(*args)
    elif cmd == "render-live":
        render_live(*args)
    elif cmd == "check-accepted":
        check_accepted(*args)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
