"""The framework corpus: apps in ``apps/`` written with Hono, itty-router, zod, jose and
@tsndr/cloudflare-worker-jwt, and the requests each is asked.

The apps are bundled at test time from the pinned npm packages (package.json) by the
CLI's own bundler (``isogate.cli.wrangler.bundle_entry``, esbuild with wrangler's
flags); ``conftest.py`` sets each Worker's ``root`` to the folder of the bundles.

JWT material is made here when the module is imported: an EC P-256 and an RSA key
(their public halves are the ``JWKS`` env var of the jose app) and an HS256 secret, and
tokens signed with them by PyJWT. Both runtimes get the same env and the same tokens in
the same run, so nothing random reaches a comparison; expiry is fixed (2100, or 2001 for
the expired ones), never "now".
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conformance.corpus import Case, Worker
from tests.realworld.corpus import req

#: Placeholder root; conftest replaces it with the folder of the bundles.
UNBUNDLED = "<bundled at test time>"

HS_SECRET = "hs256-shared-secret-for-the-framework-corpus"
FUTURE, PAST = 4102444800, 1000000000
_EC = ec.generate_private_key(ec.SECP256R1())
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_EC = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: object, kid: str, alg: str) -> dict[str, str]:
    algo = jwt.algorithms.ECAlgorithm if alg == "ES256" else jwt.algorithms.RSAAlgorithm
    out = json.loads(algo.to_jwk(key.public_key()))  # type: ignore[attr-defined]
    return {**out, "kid": kid, "alg": alg, "use": "sig"}


JWKS = json.dumps({"keys": [_jwk(_EC, "ec-1", "ES256"), _jwk(_RSA, "rsa-1", "RS256")]})


def token(alg: str, *, kid: str | None = None, key: object = None, **claims: object) -> str:
    payload = {"iss": "isogate-tests", "aud": "frameworks", "sub": "user-7", "exp": FUTURE}
    payload.update(claims)
    signing = key or {"ES256": _EC, "RS256": _RSA, "HS256": HS_SECRET}[alg]
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, signing, algorithm=alg, headers=headers)  # type: ignore[arg-type]


def bearer(t: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {t}"),)


def basic(user: str, password: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()),)


def app(name: str, entry: str, *cases: Case, env: tuple[tuple[str, str], ...] = ()) -> Worker:
    """A corpus app: ``apps/<entry>`` bundles to ``<name>.js``."""
    ENTRIES[f"fw-{name}"] = entry
    return Worker(f"fw-{name}", f"{name}.js", cases, env=env, root=UNBUNDLED)


#: Worker name -> its entry file in apps/ (filled by :func:`app`).
ENTRIES: dict[str, str] = {}

JSON = (("content-type", "application/json"),)
ORIGIN = (("origin", "https://app.example"),)
ETAG_DOC = 'W/"' + hashlib.sha1(b"the same document every time").hexdigest() + '"'

WORKERS: tuple[Worker, ...] = (
    app(
        "hono-api",
        "hono_api.ts",
        req("root", "/", 200, "Hello from hono"),
        req("head-root", "/", 200, method="HEAD"),
        req("books", "/books", 200, "Hyperion"),
        req("books-after", "/books?after=1970", 200, "Neuromancer"),
        req("book", "/books/2", 200, '"title":"Neuromancer"'),
        req("book-missing", "/books/9", 404, "no such book"),
        req("book-bad-id", "/books/abc", 404, '"path":"/books/abc"'),
        req(
            "book-create",
            "/books",
            201,
            '"title":"Snow Crash"',
            method="POST",
            headers=JSON,
            body=b'{"title":"Snow Crash"}',
        ),
        req(
            "book-create-invalid",
            "/books",
            400,
            "title is required",
            method="POST",
            headers=JSON,
            body=b'{"title":""}',
        ),
        req("wildcard", "/files/a/b%20c.txt", 200, "file: a/b c.txt"),
        req("query-multi", "/search?q=x%20y&tag=a&tag=b", 200, '"tags":["a","b"]'),
        req(
            "headers",
            "/headers",
            200,
            '"ua":"tests/1.0"',
            headers=(("user-agent", "tests/1.0"), ("accept-language", "de-CH")),
        ),
        req("cookie-set", "/cookie/set", 200, "set"),
        req(
            "cookie-read",
            "/cookie/read",
            200,
            '"session":"abc123"',
            headers=(("cookie", "session=abc123; theme=dark"),),
        ),
        req("cookie-clear", "/cookie/clear", 200, "cleared"),
        req("redirect", "/redirect", 302),
        req("http-exception", "/boom", 418, "short and stout"),
        req("on-error", "/crash", 500, "handler failed"),
        req("not-found", "/nowhere", 404, '"error":"not found"'),
        req("wrong-method", "/", 404, method="POST"),
        env=(("GREETING", "Hello"),),
    ),
    app(
        "hono-middleware",
        "hono_middleware.ts",
        req("cors-get", "/api/items", 200, '["a","b"]', headers=ORIGIN),
        req(
            "cors-preflight",
            "/api/items",
            204,
            method="OPTIONS",
            headers=(
                *ORIGIN,
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ),
        ),
        req("cors-other-origin", "/api/items", 200, headers=(("origin", "https://evil.example"),)),
        req(
            "cors-post",
            "/api/items",
            201,
            '"got":"x=1"',
            method="POST",
            headers=ORIGIN,
            body=b"x=1",
        ),
        req("cors-wildcard", "/open/ping", 200, "pong", headers=ORIGIN),
        req("secure-headers", "/secure/page", 200, "<h1>secure</h1>"),
        req("etag", "/etag/doc", 200, "the same document"),
        req("etag-not-modified", "/etag/doc", 304, headers=(("if-none-match", ETAG_DOC),)),
        req("basic-none", "/admin/panel", 401),
        req("basic-good", "/admin/panel", 200, "welcome, admin", headers=basic("admin", "s3cret")),
        req("basic-bad", "/admin/panel", 401, headers=basic("admin", "wrong")),
        req("bearer-none", "/token/data", 401),
        req("bearer-good", "/token/data", 200, '"secret":42', headers=bearer("tok-123")),
        req("bearer-bad", "/token/data", 401, headers=bearer("tok-999")),
    ),
    app(
        "hono-jwt",
        "hono_jwt.ts",
        req("no-token", "/private/me", 401),
        req("good", "/private/me", 200, '"sub":"user-7"', headers=bearer(token("HS256"))),
        req("expired", "/private/me", 401, headers=bearer(token("HS256", exp=PAST))),
        req(
            "bad-signature",
            "/private/me",
            401,
            headers=bearer(token("HS256", key="another-secret-another-secret-xx")),
        ),
        req("sign-verify", "/sign", 200, '"role":"reader"'),
        env=(("JWT_SECRET", HS_SECRET),),
    ),
    app(
        "hono-jsx",
        "hono_jsx.tsx",
        req("page", "/", 200, '<li class="item">&lt;three&gt;</li>'),
        req("async-component", "/async", 200, "<p>loaded profile</p>"),
        req("streamed-suspense", "/stream", 200, "loaded feed"),
    ),
    app(
        "hono-zod",
        "hono_zod.ts",
        req(
            "json-valid",
            "/users",
            201,
            '"name":"Ada"',
            method="POST",
            headers=JSON,
            body=b'{"name":"Ada","email":"ada@example.com","age":36}',
        ),
        req(
            "json-invalid",
            "/users",
            400,
            "email",
            method="POST",
            headers=JSON,
            body=b'{"name":"A","email":"nope"}',
        ),
        req("json-malformed", "/users", 400, method="POST", headers=JSON, body=b"{not json"),
        req("query-defaults", "/users", 200, '{"page":1,"size":10}'),
        req("query-coerced", "/users?page=3&size=20", 200, '{"page":3,"size":20}'),
        req("query-invalid", "/users?size=100", 400),
        req("param-valid", "/users/u42", 200, '{"id":"u42"}'),
        req("param-hook", "/users/x42", 422, '"error":"bad id"'),
        req(
            "safe-parse",
            "/parse",
            200,
            '"paths":["name","email"]',
            method="POST",
            headers=JSON,
            body=b'{"name":"A","email":"x"}',
        ),
    ),
    app(
        "itty-auto",
        "itty_auto.ts",
        req("root", "/", 200, '"router":"AutoRouter"'),
        req("param-text", "/hello/isogate", 200, "Hello, isogate!"),
        req("query", "/sum?a=2&b=40", 200, '{"sum":42}'),
        req(
            "post-json",
            "/echo",
            200,
            '"received":{"a":[1,2]}',
            method="POST",
            headers=JSON,
            body=b'{"a":[1,2]}',
        ),
        req("error-helper", "/teapot", 418, "I'm a teapot"),
        req("status-error", "/forbidden", 403, "no entry"),
        req("custom-json", "/custom", 202, '{"custom":true}'),
        req("missing", "/nope", 404),
    ),
    app(
        "itty-router",
        "itty_router.ts",
        req("list", "/todos", 200, '"done":false', headers=ORIGIN),
        req("one", "/todos/1", 200, '"id":1'),
        req("one-missing", "/todos/2", 404, "todo not found"),
        req(
            "create",
            "/todos",
            201,
            '"created":{"title":"x"}',
            method="POST",
            headers=JSON,
            body=b'{"title":"x"}',
        ),
        req("create-bad-json", "/todos", 500, method="POST", headers=JSON, body=b"{oops"),
        req("text", "/plain", 200, "plain text"),
        req(
            "preflight",
            "/todos",
            204,
            method="OPTIONS",
            headers=(*ORIGIN, ("access-control-request-method", "POST")),
        ),
        req("catch-all", "/elsewhere", 404),
    ),
    app(
        "jose-jwks",
        "jose_jwks.ts",
        req("es256", "/", 200, '"sub":"user-7"', headers=bearer(token("ES256", kid="ec-1"))),
        req("rs256", "/", 200, '"sub":"user-7"', headers=bearer(token("RS256", kid="rsa-1"))),
        req("hs256", "/hs", 200, '"ok":true', headers=bearer(token("HS256"))),
        req(
            "wrong-audience",
            "/",
            401,
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
            headers=bearer(token("ES256", kid="ec-1", aud="someone-else")),
        ),
        req(
            "expired",
            "/",
            401,
            "ERR_JWT_EXPIRED",
            headers=bearer(token("RS256", kid="rsa-1", exp=PAST)),
        ),
        req(
            "unknown-kid",
            "/",
            401,
            "ERR_JWKS_NO_MATCHING_KEY",
            headers=bearer(token("ES256", kid="nobody")),
        ),
        req(
            "forged",
            "/",
            401,
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            headers=bearer(token("ES256", kid="ec-1", key=_OTHER_EC)),
        ),
        req("garbage", "/", 401, "ERR_JWS_INVALID", headers=bearer("not.a.jwt")),
        req(
            "decode-header",
            "/header",
            200,
            '"kid":"rsa-1"',
            headers=bearer(token("RS256", kid="rsa-1")),
        ),
        env=(("JWKS", JWKS), ("HS_SECRET", HS_SECRET)),
    ),
    app(
        "worker-jwt",
        "worker_jwt.ts",
        req("decode", "/decode", 200, '"sub":"user-7"', headers=bearer(token("HS256"))),
        req("verify", "/verify", 200, '"ok":true', headers=bearer(token("HS256"))),
        req(
            "verify-bad",
            "/verify",
            401,
            '"ok":false',
            headers=bearer(token("HS256", key="another-secret-another-secret-xx")),
        ),
        req("roundtrip", "/roundtrip", 200, '"parts":3'),
        env=(("HS_SECRET", HS_SECRET),),
    ),
)


#: The same apps built by esbuild with code splitting (``--splitting``, every entry in
#: one run): each app is its entry module plus the shared ``chunk-*.js`` modules it
#: imports by name, uploaded unbundled as a module set (issue 25: multi-module uploads,
#: live bindings between the chunks). conftest.py fills in ``file`` and ``modules``.
SPLIT = "-split"
SPLIT_WORKERS: tuple[Worker, ...] = tuple(
    dataclasses.replace(w, name=w.name + SPLIT) for w in WORKERS
)
for _w in WORKERS:
    ENTRIES[_w.name + SPLIT] = ENTRIES[_w.name]


def all_cases() -> list[tuple[Worker, Case]]:
    return [(w, c) for w in (*WORKERS, *SPLIT_WORKERS) for c in w.cases]
