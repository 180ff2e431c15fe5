"""The realworld corpus: everyday Workers (``workers/``) and the requests each is asked.

Same ``Worker``/``Case`` types as tests/conformance (see its corpus.py). Every Worker
gets ``UPSTREAM`` (the loopback upstream, tests/conformance/upstream.py) and
``CLOSED`` (a loopback port that refuses connections) as env, bound at test time.
Each case states the answer workerd must give (``expect_status``, ``expect_in_body``):
the workerd-only test checks it, so the corpus is known to exercise what it claims.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conformance.corpus import UPSTREAM_ENV, Case, Worker

ROOT = str(Path(__file__).resolve().parent / "workers")


def req(
    label: str,
    path: str,
    status: int,
    contains: str | None = None,
    *,
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    sink: int = 0,
) -> Case:
    return Case(
        label=label,
        path=path,
        method=method,
        headers=headers,
        body=body,
        sink=sink,
        expect_status=status,
        expect_in_body=contains,
    )


def worker(name: str, *cases: Case, syntax: str = "module") -> Worker:
    return Worker(
        name, name.replace("-", "_") + ".js", cases, env=UPSTREAM_ENV, root=ROOT, syntax=syntax
    )


def basic(user: str, password: str) -> tuple[tuple[str, str], ...]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return (("authorization", f"Basic {token}"),)


JSON = (("content-type", "application/json"),)

WORKERS: tuple[Worker, ...] = (
    worker(
        "proxy-headers",
        req(
            "get-echo",
            "/echo/a?x=1&y=%20z",
            200,
            '"target":"/echo/a?x=1&y=%20z"',
            headers=(("x-client", "c1"), ("accept", "*/*"), ("cookie", "secret=1")),
        ),
        req(
            "post-body",
            "/echo/post",
            200,
            '"body":"form=data"',
            method="POST",
            headers=(("content-type", "application/x-www-form-urlencoded"),),
            body=b"form=data",
        ),
        req(
            "put-binary",
            "/echo/bin",
            200,
            '"bodyBase64":"AAH/"',
            method="PUT",
            body=b"\x00\x01\xff",
        ),
        req("strip-headers", "/headers", 200, "headers here"),
        req("upstream-404", "/status/404", 404, "status 404"),
        req("upstream-json", "/api/users/3", 200, "Grace Hopper"),
        req("set-cookie-through", "/cookies", 200, "cookies set"),
    ),
    worker(
        "aggregator",
        req("profile-1", "/profile/1", 200, '"likes":'),
        req("profile-3", "/profile/3", 200, "Grace Hopper"),
        req("profile-missing", "/profile/42", 404, "unknown user"),
        req("dashboard", "/dashboard", 200, '"userCount":5'),
        req("not-found", "/nope", 404),
    ),
    worker(
        "redirect-map",
        req("docs-301", "/docs", 301),
        req("blog-302-query", "/blog?utm=x&utm=y", 302),
        req("relative-308", "/old-pricing/", 308),
        req("signup-307", "/signup?plan=pro", 307),
        req("passthrough", "/api/users/2", 200, "Alan Turing"),
        req("passthrough-404", "/missing-page", 404, "no such upstream route"),
    ),
    worker(
        "api-timeout",
        req("signal-fast", "/signal?delay=10", 200, '"source":"upstream"'),
        req("signal-slow", "/signal?delay=2000", 200, '"reason":"TimeoutError"'),
        req("race-fast", "/race?delay=5", 200, '"source":"upstream"'),
        req("race-slow", "/race?delay=2000", 200, "timed out after 150 ms"),
        req("down", "/down", 503, '"source":"fallback"'),
    ),
    worker(
        "webhook-relay",
        req(
            "json-event",
            "/hook",
            202,
            '"relayed":204',
            method="POST",
            headers=(*JSON, ("x-event", "push")),
            body=b'{"ref":"main","commits":3}',
            sink=1,
        ),
        req(
            "text-event",
            "/hook",
            202,
            '"signature":',
            method="POST",
            headers=(("content-type", "text/plain; charset=utf-8"),),
            body="héllo ✓".encode(),
            sink=1,
        ),
        req("no-type", "/hook", 202, '"bytes":0', method="POST", sink=1),
        req("get-refused", "/hook", 405),
        req("other-path", "/x", 404),
    ),
    worker(
        "ab-router",
        req("cookie-a", "/home", 200, '"variant":"a"', headers=(("cookie", "theme=x; ab=a"),)),
        req("cookie-b", "/home", 200, '"variant":"b"', headers=(("cookie", "ab=b"),)),
        req("assign-user-1", "/home", 200, '"assigned":true', headers=(("x-user-id", "u-1"),)),
        req("assign-user-2", "/pricing", 200, '"assigned":true', headers=(("x-user-id", "u-22"),)),
        req("bad-cookie", "/home", 200, '"assigned":true', headers=(("cookie", "ab=zzz"),)),
    ),
    worker(
        "cache-aside",
        req("miss-then-hit", "/user?id=1", 200, '"log":["MISS user:1","HIT user:1"]'),
        req("other-user", "/user?id=4", 200, "Edsger"),
        req("unknown-user", "/user?id=77", 200, "user not found"),
        req("expire-evict", "/expire?id=2&ttl=30", 200, '"EXPIRED user:2","evicted"'),
    ),
    worker(
        "cors-proxy",
        req(
            "preflight",
            "/proxy/echo",
            204,
            method="OPTIONS",
            headers=(
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "POST"),
            ),
        ),
        req("options-no-cors", "/proxy/echo", 200, method="OPTIONS"),
        req(
            "get-with-origin",
            "/proxy/api/users/1",
            200,
            "Ada",
            headers=(("origin", "http://localhost:3000"),),
        ),
        req(
            "post-with-origin",
            "/proxy/echo/p",
            200,
            '"body":"{\\"a\\":1}"',
            method="POST",
            headers=(("origin", "https://app.example.com"), *JSON),
            body=b'{"a":1}',
        ),
        req("bad-origin", "/proxy/echo", 403, headers=(("origin", "https://evil.example"),)),
        req("no-origin", "/proxy/text", 200, "quick brown fox"),
    ),
    worker(
        "bulk-redirects",
        req("promo-7", "/promo/7", 301),
        req("promo-40-query", "/promo/40?src=mail&x=1", 301),
        req("legacy-prefix", "/legacy/2019/post.html", 308),
        req("kb-relative", "/kb/setup?step=2", 302),
        req("unicode", "/%C3%BCn%C3%AFcode", 301),
        req("none", "/promo/41", 404, "no redirect"),
    ),
    worker(
        "respond-other-site",
        req("home", "/", 200, "Edge Shop"),
        req("text", "/text", 200, "lazy dog"),
        req("json-untouched", "/api/config", 200, '"version":"2.4.1"'),
        req("upstream-404", "/nowhere", 404, "no such upstream route"),
    ),
    worker(
        "method-router",
        req("list", "/items", 200, "Post number 0"),
        req("one", "/items/12", 200, '"id":12'),
        req("one-missing", "/items/99", 404, "no such item"),
        req(
            "create",
            "/items",
            201,
            '"created":{"title":"new"',
            method="POST",
            headers=JSON,
            body=b'{"title":"new","tags":["x"]}',
        ),
        req(
            "create-invalid",
            "/items",
            400,
            "title required",
            method="POST",
            headers=JSON,
            body=b"{oops",
        ),
        req("delete", "/items/12", 204, method="DELETE"),
        req("head", "/items", 200, method="HEAD"),
        req("put-refused", "/items/12", 405, method="PUT", body=b"x"),
        req("no-route", "/other", 404),
    ),
    worker(
        "json-html",
        req("json-default", "/team", 200, "Ada Lovelace"),
        req(
            "html",
            "/team",
            200,
            "&lt;ada@example.com&gt;",
            headers=(("accept", "text/html,application/xhtml+xml;q=0.9"),),
        ),
        req("csv", "/team", 200, '1,"Ada Lovelace",engines', headers=(("accept", "text/csv"),)),
        req("missing", "/teams", 404),
    ),
    worker(
        "fetch-transform",
        req("summary", "/summary", 200, '"byTeam":'),
        req("initials", "/initials/3", 200, "G.H."),
        req("initials-missing", "/initials/9", 404),
    ),
    worker(
        "post-json",
        req(
            "order",
            "/orders",
            201,
            "Bearer test-token",
            method="POST",
            headers=JSON,
            body=json.dumps(
                {"items": [{"sku": "a", "qty": 2, "price": 3.5}], "note": "ß✓"}
            ).encode(),
        ),
        req(
            "order-currency",
            "/orders",
            201,
            '\\"currency\\":\\"USD\\"',
            method="POST",
            headers=JSON,
            body=b'{"items":[{"sku":"b","qty":1,"price":10}],"currency":"USD"}',
        ),
        req("invalid-json", "/orders", 400, "SyntaxError", method="POST", headers=JSON, body=b"{"),
        req("no-items", "/orders", 422, method="POST", headers=JSON, body=b'{"items":[]}'),
        req("get-refused", "/orders", 405),
    ),
    worker(
        "cookie-reader",
        req("parse", "/", 200, '"session":"abc123"'),
        req("login-forward", "/login", 200, '"loggedIn":true'),
    ),
    worker(
        "retry-backoff",
        req("recovers", "/orders?fail=2", 200, '"attempts":[503,503,200]'),
        req("first-try", "/users?fail=0", 200, '"attempts":[200]'),
        req("gives-up", "/broken?fail=9&retries=2", 502, "kept failing"),
    ),
    worker(
        "html-rewrite",
        req("default", "/", 200, "Free shipping"),
        req("lang-and-strip", "/?lang=de&strip-links", 200, 'lang="de"'),
    ),
    worker(
        "wait-until-logger",
        req(
            "hello",
            "/?name=ada",
            200,
            '"hello":"ada"',
            headers=(("user-agent", "realworld-test/1"),),
            sink=1,
        ),
        req("missing", "/missing", 404, sink=1),
        req("post", "/submit", 200, method="POST", body=b"ignored", sink=1),
    ),
    worker(
        "manual-redirect",
        *(req(f"rewrite-{c}", f"/rewrite?code={c}", c) for c in (301, 302, 303, 307, 308)),
        req("rewrite-not-redirect", "/rewrite?code=200", 200, "redirecting"),
        req("hops", "/hops?n=3", 200, '"hops":["/chain/2","/chain/1","/chain/0"]'),
        req("too-many-hops", "/hops?n=9", 508),
        req("follow-303-post", "/follow?code=303", 200, '"method":"GET"'),
        req("follow-307-post", "/follow?code=307", 200, '"body":"payload"'),
    ),
    worker(
        "error-handling",
        req("ok", "/user?id=2", 200, '"ok":true'),
        req("upstream-404", "/user?id=404", 404, "user not found"),
        req("upstream-500", "/broken", 502, '"upstreamStatus":500'),
        req("upstream-503", "/broken?code=503", 502, "status 503"),
        req("unreachable", "/down", 503, "upstream unreachable"),
        req("not-json", "/not-json", 502, '"isSyntaxError":true'),
    ),
    worker(
        "basic-auth",
        req("no-credentials", "/", 401, "credentials required"),
        req("wrong", "/", 401, "wrong credentials", headers=basic("admin", "guess")),
        req("right", "/", 200, '"beta":true', headers=basic("admin", "open sesame")),
        req("bad-scheme", "/", 400, headers=(("authorization", "Bearer x"),)),
        req("bad-base64", "/", 400, "bad base64", headers=(("authorization", "Basic !!!"),)),
    ),
    worker(
        "api-gateway",
        req("v1-user", "/v1/users/5", 200, "Barbara"),
        req("v2-posts", "/v2/posts?userId=2", 200, '"userId":2'),
        req("v1-missing", "/v1/users/6", 404),
        req("unknown-version", "/v3/users", 400, "unknown API version v3"),
        req("root", "/", 400),
    ),
    worker(
        "large-passthrough",
        req("download-2mb", "/download", 200),
        req("download-small", "/download?bytes=100", 200, "0123456789"),
        req(
            "upload",
            "/upload",
            200,
            '"received":400000',
            method="POST",
            headers=(("content-type", "application/octet-stream"),),
            body=bytes(range(256)) * 1562 + bytes(range(128)),
        ),
    ),
    worker(
        "sw-legacy-proxy",
        req("user", "/users/2", 200, '"via":"service-worker"', sink=1),
        req("missing", "/users/8", 404, "user not found", sink=1),
        req("health", "/health", 200, "ok"),
        syntax="service-worker",
    ),
)


def all_cases() -> list[tuple[Worker, Case]]:
    return [(w, c) for w in WORKERS for c in w.cases]
