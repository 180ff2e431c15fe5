"""Route takeover across tenants (issue 15 part 1, issue 24 item 4) on a real gateway.

Tenant A serves a shop; tenant B, hostile, tries to claim patterns that would catch some
of A's clients' requests (and read their API keys), in both orders, by host and by path.
Every try is refused with a 409 problem that names patterns only. A header-echo function
never sees a consumed API key, whatever route shape reaches it; the gateway's identity
headers cannot be forged. The operator's paths and hostnames are not the tenants' to take.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

from .conftest import RELAXED

PASSWORD = "password-123"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}

#: Echoes everything it was given: what a hostile function would harvest.
ECHO_ALL = """
export default {
  async fetch(req) {
    const headers = {};
    for (const [k, v] of req.headers) headers[k] = v;
    return new Response(JSON.stringify({ url: req.url, headers }), {
      headers: { "content-type": "application/json" },
    });
  },
};
"""


@dataclass
class Tenant:
    name: str
    auth: dict[str, str]
    key: str
    key_id: str


def _tenant(http: httpx.Client, name: str) -> Tenant:
    creds = {"name": name, "password": PASSWORD}
    assert http.post("/v1/tenants", json=creds, headers=ADMIN_H).status_code == 201
    token = http.post("/v1/auth/token", json=creds).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    k = http.post("/v1/keys", headers=auth, json={"name": "k"}).json()
    return Tenant(name, auth, k["key"], k["id"])


grants: list[httpx.Response] = []


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[httpx.Client, Tenant, Tenant]]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        gw = GatewayProcess(Path(tmp) / "data", dict(RELAXED))
        gw.start()
        try:
            with httpx.Client(base_url=gw.url, timeout=30) as http:
                a, b = _tenant(http, "shop-a"), _tenant(http, "evil-b")
                # both may claim host-less patterns (the hard case); each has a hostname.
                # Answers are checked in test_operator_grants, so that on a gateway
                # without ownership the attacks below fail for their own reasons.
                grants.clear()
                for t in (a, b):
                    grants.append(http.put(f"/v1/admin/hostless-grants/{t.name}", headers=ADMIN_H))
                for host, t in (("shop.example", a), ("evil.example", b)):
                    grants.append(
                        http.put(
                            f"/v1/admin/hosts/{host}", headers=ADMIN_H, json={"tenant": t.name}
                        )
                    )
                yield http, a, b
        finally:
            assert gw.stop() == 0, gw.log.read_text()[-3000:]


def test_operator_grants(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    assert [r.status_code for r in grants] == [201] * 4, [r.text for r in grants]


def _deploy(http: httpx.Client, t: Tenant, name: str, routes: list[str], public: bool = True):
    body = {"code": ECHO_ALL, "routes": routes, "public": public}
    return http.put(f"/v1/functions/{name}", headers=t.auth, json=body)


def _conflict(r: httpx.Response, a: Tenant, pattern: str) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["type"].endswith("/route-conflict") and doc["status"] == 409
    assert doc["pattern"] == pattern
    # names patterns only: never the other tenant or its function
    assert a.name not in r.text and "shop-fn" not in r.text and "shop-api" not in r.text


def test_narrow_after_broad_is_refused(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    http, a, b = world
    assert _deploy(http, a, "shop-fn", ["shop.example/app/*", "/api/*"]).status_code == 201
    for pattern in ("/app/checkout", "/app/*", "/api/login", "/api/*", "/api", "/api/x/*"):
        _conflict(_deploy(http, b, "evil-narrow", [pattern]), a, pattern)
    # on A's hostname B may claim nothing at all
    r = _deploy(http, b, "evil-narrow", ["shop.example/app/checkout"])
    assert r.status_code == 403 and r.json()["type"].endswith("/route-not-allowed")
    # nor hidden among patterns it may claim
    r = _deploy(http, b, "evil-narrow", ["evil.example/ok", "/api/login"])
    _conflict(r, a, "/api/login")
    # and A's clients still reach A: no pattern of B was stored
    r = http.get("/api/login", headers={"X-API-Key": a.key})
    assert r.status_code == 200 and "/api/login" in r.json()["url"]
    r = http.get("/app/checkout", headers={"Host": "shop.example"})
    assert r.status_code == 200 and "/app/checkout" in r.json()["url"]


def test_broad_after_narrow_is_refused(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    http, a, b = world
    assert (
        _deploy(http, a, "shop-api", ["/v2/orders/list", "shop.example/v3/pay"]).status_code == 201
    )
    for pattern in ("/v2/*", "/v2/orders/*", "/v2/orders/list", "/v3/*", "evil.example/v2/*"):
        _conflict(_deploy(http, b, "evil-broad", [pattern]), a, pattern)
    # a host pattern of B cannot overlap: shop.example is not B's to claim at all
    r = _deploy(http, b, "evil-broad", ["shop.example/v3/*"])
    assert r.status_code == 403 and r.json()["type"].endswith("/route-not-allowed")
    # disjoint patterns are fine
    assert _deploy(http, b, "evil-broad", ["/v20/*", "evil.example/shop/*"]).status_code == 201


def test_rollback_cannot_reclaim(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    """B's old version with a now-taken pattern cannot be rolled back into service."""
    http, a, b = world
    assert _deploy(http, b, "evil-old", ["/later/*"]).status_code == 201
    assert _deploy(http, b, "evil-old", []).status_code == 201
    assert _deploy(http, a, "shop-later", ["/later/*"]).status_code == 201
    r = http.post("/v1/functions/evil-old/rollback", headers=b.auth, json={"version": 1})
    _conflict(r, a, "/later/*")


def test_operator_sees_who_holds_a_pattern(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    http, a, _b = world
    assert _deploy(http, a, "shop-seen", ["/seen/*"]).status_code == 201
    assert http.get("/v1/admin/routes", params={"pattern": "/seen/x"}).status_code == 401
    r = http.get("/v1/admin/routes", params={"pattern": "/seen/x"}, headers=ADMIN_H)
    assert r.status_code == 200
    assert r.json()["holders"] == [
        {"pattern": "/seen/*", "tenant": a.name, "function": "shop-seen"}
    ]


def test_same_tenant_may_nest_and_move(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    http, a, _b = world
    assert _deploy(http, a, "own-broad", ["/own/*"]).status_code == 201
    assert _deploy(http, a, "own-narrow", ["/own/special"]).status_code == 201
    assert "/own/special" in http.get("/own/special").json()["url"]
    # most specific wins within one tenant
    fn = http.get("/v1/functions/own-narrow", headers=a.auth).json()
    assert fn["routes"] == ["/own/special"]
    # a pattern moves from one of A's functions to another in one deploy
    assert _deploy(http, a, "own-mover", ["/own/*"]).status_code == 201
    r = http.get("/v1/admin/routes", params={"pattern": "/own/*"}, headers=ADMIN_H)
    assert {h["function"] for h in r.json()["holders"]} == {"own-mover", "own-narrow"}


@pytest.mark.parametrize(
    "pattern",
    [
        "/.well-known/acme-challenge/*",
        "/.well-known/security.txt",
        "shop.example/.well-known/*",
        "/",
        "/*",
    ],
)
def test_operator_paths_are_reserved(
    world: tuple[httpx.Client, Tenant, Tenant], pattern: str
) -> None:
    http, a, _b = world
    r = _deploy(http, a, "shop-root", [pattern])
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-route"), r.text


def test_well_known_never_reaches_a_tenant(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    """Even a tenant's own whole-host pattern does not answer ACME challenges there."""
    http, a, b = world
    # a whole-host pattern overlaps every host-less one: B gives up its last one first
    assert _deploy(http, b, "evil-broad", ["evil.example/shop/*"]).status_code == 201
    r = http.put("/v1/admin/hosts/www.shop.example", headers=ADMIN_H, json={"tenant": a.name})
    assert r.status_code == 201, r.text
    assert _deploy(http, a, "shop-www", ["www.shop.example/*"]).status_code == 201
    host = {"Host": "www.shop.example"}
    assert http.get("/anything", headers=host).status_code == 200
    r = http.get("/.well-known/acme-challenge/token", headers=host)
    assert r.status_code == 404 and "problem+json" in r.headers["content-type"]


def test_hostnames_and_hostless_need_the_operator(
    world: tuple[httpx.Client, Tenant, Tenant],
) -> None:
    http, _a, b = world
    r = _deploy(http, b, "evil-host", ["gateway.operator.example/*"])
    assert r.status_code == 403 and r.json()["type"].endswith("/route-not-allowed")
    creds = {"name": "no-grant", "password": PASSWORD}
    assert http.post("/v1/tenants", json=creds, headers=ADMIN_H).status_code == 201
    token = http.post("/v1/auth/token", json=creds).json()["access_token"]
    r = http.put(
        "/v1/functions/ng-fn",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": ECHO_ALL, "routes": ["/ng/*"]},
    )
    assert r.status_code == 403 and r.json()["type"].endswith("/route-not-allowed")
    # a hostname belongs to one tenant
    r = http.put("/v1/admin/hosts/shop.example", headers=ADMIN_H, json={"tenant": "no-grant"})
    assert r.status_code == 409 and r.json()["type"].endswith("/host-taken")
    metrics = http.get("/metrics").text
    for reason in ("conflict", "not_allowed"):
        line = f'isogate_route_refusals_total{{reason="{reason}"}}'
        assert line in metrics and f"{line} 0.0" not in metrics, reason


def _sees(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def test_function_never_sees_a_key(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    http, a, _b = world
    assert _deploy(http, a, "echo-pub", ["shop.example/pub/*", "/pubx/*"]).status_code == 201
    assert _deploy(http, a, "echo-key", ["shop.example/priv/*", "/privx"], False).status_code == 201
    forged = {"X-Isogate-Key-Id": "key_forged", "X-Isogate-Tenant": "someone-else"}
    shapes = [
        ("/fn/echo-pub/a", {}),
        ("/pubx/a", {}),
        ("/pub/a", {"Host": "shop.example"}),
        ("/fn/echo-key/a", {}),
        ("/privx", {}),
        ("/priv/a", {"Host": "shop.example"}),
    ]
    presentations = [
        {"X-API-Key": a.key},
        {"Authorization": f"Bearer {a.key}"},
        {"Authorization": f"bearer   {a.key}"},
        {"X-API-Key": a.key, "Authorization": f"Bearer {a.key}"},
    ]
    for path, extra in shapes:
        for creds in presentations:
            seen = _sees(http.get(path, headers={**extra, **creds, **forged}))
            text = json.dumps(seen)
            assert a.key not in text and a.key[4:20] not in text, (path, creds, seen)
            headers = seen["headers"]
            assert "x-api-key" not in headers and "authorization" not in headers
            keyed = "echo-key" in path or "priv" in path
            if keyed:  # the gateway says who called, and only the gateway
                assert headers["x-isogate-key-id"] == a.key_id
                assert headers["x-isogate-tenant"] == a.name
            else:
                assert "x-isogate-key-id" not in headers and "x-isogate-tenant" not in headers
    # a public function keeps an Authorization that is not an isogate key
    seen = _sees(http.get("/pubx/a", headers={"Authorization": "Bearer app-session-token"}))
    assert seen["headers"]["authorization"] == "Bearer app-session-token"


def test_mount_prefix(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    """Issue 17: /fn/NAME is the mount; own routes see the full path."""
    http, a, _b = world
    assert _deploy(http, a, "router", ["/router-own/*"]).status_code == 201
    seen = _sees(http.get("/fn/router/users/42?x=1", headers={"X-Forwarded-Prefix": "/spoof"}))
    assert seen["url"].endswith("/users/42?x=1") and "/fn/" not in seen["url"]
    assert seen["headers"]["x-forwarded-prefix"] == "/fn/router"
    seen = _sees(http.get("/fn/router"))
    assert seen["url"].endswith("/") and "/fn/" not in seen["url"]
    seen = _sees(http.get("/router-own/users/42?x=1"))
    assert seen["url"].endswith("/router-own/users/42?x=1")
    assert "x-forwarded-prefix" not in seen["headers"]


def _cli(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env["ISOGATE_ADMIN_TOKEN"] = ADMIN
    cmd = [sys.executable, "-m", "isogate.cli", "admin", *argv, "--url", url]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def test_operator_cli(world: tuple[httpx.Client, Tenant, Tenant]) -> None:
    """`isogate admin`: assign a hostname, see who holds a pattern, withdraw it."""
    http, a, _b = world
    url = str(http.base_url).rstrip("/")
    r = _cli(url, "assign-host", "cli.shop.example", a.name)
    assert r.returncode == 0 and "cli.shop.example assigned to shop-a" in r.stdout, r.stderr
    assert _deploy(http, a, "shop-cli", ["cli.shop.example/cart/*"]).status_code == 201
    r = _cli(url, "routes", "cli.shop.example/cart/1")
    assert r.returncode == 0 and r.stdout.split() == ["cli.shop.example/cart/*", a.name, "shop-cli"]
    r = _cli(url, "hosts", "--tenant", a.name, "--json")
    assert "cli.shop.example" in {h["host"] for h in json.loads(r.stdout)["hosts"]}
    r = _cli(url, "unassign-host", "cli.shop.example")
    assert r.returncode == 0, r.stderr
    assert http.get("/cart/1", headers={"Host": "cli.shop.example"}).status_code == 404
    r = _cli(url, "assign-host", "shop.example", "evil-b")  # one tenant per hostname
    assert r.returncode == 1 and "Traceback" not in r.stderr and "taken" in r.stderr.lower()
