"""fetch against a real upstream on 127.0.0.1 (the only address these tests reach)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from isogate.config.egress import EgressSettings
from isogate.runtime.egress import EgressPolicy
from isogate.runtime.fetch_request import FetchSpec
from isogate.runtime.fetch_response import FetchFailure, FetchResult
from isogate.runtime.fetcher import fetch, new_client

from .upstream import Upstream


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    await up.start()
    try:
        yield up
    finally:
        await up.close()


class Sent:
    """Every request the client hands to its transport (before any connection)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.urls.append(str(request.url))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    c = new_client()
    c.sent = Sent()  # type: ignore[attr-defined]
    c.event_hooks["request"].append(c.sent)  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        await c.aclose()


POLICY = EgressPolicy(EgressSettings(allow=["127.0.0.1"]))


async def run(
    client,
    url: str,
    method: str = "GET",
    headers=(),
    body=None,
    redirect="follow",
    policy=POLICY,
    **kw,
):
    opts = {"timeout_s": 10.0, "max_response_bytes": 1 << 20, "max_redirects": 20, **kw}
    return await fetch(
        FetchSpec(method, url, list(headers), body, redirect), policy=policy, client=client, **opts
    )


async def test_methods_headers_body(upstream: Upstream, client) -> None:
    for method in ("GET", "post", "PUT", "DELETE", "PATCH", "OPTIONS"):
        body = None if method == "GET" else b"payload \xff"
        r = await run(
            client,
            upstream.base + "/echo?q=1",
            method,
            [("X-A", "1"), ("x-a", "2"), ("Host", "evil")],
            body,
        )
        assert isinstance(r, FetchResult), r
        assert r.status == 200 and r.status_text == "OK" and r.outcome == "allowed"
        doc = json.loads(r.body)
        assert doc["method"] == (method.upper() if method != "PATCH" else "PATCH")
        assert doc["target"] == "/echo?q=1"
        names = [k.lower() for k, _ in doc["headers"]]
        assert names[0] == "host" and dict(doc["headers"])["Host"] == f"127.0.0.1:{upstream.port}"
        assert [v for k, v in doc["headers"] if k.lower() == "x-a"] == ["1", "2"]
        assert "user-agent" not in names and "accept-encoding" not in names  # like workerd
        assert doc["body"].encode("latin-1") == (body or b"")
        assert r.url == upstream.base + "/echo?q=1" and not r.redirected
    r = await run(client, upstream.base + "/echo", "HEAD")
    assert isinstance(r, FetchResult) and r.body == b""


async def test_status_and_headers_in_wire_order(upstream: Upstream, client) -> None:
    r = await run(client, upstream.base + "/status/418?reason=Short+and+stout")
    assert isinstance(r, FetchResult) and (r.status, r.status_text) == (418, "Short and stout")
    r = await run(client, upstream.base + "/cookies")
    assert isinstance(r, FetchResult)
    assert [h for h in r.headers if h[0] != "content-length"] == [
        ("x-first", "1"),
        ("set-cookie", "a=1; Path=/"),
        ("x-middle", "m"),
        ("set-cookie", "b=2"),
        ("x-dup", "one"),
        ("x-dup", "two"),
    ]
    # the client keeps no cookies between fetches (tenants share it)
    r = await run(client, upstream.base + "/echo")
    assert "cookie" not in [k.lower() for k, _ in json.loads(r.body)["headers"]]


async def test_redirects(upstream: Upstream, client) -> None:
    base = upstream.base
    r = await run(
        client,
        f"{base}/redirect?status=302&to=/echo",
        "POST",
        [("Content-Type", "text/plain"), ("X-Keep", "k")],
        b"data",
    )
    assert isinstance(r, FetchResult) and r.redirected and r.url == f"{base}/echo"
    doc = json.loads(r.body)
    assert doc["method"] == "GET" and doc["body"] == ""
    names = {k.lower() for k, _ in doc["headers"]}
    # workerd keeps Content-Type on a redirect that drops the body (the Fetch standard
    # would drop it): recorded in tests/conformance, loop-redirects
    assert "content-type" in names and "content-length" not in names and "x-keep" in names
    r = await run(client, f"{base}/redirect?status=303&to=/echo", "PUT", body=b"data")
    assert json.loads(r.body)["method"] == "GET"
    for status in (307, 308):
        r = await run(client, f"{base}/redirect?status={status}&to=/echo", "POST", body=b"data")
        doc = json.loads(r.body)
        assert (doc["method"], doc["body"]) == ("POST", "data")
    r = await run(client, f"{base}/redirect?status=301&to=/echo", "PUT", body=b"data")
    assert json.loads(r.body)["method"] == "PUT"
    # manual: the 3xx as it is
    r = await run(client, f"{base}/redirect?status=301&to=/echo", redirect="manual")
    assert isinstance(r, FetchResult) and r.status == 301 and ("location", "/echo") in r.headers
    assert not r.redirected and r.body == b"moved"
    # error: a TypeError
    r = await run(client, f"{base}/redirect?status=302&to=/echo", redirect="error")
    assert isinstance(r, FetchFailure) and r.name == "TypeError" and r.outcome == "error"
    # no Location: the response itself
    r = await run(client, f"{base}/redirect?status=302")
    assert isinstance(r, FetchResult) and r.status == 302
    # a loop: capped
    r = await run(
        client,
        f"{base}/redirect?status=302&to=/redirect%3Fstatus%3D302%26to%3D%2Fecho",
        max_redirects=0,
    )
    assert isinstance(r, FetchFailure) and "Too many redirects." in r.message
    r = await run(client, f"{base}/redirect?status=302&to=ftp://example/", redirect="follow")
    # a redirect to another scheme: workerd loses the connection (loop-redirects)
    assert isinstance(r, FetchFailure) and (r.name, r.message) == (
        "Error",
        "Network connection lost.",
    )


async def test_redirect_to_refused_address_is_not_followed(upstream: Upstream, client) -> None:
    other = f"http://127.0.0.2:{upstream.port}/echo"
    r = await run(client, f"{upstream.base}/redirect?status=302&to={other}")
    assert isinstance(r, FetchFailure) and r.outcome == "refused"
    assert "fetch to 127.0.0.2 refused by egress policy" in r.message
    assert len(client.sent.urls) == 1  # the first hop only: refused before connecting


async def test_refused_by_default_before_connecting(upstream: Upstream, client) -> None:
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    for host in ("localhost", "127.0.0.2", "0.0.0.0", "[::1]", "api.localhost"):
        r = await run(client, f"http://{host}:{upstream.port}/echo", resolver=resolver)
        assert isinstance(r, FetchFailure), host
        assert r.outcome == "refused" and r.name == "TypeError"
        assert f"fetch to {host} refused by egress policy" in r.message
    # no request was handed to the transport, the upstream saw no connection
    assert calls == [] and client.sent.urls == [] and upstream.connections == 0
    # no allow: 127.0.0.1 is refused too
    r = await run(client, upstream.base + "/echo", policy=EgressPolicy(EgressSettings()))
    assert isinstance(r, FetchFailure) and r.outcome == "refused"
    # the gateway's own address, allowed or not
    own = EgressPolicy(EgressSettings(allow=["127.0.0.1"]), listen=[("0.0.0.0", upstream.port)])
    r = await run(client, upstream.base + "/echo", policy=own)
    assert isinstance(r, FetchFailure) and "own address" in r.message
    assert upstream.connections == 0


async def test_dns_rebinding(upstream: Upstream, client) -> None:
    answers = [["127.0.0.1"], ["127.0.0.2"]]

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "rebind.test"
        return answers.pop(0)

    url = f"http://rebind.test:{upstream.port}/redirect?status=302&to=/echo"
    r = await run(client, url, resolver=resolver)
    assert isinstance(r, FetchFailure) and r.outcome == "refused"
    assert "fetch to rebind.test refused by egress policy" in r.message
    # the first hop went to the checked address, with the name in Host
    assert len(upstream.requests) == 1
    assert dict(upstream.requests[0].headers)["Host"] == f"rebind.test:{upstream.port}"
    assert client.sent.urls[0].startswith(f"http://127.0.0.1:{upstream.port}/")


async def test_resolver_failure_and_other_schemes(client) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    r = await run(client, "http://nowhere.test/", resolver=resolver)
    assert (
        isinstance(r, FetchFailure)
        and r.message == "fetch to nowhere.test failed: the host name could not be resolved"
    )
    for url in ("file:///etc/passwd", "ftp://x/", "data:,x", "not a url"):
        r = await run(client, url)
        assert isinstance(r, FetchFailure) and r.name == "TypeError", url
    r = await run(client, "http://u:p@127.0.0.1:1/")
    assert isinstance(r, FetchFailure) and "credentials" in r.message


async def test_size_cap(upstream: Upstream, client) -> None:
    r = await run(client, upstream.base + "/bytes?n=1000", max_response_bytes=1000)
    assert isinstance(r, FetchResult) and r.body == b"x" * 1000
    for q in ("n=1001", "n=5000&chunked=1"):
        r = await run(client, upstream.base + f"/bytes?{q}", max_response_bytes=1000)
        assert isinstance(r, FetchFailure) and r.name == "TypeError"
        assert "larger than 1000 bytes" in r.message
    r = await run(client, upstream.base + "/gzip?n=10000000", max_response_bytes=1000)
    assert isinstance(r, FetchFailure) and "larger than 1000 bytes" in r.message


async def test_decoding_like_workerd(upstream: Upstream, client) -> None:
    r = await run(client, upstream.base + "/gzip")
    assert isinstance(r, FetchResult) and json.loads(r.body) == {"compressed": "gzip"}
    assert ("content-encoding", "gzip") in r.headers  # kept, as workerd does
    r = await run(client, upstream.base + "/br")
    assert isinstance(r, FetchResult) and json.loads(r.body) == {"compressed": "br"}
    r = await run(client, upstream.base + "/deflate")
    assert isinstance(r, FetchResult) and r.body != b"raw deflate"  # passed through
    r = await run(client, upstream.base + "/badgzip")
    assert isinstance(r, FetchFailure) and r.message == "Gzip decompression failed."


async def test_deadline(upstream: Upstream, client) -> None:
    r = await run(client, upstream.base + "/hang", timeout_s=0.3)
    assert isinstance(r, FetchFailure) and r.name == "TimeoutError"
    assert r.message == "fetch to 127.0.0.1 timed out after 300 ms"


async def test_cancel_closes_the_response(upstream: Upstream, client) -> None:
    task = asyncio.create_task(run(client, upstream.base + "/stall"))
    while not upstream.requests:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(upstream.stall_closed.wait(), 10)
    assert upstream.closed_stalls == 1


async def test_client_must_come_from_new_client() -> None:
    async with httpx.AsyncClient() as plain:
        with pytest.raises(ValueError):
            await run(plain, "http://127.0.0.1:1/")


def _make_certs(folder) -> tuple[str, str, str]:
    """A throw-away CA and a server certificate for egress.test (openssl CLI)."""
    import subprocess

    def run_openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run_openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=isogate test CA",
    )
    run_openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=egress.test",
    )
    (folder / "ext.cnf").write_text("subjectAltName=DNS:egress.test\n")
    run_openssl(
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return str(folder / "ca.pem"), str(folder / "srv.pem"), str(folder / "srv.key")


async def test_https_to_the_checked_address_with_the_name_for_tls(tmp_path) -> None:
    import ssl

    ca, cert, key = _make_certs(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    up = Upstream()
    await up.start(tls=server_ctx)
    client = new_client(verify=ssl.create_default_context(cafile=ca))
    names: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        names.append(host)
        return ["127.0.0.1"]

    try:
        r = await run(client, f"https://egress.test:{up.port}/echo", resolver=resolver)
        assert isinstance(r, FetchResult), r
        assert dict(json.loads(r.body)["headers"])["Host"] == f"egress.test:{up.port}"
        # another name on the same IP must not reuse the TLS connection checked for the
        # first one: its certificate is checked for its own name, and fails
        r = await run(client, f"https://other.test:{up.port}/echo", resolver=resolver)
        assert isinstance(r, FetchFailure) and r.name == "TypeError"
        assert (
            r.message
            == "fetch to other.test failed: the server's TLS certificate is not valid for this host"
        )
        assert names == ["egress.test", "other.test"]
        assert len(up.requests) == 1
    finally:
        await client.aclose()
        await up.close()


async def test_authorization_stays_on_its_origin(upstream: Upstream, client) -> None:
    other = Upstream()
    await other.start()
    try:
        auth = [("Authorization", "Bearer s3cret"), ("X-Other", "o")]
        r = await run(
            client, f"{upstream.base}/redirect?status=307&to={other.base}/echo", headers=auth
        )
        names = {k.lower() for k, _ in json.loads(r.body)["headers"]}
        assert "authorization" not in names and "x-other" in names
        r = await run(client, f"{upstream.base}/redirect?status=307&to=/echo", headers=auth)
        assert "authorization" in {k.lower() for k, _ in json.loads(r.body)["headers"]}
    finally:
        await other.close()


def test_too_many_subrequests() -> None:
    from isogate.runtime.fetch_response import too_many_subrequests

    f = too_many_subrequests(50)
    assert (f.name, f.outcome) == ("Error", "refused") and "Too many subrequests" in f.message
