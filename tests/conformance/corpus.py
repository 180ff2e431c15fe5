"""The corpus: Workers (``workers/<file>``) and the requests each one is asked.

A test case is ``(worker, case)``; its id is ``<worker>:<case label>``. The same
request goes to workerd and to isogate (see ``harness.py``).

Cases whose result is random or time-dependent must not echo the value, only facts
about it (format, length), so the bytes compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: The Worker throws (or returns a non-Response): workerd answers 500, isogate
    #: reports Outcome.JS_ERROR. Only that mapping is checked, not bytes.
    expect_error: bool = False
    #: Records the upstream's webhook sink must receive after the response (work the
    #: Worker left to ``ctx.waitUntil``); the test waits for them and compares them too.
    sink: int = 0
    #: What workerd must answer (checked by the workerd-only test): status, and a
    #: piece of text the body must contain. Documents the case's intent.
    expect_status: int | None = None
    expect_in_body: str | None = None


@dataclass(frozen=True, slots=True)
class Worker:
    name: str
    file: str
    cases: tuple[Case, ...]
    syntax: str = "module"  # or "service-worker" (workerd: serviceWorkerScript)
    env: tuple[tuple[str, str], ...] = ()
    compatibility_flags: tuple[str, ...] = field(default=())
    #: Folder of ``file`` when not tests/conformance/workers (e.g. tests/realworld/workers).
    root: str | None = None
    #: A multi-module Worker: the other ES modules (paths in the same folder as
    #: ``file``, which is the main module); each side gets them as one upload.
    modules: tuple[str, ...] = ()


#: env of Workers that fetch: the loopback upstream and a refused loopback port
#: (placeholders bound by harness.bind_env when the upstream is running).
UPSTREAM_ENV = (("UPSTREAM", "{upstream}"), ("CLOSED", "{closed}"))


def get(label: str, path: str = "/", **kw: object) -> Case:
    return Case(label=label, path=path, **kw)  # type: ignore[arg-type]


def post(label: str, path: str, body: bytes, ctype: str | None = None, **kw: object) -> Case:
    headers = (("content-type", ctype),) if ctype else ()
    headers = headers + tuple(kw.pop("headers", ()))  # type: ignore[arg-type]
    return Case(label=label, path=path, method="POST", body=body, headers=headers, **kw)  # type: ignore[arg-type]


def routes(*paths: str) -> tuple[Case, ...]:
    """One GET per path; the label is the path."""
    return tuple(get(p.strip("/") or "root", p) for p in paths)


WORKERS: tuple[Worker, ...] = (
    # ---- bodies and default content types
    Worker(
        "bodies",
        "bodies.js",
        routes(
            "/string",
            "/empty-string",
            "/unicode",
            "/lone-surrogate",
            "/uint8array",
            "/arraybuffer",
            "/dataview",
            "/null",
            "/undefined",
            "/no-args",
            "/status-204",
            "/urlsearchparams",
            "/blob",
            "/blob-typed",
            "/string-with-type",
            "/type-overrides-case",
            "/json-string-body",
            "/number-body",
            "/object-body",
            "/int16array",
        ),
    ),
    Worker(
        "response-json",
        "response_json.js",
        routes(
            "/plain",
            "/init",
            "/override-type",
            "/array",
            "/unicode",
            "/string",
            "/null",
            "/nested-undefined",
            "/bigint",
            "/headers-object",
        ),
    ),
    Worker(
        "redirect",
        "redirect.js",
        routes(
            "/default",
            "/301",
            "/302",
            "/303",
            "/307",
            "/308",
            "/relative",
            "/bad-status",
            "/unicode-url",
            "/url-object",
            "/headers-immutable",
        ),
    ),
    Worker(
        "status",
        "status.js",
        routes(
            "/201",
            "/201-text",
            "/404-text",
            "/418",
            "/299",
            "/599",
            "/empty-text",
            "/bad-99",
            "/bad-600",
            "/bad-text",
            "/500-text",
            "/status-props",
        ),
    ),
    # ---- response headers on the wire
    Worker(
        "headers-out",
        "headers_out.js",
        routes(
            "/object",
            "/pairs",
            "/headers-object",
            "/order",
            "/case",
            "/append-same",
            "/append-many",
            "/set-cookie",
            "/set-cookie-case",
            "/set-overrides",
            "/delete",
            "/whitespace",
            "/empty-value",
            "/content-type-set",
            "/latin1",
        ),
    ),
    Worker(
        "headers-api",
        "headers_api.js",
        routes(
            "/iterate",
            "/keys-values",
            "/foreach",
            "/get-combined",
            "/get-set-cookie",
            "/has-delete",
            "/invalid-name",
            "/invalid-value",
            "/constructor-forms",
            "/guard-request",
            "/guard-response",
        ),
    ),
    # ---- the request as the Worker sees it
    Worker(
        "request-echo",
        "request_echo.js",
        (
            get("get", "/path/to?x=1&y=%20z#frag"),
            get(
                "headers",
                "/h",
                headers=(
                    ("X-Custom", "A"),
                    ("x-custom", "B"),
                    ("Accept", "*/*"),
                    ("Cookie", "a=1"),
                    ("User-Agent", "conformance/1"),
                ),
            ),
            post("post-text", "/p", b"hello world", "text/plain"),
            post("post-unicode", "/p", "héllo wörld ✓ 😀".encode(), "text/plain; charset=utf-8"),
            post("post-binary", "/p", bytes(range(256)), "application/octet-stream"),
            post("post-invalid-utf8", "/p", b"a\xff\xfeb\xc3(", "text/plain"),
            Case("put", "/p", method="PUT", body=b"put body"),
            Case("delete", "/p", method="DELETE"),
            Case("patch", "/p", method="PATCH", body=b"{}"),
            Case("options", "/p", method="OPTIONS"),
            get("query-unicode", "/%E2%9C%93?q=%C3%A9&r=a+b"),
            get("dot-segments", "/a/b/../c/./d"),
        ),
    ),
    Worker(
        "request-body",
        "request_body.js",
        (
            post("json", "/json", b'{"a":[1,2,{"b":null}],"c":"\\u00e9"}', "application/json"),
            post("json-invalid", "/json", b"{nope", "application/json"),
            post("array-buffer", "/ab", bytes([0, 1, 2, 250, 255])),
            post("bytes-hex", "/ab", "✓".encode()),
            post("clone", "/clone", b"cloned body"),
            post("body-used", "/used", b"once"),
            post(
                "form-urlencoded",
                "/form",
                b"a=1&b=x+y&c=%C3%A9",
                "application/x-www-form-urlencoded",
            ),
            get("get-no-body", "/text"),
            post("empty-post", "/text", b""),
            post("bom", "/text", b"\xef\xbb\xbfbom"),
        ),
    ),
    Worker(
        "request-new",
        "request_new.js",
        routes(
            "/methods",
            "/url-resolution",
            "/get-with-body",
            "/headers-init",
            "/clone-props",
            "/from-request",
            "/bad-url",
            "/body-types",
        ),
    ),
    Worker(
        "response-api",
        "response_api.js",
        routes(
            "/props",
            "/clone",
            "/body-used",
            "/text-json",
            "/array-buffer",
            "/error",
            "/headers-mutable",
            "/null-body-status",
        ),
    ),
    # ---- URL
    Worker("url-basic", "url_basic.js", routes("/")),
    Worker("url-relative", "url_relative.js", routes("/")),
    Worker("url-percent", "url_percent.js", routes("/")),
    Worker("url-hosts", "url_hosts.js", routes("/")),
    Worker("url-idna", "url_idna.js", routes("/", "/uts46", "/setters")),
    Worker("url-schemes", "url_schemes.js", routes("/")),
    Worker("url-setters", "url_setters.js", routes("/")),
    Worker("url-searchparams", "url_searchparams.js", routes("/")),
    Worker("url-errors", "url_errors.js", routes("/")),
    Worker("urlsearchparams", "urlsearchparams.js", routes("/")),
    # ---- encoding, base64, crypto, cloning, microtasks
    Worker("textencoder", "textencoder.js", routes("/")),
    Worker("textdecoder", "textdecoder.js", routes("/")),
    Worker("base64", "base64.js", routes("/")),
    Worker("crypto", "crypto.js", routes("/")),
    Worker(
        "webcrypto",
        "webcrypto.js",
        routes("/digest", "/hmac", "/aes", "/asymmetric", "/derive", "/errors", "/to-string-tag"),
    ),
    Worker("structured-clone", "structured_clone.js", routes("/")),
    Worker("microtasks", "microtasks.js", routes("/")),
    Worker("dom-exception", "dom_exception.js", routes("/")),
    Worker(
        "events-abort",
        "events_abort.js",
        (
            *routes("/typeof", "/event", "/target", "/abort", "/any", "/request-signal", "/clone"),
            get("throwing-listener", "/throwing-listener", expect_error=True),
        ),
    ),
    Worker("globals", "globals.js", routes("/")),
    # workerd's global surface (issue 25): navigator, code generation refused; the
    # worker ends as esbuild ends every bundle (`export { app as default }`)
    Worker("code-generation", "code_generation.js", routes("/", "/navigator")),
    Worker("feature-detect", "feature_detect.js", routes("/")),
    # ---- multi-module uploads (issue 25): live bindings, import cycles
    Worker(
        "modules-live",
        "modules/live/main.js",
        routes("/live", "/calls", "/shadowing", "/namespace", "/assign"),
        modules=("modules/live/counter.js", "modules/live/reexport.js"),
    ),
    Worker(
        "modules-cycle",
        "modules/cycle/main.js",
        routes("/calls", "/early", "/self"),
        modules=("modules/cycle/a.js", "modules/cycle/b.js", "modules/cycle/c.js"),
    ),
    # ---- handler shapes
    Worker("async-handler", "async_handler.js", routes("/", "/deep")),
    Worker("named-fetch", "named_fetch.js", routes("/")),
    Worker("export-default-function-object", "export_class.js", routes("/")),
    Worker(
        "service-worker",
        "service_worker.js",
        routes("/", "/async", "/headers"),
        syntax="service-worker",
    ),
    Worker(
        "service-worker-env",
        "service_worker_env.js",
        routes("/"),
        syntax="service-worker",
        env=(("GREETING", "hi from env"),),
    ),
    Worker(
        "env-vars",
        "env_vars.js",
        routes("/", "/keys"),
        env=(
            ("API_BASE", "https://api.example.com/v1"),
            ("EMPTY", ""),
            ("UNICODE", "héllo ✓"),
            ("JSONISH", '{"a":1}'),
        ),
    ),
    Worker("ctx", "ctx.js", routes("/", "/wait-until")),
    # ---- errors: workerd 500 <-> isogate Outcome.JS_ERROR
    Worker(
        "errors",
        "errors.js",
        (
            get("throw-sync", "/sync", expect_error=True),
            get("throw-async", "/async", expect_error=True),
            get("reject-non-error", "/reject-string", expect_error=True),
            get("return-string", "/string", expect_error=True),
            get("return-undefined", "/undefined", expect_error=True),
            get("return-plain-object", "/object", expect_error=True),
            get("caught-ok", "/caught"),
        ),
    ),
    Worker(
        "service-worker-errors",
        "service_worker_errors.js",
        (
            get("throw-in-listener", "/throw", expect_error=True),
            get("respondwith-reject", "/reject", expect_error=True),
            get("ok", "/ok"),
        ),
        syntax="service-worker",
    ),
    Worker(
        "content-encoding",
        "content_encoding.js",
        (
            get("gzip-no-accept", "/gzip"),
            get("gzip-accept", "/gzip", headers=(("accept-encoding", "gzip"),)),
            get("identity", "/identity"),
        ),
    ),
    Worker("stream-body", "stream_body.js", routes("/stream", "/tee")),
    # ---- the event loop (issue 18): timers, fetch to the loopback upstream, abort,
    # waitUntil. UPSTREAM/CLOSED are bound at test time (harness.bind_env).
    Worker(
        "loop-timers",
        "loop_timers.js",
        routes(
            "/order",
            "/deadlines",
            "/nested",
            "/clamping",
            "/interval",
            "/clear",
            "/ids",
            "/args",
            "/bad-handler",
            "/scheduler",
            "/throwing-callback",
            "/race",
        ),
    ),
    Worker(
        "loop-fetch",
        "loop_fetch.js",
        routes(
            "/methods",
            "/bodies",
            "/request-body",
            "/headers",
            "/response",
            "/statuses",
            "/large",
            "/cookies",
            "/gzip",
            "/errors",
            "/init-extras",
            "/concurrent",
        ),
        env=UPSTREAM_ENV,
    ),
    Worker(
        "loop-redirects",
        "loop_redirects.js",
        (
            *(
                get(
                    f"{mode}-{code}{'-abs' if absolute else ''}",
                    f"/{mode}/{code}" + ("?abs=1" if absolute else ""),
                )
                for mode in ("follow", "manual")
                for code in (301, 302, 303, 307, 308)
                for absolute in (False, True)
                if not absolute or mode == "follow"
            ),
            # workerd refuses redirect: "error" (a TypeError) whatever the status: one case
            get("error-mode", "/error/302"),
            *routes("/chain/3", "/chain/20", "/chain/21", "/odd"),
        ),
        env=UPSTREAM_ENV,
    ),
    Worker(
        "loop-abort",
        "loop_abort.js",
        routes(
            "/api",
            "/fetch-already-aborted",
            "/fetch-abort-during",
            "/fetch-abort-reason",
            "/fetch-timeout",
            "/fetch-not-aborted",
        ),
        env=UPSTREAM_ENV,
    ),
    Worker(
        "loop-wait-until",
        "loop_wait_until.js",
        (
            get("timer-then-post", "/timer-then-post", sink=1),
            get("two", "/two", sink=2),
            get("returns-value", "/returns-value"),
        ),
        env=UPSTREAM_ENV,
    ),
)


def all_cases() -> list[tuple[Worker, Case]]:
    return [(w, c) for w in WORKERS for c in w.cases]
