"""All tenants share the gateway's origin (issue 24 item 7): a function's cookies stay
under its own mount there, and with ``functions_domain`` each function gets an origin
of its own. A real gateway; the function sets whatever cookies the query asks for."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.e2e.server import ADMIN, GatewayProcess

from .conftest import RELAXED

SET_COOKIES = """
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const headers = new Headers({ "content-type": "text/plain" });
    for (const c of url.searchParams.getAll("c")) headers.append("set-cookie", c);
    return new Response(url.pathname, { headers });
  },
};
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    env = {**RELAXED, "ISOGATE_FUNCTIONS_DOMAIN": "fns.example"}
    gateway = GatewayProcess(tmp_path_factory.mktemp("origin") / "data", env)
    gateway.start()
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as http:
            creds = {"name": "cookie-t", "password": "password-123"}
            admin = {"Authorization": f"Bearer {ADMIN}"}
            assert http.post("/v1/tenants", json=creds, headers=admin).status_code == 201
            token = http.post("/v1/auth/token", json=creds).json()["access_token"]
            r = http.put(
                "/v1/functions/jar",
                headers={"Authorization": f"Bearer {token}"},
                json={"code": SET_COOKIES, "public": True},
            )
            assert r.status_code == 201, r.text
            yield http
    finally:
        assert gateway.stop() == 0, gateway.log.read_text()[-3000:]


def _cookies(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return r.headers.get_list("set-cookie")


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("sid=1", "sid=1; Path=/fn/jar"),  # no Path: the browser would pick /fn
        ("sid=1; Path=/", "sid=1; Path=/fn/jar"),
        ("sid=1; Path=/fn/other; HttpOnly", "sid=1; HttpOnly; Path=/fn/jar/fn/other"),
        ("sid=1; Domain=gateway.example; Path=/app", "sid=1; Path=/fn/jar/app"),
        ("__Host-sid=1; Path=/; Secure", "__Host-sid=1; Secure; Path=/fn/jar"),
    ],
)
def test_cookies_stay_under_the_mount(gw: httpx.Client, sent: str, seen: str) -> None:
    assert _cookies(gw.get("/fn/jar/x", params={"c": sent})) == [seen]


def test_own_origin(gw: httpx.Client) -> None:
    """jar.fns.example is the function's own origin: full path, cookies as set."""
    host = {"Host": "jar.fns.example"}
    r = gw.get("/users/42", params={"c": "sid=1; Path=/"}, headers=host)
    assert r.text == "/users/42" and _cookies(r) == ["sid=1; Path=/"]
    assert gw.get("/", headers={"Host": "nope.fns.example"}).status_code == 404
    assert gw.get("/.well-known/acme-challenge/t", headers=host).status_code == 404


def test_own_origins_are_not_assignable(gw: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = gw.put("/v1/admin/hosts/jar.fns.example", headers=admin, json={"tenant": "cookie-t"})
    assert r.status_code == 422, r.text
