"""The web APIs of the JS prelude (js/10-70), checked in a real V8 isolate.

Expected values were taken from Cloudflare workerd 2026-11-17 (npm ``workerd``) running
the same expressions, unless a comment says otherwise. Each test runs its JavaScript in
a child process (one isolate, the full prelude including 90-host.js), so a V8 crash can
only fail the test, and isolates are always torn down in the right order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Child: build a Sandbox (isolate + context + prelude), then either evaluate
# expressions (each must produce a string; async ones set globalThis.__out) or load
# a tenant function and invoke it with requests.
_CHILD = textwrap.dedent(
    r"""
    import json, sys, threading
    from isogate.runtime.isolate import Sandbox, check_source
    from isogate.runtime.types import InvokeRequest

    job = json.loads(sys.stdin.read())
    out = {}

    def run():
        sb = Sandbox()
        sb.enter()
        try:
            if job["kind"] == "eval":
                res = []
                for script in job["scripts"]:
                    sb.context.eval("globalThis.__out = undefined;")
                    sb.context.eval(script)
                    res.append(sb.eval_str("String(globalThis.__out)"))
                out["results"] = res
            else:
                loaded = sb.load(check_source(job["source"]), (), 1 << 20)
                out["load"] = [loaded.outcome.value, list(loaded.logs)]
                res = []
                for r in job["requests"]:
                    body = r.get("body", "").encode("latin-1")
                    req = InvokeRequest(r["method"], r["url"], tuple(map(tuple, r.get("headers", []))), body)
                    x = sb.invoke(req)
                    res.append({
                        "outcome": x.outcome.value,
                        "status": x.status,
                        "headers": [list(h) for h in x.headers],
                        "body": x.body.decode("latin-1"),
                        "logs": list(x.logs),
                        "error": None if x.error is None else [x.error.name, x.error.message],
                    })
                out["responses"] = res
        finally:
            sb.leave()
            sb.close()

    threading.stack_size(8 << 20)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(json.dumps(out))
    """
)


def _child(job: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def js(*exprs: str) -> list:
    """Evaluate each expression (may be async) in a fresh prelude context; JSON results.

    Every expression's value is JSON-stringified; a thrown error becomes
    ``{"throws": name, "message": message}``.
    """
    scripts = [
        "(async () => { try { globalThis.__out = JSON.stringify(await (async () => ("
        + e
        + "))()); }"
        " catch (err) { globalThis.__out = JSON.stringify({throws: err && err.name,"
        " message: err && err.message}); } })();"
        for e in exprs
    ]
    results = _child({"kind": "eval", "scripts": scripts})["results"]
    return [json.loads(r) if r not in (None, "undefined") else None for r in results]


def invoke(source: str, *requests: dict) -> list[dict]:
    data = _child({"kind": "invoke", "source": source, "requests": list(requests)})
    assert data["load"][0] == "ok", data
    return data["responses"]


def GET(url: str = "http://example.com/", **kw) -> dict:
    return {"method": "GET", "url": url, **kw}


# ---- Headers ------------------------------------------------------------------------


def test_headers_semantics_match_workerd() -> None:
    r = js(
        """(() => { const h = new Headers([["B","1"],["a","2"],["set-cookie","x"],["Set-Cookie","y"],["b","3"]]);
           return [[...h], [...h.keys()], h.getSetCookie(), h.get("set-cookie"), h.get("nope"), h.has("A")]; })()""",
        'new Headers({"a b": "x"})',
        'new Headers({"a": "x\\ny"})',
        'new Headers({"a": " \\t x y \\r\\n"}).get("a")',
        'new Headers([["a"]])',
        "new Headers(5)",
        '(() => { const r = Response.redirect("http://x/"); r.headers.set("a", "b"); })()',
        """(() => { const h = new Headers({a: "1", b: "2", c: "3"}); const out = [];
           for (const [k] of h) { out.push(k); if (k === "a") h.delete("b"); } return out; })()""",
        'new Headers({"set-cookie": "a"}).getAll("x")',
        '[...new Headers({"x": "é€"})]',
        "String(new Headers())",
    )
    assert r[0] == [
        [["a", "2"], ["b", "1, 3"], ["set-cookie", "x"], ["set-cookie", "y"]],
        ["a", "b", "set-cookie", "set-cookie"],
        ["x", "y"],
        "x, y",
        None,
        True,
    ]
    assert r[1] == {"throws": "TypeError", "message": "Invalid header name."}
    assert r[2] == {"throws": "TypeError", "message": "Invalid header value."}
    assert r[3] == "x y"
    assert r[4]["message"].startswith("To initialize a Headers object from a sequence")
    assert r[5]["throws"] == "TypeError"
    assert r[6] == {"throws": "TypeError", "message": "Can't modify immutable headers."}
    # WebIDL pair iterators are live (workerd iterates a snapshot: ["a", "b", "c"])
    assert r[7] == ["a", "c"]
    assert r[8]["message"] == 'getAll() can only be used with the header name "Set-Cookie".'
    assert r[9] == [["x", "é€"]]
    assert r[10] == "[object Object]"  # workerd sets no Symbol.toStringTag


# ---- Request / Response ---------------------------------------------------------------


def test_headers_iteration_is_live() -> None:
    """Iterators and forEach read the sorted, combined pairs afresh at every step, as
    WebIDL's pair iterators do: a header added or removed while iterating moves what the
    next index finds (workerd iterates a snapshot)."""
    r = js(
        # appended after the current position: reached; one sorted before it shifts the rest,
        # so the current pair comes again
        """(() => { const h = new Headers({m: "1", c: "2"}); const out = [];
           for (const [k, v] of h) { out.push(k + v); if (k === "c" && !h.has("z")) { h.append("z", "3"); h.append("a", "0"); } }
           return out; })()""",
        # deleted ahead of the position: never seen
        """(() => { const h = new Headers({a: "1", b: "2", c: "3"}); const out = [];
           h.forEach((v, k) => { out.push(k); if (k === "a") h.delete("b"); }); return out; })()""",
        # a value appended to a name being iterated shows up combined
        """(() => { const h = new Headers({a: "1", b: "2"}); const it = h.values();
           const first = it.next().value; h.append("b", "3"); return [first, it.next().value, it.next().done]; })()""",
        # keys() after a change made between next() calls
        """(() => { const h = new Headers({a: "1"}); const it = h.keys(); h.set("0", "x");
           return [it.next().value, it.next().value, it.next().done]; })()""",
    )
    assert r[0] == ["c2", "c2", "m1", "z3"]
    assert r[1] == ["a", "c"]
    assert r[2] == ["1", "2, 3", True]
    assert r[3] == ["0", "a", True]


def test_headers_from_headers_with_own_iterator() -> None:
    """A Headers given to the Headers constructor is converted through its @@iterator
    (WebIDL sequence conversion), so an overridden iterator is honoured; an untouched one
    copies every entry, Set-Cookie lines included."""
    r = js(
        """(() => { const h = new Headers({a: "1"});
           h[Symbol.iterator] = function* () { yield ["x", "y"]; };
           return [...new Headers(h).keys()]; })()""",
        """(() => { const h = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"], ["B", "3"]]);
           const c = new Headers(h); h.delete("b"); return [[...c], c.getSetCookie()]; })()""",
    )
    assert r[0] == ["x"]
    assert r[1] == [[["b", "3"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]], ["a=1", "b=2"]]


def test_response_bodies_and_default_content_types() -> None:
    r = js(
        """(async () => { const out = [];
           for (const b of ["s", new Uint8Array([1,2]), new Uint8Array([1,2,3]).subarray(1),
                            new DataView(new Uint8Array([5,6,7]).buffer, 1, 1), new Uint16Array([0x4142]).buffer,
                            new URLSearchParams({"a b": "c&d"}), 5, {a: 1}]) {
             const r = new Response(b); out.push([[...r.headers], new Uint8Array(await r.arrayBuffer()).join(",")]); }
           return out; })()""",
        """(async () => { const r = Response.json({a: "é"}, {status: 201}); return [r.status, [...r.headers], await r.text()]; })()""",
        """(async () => { const r = Response.json(undefined); return [[...r.headers], await r.text()]; })()""",
        """(async () => { const r = new Response("x"); return [r.ok, r.status, r.statusText, r.redirected, r.url, r.type, r.bodyUsed]; })()""",
        "[...new Response(null).headers]",
        '[new Response("", {status: 204}).body, [...new Response("", {status: 304}).headers]]',
    )
    ct_text = [["content-type", "text/plain;charset=UTF-8"]]
    assert r[0] == [
        [ct_text, "115"],
        [[], "1,2"],
        [[], "2,3"],
        [[], "6"],
        [[], "66,65"],
        [
            [["content-type", "application/x-www-form-urlencoded;charset=UTF-8"]],
            "97,43,98,61,99,37,50,54,100",
        ],
        [ct_text, "53"],
        [ct_text, "91,111,98,106,101,99,116,32,79,98,106,101,99,116,93"],
    ]
    assert r[1] == [201, [["content-type", "application/json"]], '{"a":"é"}']
    assert r[2] == [[["content-type", "application/json"]], "undefined"]
    assert r[3] == [True, 200, "", False, "", "default", False]
    assert r[4] == []
    assert r[5] == [None, []]


def test_response_validation_errors() -> None:
    r = js(
        "new Response(null, {status: 600})",
        "new Response(null, {status: 101})",
        'new Response("x", {status: 204})',
        'new Response(null, {statusText: "a\\nb"})',
        'Response.redirect("http://x/", 200)',
        'Response.redirect("/x")',
        'new Response("x", 5)',
        "new Response(null, {status: 200.7}).status",
        '(async () => { const r = new Response("abc"); await r.arrayBuffer(); return r.text(); })()',
        '(async () => { const r = new Response("x"); await r.text(); return r.clone(); })()',
        "Response.json(1n)",
    )
    range_msg = (
        "Responses may only be constructed with status codes in the range 200 to 599, inclusive."
    )
    assert r[0] == {"throws": "RangeError", "message": range_msg}
    assert r[1] == {"throws": "RangeError", "message": range_msg}
    assert r[2] == {
        "throws": "TypeError",
        "message": "Response with null body status (101, 204, 205, or 304) cannot have a body.",
    }
    assert r[3] == {"throws": "TypeError", "message": "Invalid statusText"}
    assert r[4] == {
        "throws": "RangeError",
        "message": "200 is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.",
    }
    assert r[5] == {"throws": "TypeError", "message": "Unable to parse URL: /x"}
    assert r[6]["throws"] == "TypeError"
    assert r[7] == 200
    assert r[8]["message"].startswith("Body has already been used.")
    assert r[9]["throws"] == "TypeError"
    assert r[10] == {"throws": "TypeError", "message": "Do not know how to serialize a BigInt"}


def test_request_api() -> None:
    r = js(
        '["get", "PATCH", "Post", "PROPFIND", "delete"].map(m => new Request("http://x/", {method: m}).method)',
        'new Request("http://x/", {method: "FOO"})',
        'new Request("http://x/", {method: "GET", body: "x"})',
        'new Request("/foo")',
        'new Request("HTTP://EXAMPLE.com:80/a/../b?x#f").url',
        'new Request("http://x/", {redirect: "error"})',
        """(async () => { const r = new Request("http://x/", {method: "POST", body: "hi"});
           const t = await r.text(); return [t, r.bodyUsed, [...r.headers], r.redirect]; })()""",
        """(async () => { const a = new Request("http://x/a", {method: "PUT", body: "b", headers: {x: "1"}});
           const b = new Request(a, {headers: {y: "2"}}); return [b.method, b.url, [...b.headers], await b.text(), a.bodyUsed]; })()""",
        """(async () => { const r = new Request("http://x/", {method: "POST", body: "{"}); return r.json(); })()""",
        "Object.getPrototypeOf(Request.prototype) === Object.getPrototypeOf(Response.prototype)",
    )
    assert r[0] == ["GET", "PATCH", "POST", "PROPFIND", "DELETE"]
    assert r[1] == {"throws": "TypeError", "message": "Invalid HTTP method string: FOO"}
    assert r[2] == {
        "throws": "TypeError",
        "message": "Request with a GET or HEAD method cannot have a body.",
    }
    assert r[3] == {"throws": "TypeError", "message": "Invalid URL: /foo"}
    assert r[4] == "http://example.com/b?x#f"
    assert r[5]["message"].startswith('Invalid redirect value, must be one of "follow" or "manual"')
    assert r[6] == ["hi", True, [["content-type", "text/plain;charset=UTF-8"]], "follow"]
    assert r[7] == ["PUT", "http://x/a", [["y", "2"]], "b", True]
    assert r[8]["throws"] == "SyntaxError"
    assert r[9] is True


# ---- URL ----------------------------------------------------------------------------------

# input -> href (or None when invalid), as workerd/Ada serialise them.
URLS = {
    "http://EXAMPLE.com./": "http://example.com./",
    "http://ÉXAMPLE.com/": "http://xn--xample-9ua.com/",
    "http://faß.de": "http://xn--fa-hia.de/",
    "http://☃.net": "http://xn--n3h.net/",
    "http://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com": "http://example.com/",  # full-width
    "http://x\u3002com": "http://x.com/",
    "http://xn--a.com": "http://xn--a.com/",  # Ada does not decode ASCII xn-- labels
    "http://xn--/": "http://xn--/",
    "http://xn--\u00e9.com/": None,
    "http://0x7f.1/": "http://127.0.0.1/",
    "http://[::ffff:1.2.3.4]/": "http://[::ffff:102:304]/",
    "http://[1:0:0:2::3:0]/": "http://[1::2:0:0:3:0]/",
    "http://a.b.c.09/": None,
    "http://1.2.3.4.5/": None,
    "http://x:0080/": "http://x/",
    "https://x:443/": "https://x/",
    "http://x:65536": None,
    "file:///C|/a": "file:///C:/a",
    "http://%41.com": "http://a.com/",
    "http://x/%2e%2E/a/./b/../c": "http://x/a/c",
    'http://x/a^b|c{}`"<> ': "http://x/a%5Eb|c%7B%7D%60%22%3C%3E",
    "http://x/?a^b|c{}`\"<>' ": "http://x/?a^b|c{}`%22%3C%3E%27",
    "http://u:p^|@x/": "http://u:p%5E%7C@x/",
    "mailto:a b?c d#e f": "mailto:a b?c%20d#e%20f",
    "http://a b/": None,
    "http:/\\x\\y\\..\\z": "http://x/z",
    "http://a:b@c:d@e/": "http://a:b%40c%3Ad@e/",
    "non-spec:/.//p": "non-spec:/.//p",
    "  http://x/\t\n  ": "http://x/",
}


def test_url_parsing_matches_workerd() -> None:
    exprs = [
        f"(() => {{ try {{ return new URL({json.dumps(u)}).href; }} catch (e) {{ return null; }} }})()"
        for u in URLS
    ]
    assert dict(zip(URLS, js(*exprs), strict=True)) == URLS


def test_url_components_setters_and_search_params() -> None:
    r = js(
        """(() => { const u = new URL("https://user:pass@host:8443/path;p?q=1&r=2#frag");
           return [u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash]; })()""",
        """(() => { const u = new URL("http://u:p@a.com:8000/p?q#f"); u.protocol = "https"; u.host = "h.com:81";
           u.pathname = "/a b/../c"; u.search = "?a b=c"; u.hash = "h h"; u.port = "443"; return u.href; })()""",
        """(() => { const u = new URL("http://x/?a=1&b=2&a=3"); const p = u.searchParams; p.append("c", "x y");
           p.delete("b"); p.sort(); return [u.search, p.getAll("a"), p.size, String(p), JSON.stringify(u)]; })()""",
        '[URL.canParse("x"), URL.canParse("x", "http://a/"), new URL("../x", "http://a/b/c").href]',
        'new URL("x")',
        """[...new URLSearchParams("?a=1&b=%zz&c=+%20&&d")].concat([...new URLSearchParams({x: "1", y: "é"})],
           [...new URLSearchParams([["k", "v"]])])""",
        'new URLSearchParams({"a b": "~!*()\'-_."}).toString()',
    )
    assert r[0] == [
        "https://host:8443",
        "https:",
        "user",
        "pass",
        "host:8443",
        "host",
        "8443",
        "/path;p",
        "?q=1&r=2",
        "#frag",
    ]
    assert r[1] == "https://u:p@h.com/c?a%20b=c#h%20h"  # 443 is https' default
    assert r[2] == ["?a=1&a=3&c=x+y", ["1", "3"], 3, "a=1&a=3&c=x+y", '"http://x/?a=1&a=3&c=x+y"']
    assert r[3] == [False, True, "http://a/x"]
    assert r[4] == {"throws": "TypeError", "message": "Invalid URL string."}
    assert r[5] == [
        ["a", "1"],
        ["b", "%zz"],
        ["c", "  "],
        ["d", ""],
        ["x", "1"],
        ["y", "é"],
        ["k", "v"],
    ]
    assert r[6] == "a+b=%7E%21*%28%29%27-_."


# ---- encoding, base64, crypto, structuredClone, microtasks ----------------------------------


def test_text_encoder_decoder_and_base64() -> None:
    r = js(
        '[...new TextEncoder().encode("a\\ud800b")]',
        '(() => { const u = new Uint8Array(5); const r = new TextEncoder().encodeInto("a\\u00e9\\ud83d\\ude00", u); return [r, [...u]]; })()',
        "new TextDecoder().decode(new Uint8Array([0xf0, 0x9f, 0x98, 0x41, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xe0, 0x80]))",
        'new TextDecoder("utf-8", {fatal: true}).decode(new Uint8Array([0xff]))',
        "[new TextDecoder().decode(new Uint8Array([0xef,0xbb,0xbf,0x41])), "
        'new TextDecoder("utf-8", {ignoreBOM: true}).decode(new Uint8Array([0xef,0xbb,0xbf,0x41]))]',
        "(() => { const d = new TextDecoder(); return [d.decode(new Uint8Array([0xe2, 0x82]), {stream: true}), d.decode(new Uint8Array([0xac]))]; })()",
        '[new TextDecoder("latin1").encoding, new TextDecoder(" UTF8 ").encoding]',
        'new TextDecoder("foo")',
        '[atob(" YW Jj\\n"), atob("YQ"), btoa("hi\\u00ff")]',
        'atob("a")',
        'btoa("\\u0100")',
    )
    assert r[0] == [97, 239, 191, 189, 98]
    assert r[1] == [{"read": 2, "written": 3}, [97, 195, 169, 0, 0]]
    assert r[2] == "\ufffdA" + "\ufffd" * 7
    assert r[3] == {"throws": "TypeError", "message": "Failed to decode input."}
    assert r[4] == ["A", "\ufeffA"]
    assert r[5] == ["", "€"]
    assert r[6] == ["windows-1252", "utf-8"]
    assert r[7] == {"throws": "RangeError", "message": '"foo" is not a valid encoding.'}
    assert r[8] == ["abc", "a", "aGn/"]
    assert r[9]["throws"] == "InvalidCharacterError"
    assert r[9]["message"].startswith("atob() called with invalid base64-encoded data.")
    assert r[10] == {
        "throws": "InvalidCharacterError",
        "message": "btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.",
    }


def test_crypto_random() -> None:
    r = js(
        "crypto.getRandomValues(new Uint8Array(65537))",
        "crypto.getRandomValues(new Float32Array(2))",
        "crypto.getRandomValues(new Uint8Array(65536)).length",
        "/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID())",
        # 4096 random bytes: every byte value shows up (a broken generator would not)
        "new Set(crypto.getRandomValues(new Uint8Array(4096))).size > 250",
        "(() => { const e = new DOMException('m', 'InvalidCharacterError'); "
        "return [e.name, e.message, e.code, e instanceof Error, String(e)]; })()",
    )
    assert r[0] == {
        "throws": "QuotaExceededError",
        "message": "getRandomValues() only accepts buffers of size <= 64K but provided 65537 bytes.",
    }
    assert r[1] == {
        "throws": "TypeMismatchError",
        "message": "ArrayBufferView argument to getRandomValues() must be an integer-typed view.",
    }
    assert r[2:5] == [65536, True, True]
    assert r[5] == ["InvalidCharacterError", "m", 5, True, "InvalidCharacterError: m"]


def test_random_values_differ_between_invocations() -> None:
    # The host reseeds the generator with fresh OS bytes before every invocation.
    src = "export default { fetch() { return new Response(crypto.randomUUID()); } }"
    a1, a2 = invoke(src, GET(), GET())
    assert a1["body"] != a2["body"]


def test_structured_clone() -> None:
    r = js(
        "structuredClone(function foo() {})",
        'structuredClone(Symbol("x"))',
        '(() => { const e = structuredClone(new RangeError("boom", {cause: 1})); return [e.name, e.message, e instanceof RangeError, e.cause, Object.keys(e)]; })()',
        "(() => { const o = {a: [1]}; o.self = o; o.m = new Map([[o, o.a]]); const c = structuredClone(o); return [c !== o, c.self === c, c.m.get(c) === c.a]; })()",
        "(() => { const a = [1,,3]; a.x = 5; const c = structuredClone(a); return [1 in c, c.length, c.x]; })()",
        "(() => { const r = /a/gi; r.lastIndex = 3; const c = structuredClone(r); return [String(c), c.lastIndex]; })()",
        "(() => { const b = new ArrayBuffer(8); const c = structuredClone({a: new Uint8Array(b, 2, 3), b: new DataView(b)}); "
        "return [c.a.buffer === c.b.buffer, c.a.byteOffset, c.a.length, c.a.buffer !== b]; })()",
        "(() => { class A { constructor() { this.x = 1; } } const c = structuredClone(new A()); "
        "return [c, Object.getPrototypeOf(c) === Object.prototype, structuredClone(new Date(5)).getTime(), String(structuredClone(1n))]; })()",
        "(() => { const b = new ArrayBuffer(4); const c = structuredClone(b, {transfer: [b]}); return [b.byteLength, c.byteLength]; })()",
        # a view whose buffer is transferred keeps its place in the moved buffer
        "(() => { const v = new Uint8Array(new ArrayBuffer(8), 2, 3); v.set([7, 8, 9]); "
        "const c = structuredClone(v, {transfer: [v.buffer]}); "
        "return [v.length, v.buffer.byteLength, c.byteOffset, c.length, Array.from(c), c.buffer.byteLength]; })()",
    )
    assert r[0] == {"throws": "DataCloneError", "message": "function foo() {} could not be cloned."}
    assert r[1] == {"throws": "DataCloneError", "message": "Symbol(x) could not be cloned."}
    assert r[2] == ["RangeError", "boom", True, 1, []]
    assert r[3] == [True, True, True]
    assert r[4] == [False, 3, 5]
    assert r[5] == ["/a/gi", 0]
    assert r[6] == [True, 2, 3, True]
    assert r[7] == [{"x": 1}, True, 5, "1"]
    assert r[8] == [0, 4]
    assert r[9] == [0, 0, 2, 3, [7, 8, 9], 8]


def test_queue_microtask_order_and_errors() -> None:
    r = js(
        """(async () => { const log = []; queueMicrotask(() => log.push(1)); Promise.resolve().then(() => log.push(2));
           queueMicrotask(() => log.push(3)); log.push(0); await null; await null; await null; return log; })()""",
        "queueMicrotask(1)",
    )
    assert r[0] == [0, 1, 2, 3]
    assert r[1] == {
        "throws": "TypeError",
        "message": "Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.",
    }


# ---- console -------------------------------------------------------------------------------


def test_console_formatting_like_workerd() -> None:
    src = r"""
    export default { fetch() {
      console.log("a", 1, "b", {x: [1, {y: "s"}], f() {}, n: null, u: undefined, d: new Date(0), r: /x/g,
        m: new Map([[1,2]]), s: new Set([1]), big: 10n, sym: Symbol("q")}, [1, "two", [3]]);
      console.log("%s is %d and %o %j %%", "x", 42.5, {a: 1}, 3);
      console.log(undefined, null, true, -0, NaN, "str", 'q"uote');
      console.log({ "a-b": 1, ["c d"]: "x\ny" }, new Uint8Array([1, 2]), function foo() {}, class Bar {}, () => 1);
      console.log({a: {b: {c: {d: {e: 1}}}}});
      console.log(new Array(200).fill(1));
      const cyc = {n: 1}; cyc.self = cyc; console.log(cyc);
      console.log([undefined, , null], {}, [], Object.create(null));
      console.warn("w"); console.error("e"); console.info("i"); console.debug("d");
      return new Response("ok");
    } }
    """
    (res,) = invoke(src, GET())
    grid = "\n".join(["  " + ", ".join(["1"] * 12) + ","] * 8 + ["  1, 1, 1, 1,"])
    assert res["logs"] == [
        "a 1 b {\n  x: [ 1, { y: 's' } ],\n  f: [Function: f],\n  n: null,\n  u: undefined,\n"
        "  d: 1970-01-01T00:00:00.000Z,\n  r: /x/g,\n  m: Map(1) { 1 => 2 },\n  s: Set(1) { 1 },\n"
        "  big: 10n,\n  sym: Symbol(q)\n} [ 1, 'two', [ 3 ] ]",
        "x is 42.5 and { a: 1 } 3 %",
        'undefined null true -0 NaN str q"uote',
        "{ 'a-b': 1, 'c d': 'x\\ny' } Uint8Array(2) [ 1, 2 ] [Function: foo] [class Bar] [Function (anonymous)]",
        "{ a: { b: { c: [Object] } } }",
        "[\n" + grid + "\n  ... 100 more items\n]",
        "<ref *1> { n: 1, self: [Circular *1] }",
        "[ undefined, <1 empty item>, null ] {} [] [Object: null prototype] {}",
        "[warn] w",
        "[error] e",
        "[info] i",
        "[debug] d",
    ]


def test_console_buffer_bounds() -> None:
    src = """
    export default { fetch(req) {
      const n = Number(new URL(req.url).searchParams.get("n"));
      const size = Number(new URL(req.url).searchParams.get("size"));
      for (let i = 0; i < n; i++) console.log(String(i).padEnd(size, "x"));
      return new Response("ok");
    } }
    """
    many, big, exact = invoke(
        src,
        GET("http://x/?n=5000&size=1"),
        GET("http://x/?n=100&size=2000"),
        GET("http://x/?n=1000&size=1"),
    )
    assert len(many["logs"]) == 1001 and many["logs"][-1].startswith("[console output truncated")
    assert many["logs"][999] == "999"
    assert sum(len(x) for x in big["logs"][:-1]) <= 64 * 1024
    assert big["logs"][-1].startswith("[console output truncated")
    assert len(big["logs"]) == 33
    assert len(exact["logs"]) == 1000  # exactly at the bound: no marker


# ---- the host hooks end to end -----------------------------------------------------------


def test_wire_headers_and_bodies_like_workerd() -> None:
    src = r"""
    export default { async fetch(req) {
      const t = new URL(req.url).searchParams.get("t");
      if (t === "hdr") return new Response("x", {headers: [["X-B","1"],["x-a","2"],["Set-Cookie","a=1"],
        ["set-cookie","b=2"],["X-B","3"],["content-length","99"],["connection","close"],["te","x"],
        ["transfer-encoding","chunked"],["", "empty"],["xé","v"],["proxy-connection","y"],["x-v","é€"]]});
      if (t === "bin") return new Response(new Uint8Array([0, 128, 255]));
      if (t === "lone") return new Response("a\ud800");
      if (t === "json") return Response.json({a: "é"});
      if (t === "redir") return Response.redirect("https://example.com/a b", 301);
      if (t === "echo") return new Response(req.body, {headers: {"x-method": req.method}});
      if (t === "req") return Response.json({m: req.method, u: req.url, h: [...req.headers], r: req.redirect,
        b: await req.text(), imm: (() => { try { req.headers.set("a", "b"); } catch (e) { return e.message; } })()});
      if (t === "error") return Response.error();
      return new Response("?");
    } }
    """
    hdr, binary, lone, js_, redir, echo, req, err = invoke(
        src,
        GET("http://x/?t=hdr"),
        GET("http://x/?t=bin"),
        GET("http://x/?t=lone"),
        GET("http://x/?t=json"),
        GET("http://x/?t=redir"),
        {"method": "PUT", "url": "http://x/?t=echo", "body": "\x00\xff"},
        {
            "method": "post",
            "url": "http://x/a/../?t=req",
            "headers": [["X-Foo", "Bar"], ["x-foo", "baz"]],
            "body": "h\xc3\xa9",
        },
        GET("http://x/?t=error"),
    )
    # workerd's wire order: its common headers first (its spelling), then the others
    # sorted by name as spelled (byte order: "X-B" < "proxy-connection" < "x-a"),
    # values as UTF-8 bytes.
    assert hdr["headers"] == [
        ["Content-Type", "text/plain;charset=UTF-8"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["X-B", "1"],
        ["X-B", "3"],
        ["proxy-connection", "y"],
        ["x-a", "2"],
        ["x-v", "é€".encode().decode("latin-1")],
    ]
    assert binary["headers"] == [] and binary["body"] == "\x00\x80\xff"
    assert lone["body"] == "a\xed\xa0\x80"  # WTF-8, the bytes workerd sends
    assert js_["headers"] == [["Content-Type", "application/json"]]
    assert js_["body"].encode("latin-1").decode() == '{"a":"é"}'
    assert (redir["status"], redir["headers"], redir["body"]) == (
        301,
        [["Location", "https://example.com/a%20b"]],
        "",
    )
    assert echo["body"] == "\x00\xff" and echo["headers"] == [["x-method", "PUT"]]
    assert json.loads(req["body"].encode("latin-1")) == {
        "m": "POST",
        "u": "http://x/?t=req",
        "h": [["x-foo", "Bar, baz"]],
        "r": "manual",
        "b": "hé",
        "imm": "Can't modify immutable headers.",
    }
    assert err["outcome"] == "js_error"


def test_host_hooks_survive_tampering() -> None:
    src = r"""
    JSON.stringify = () => "HACKED";
    JSON.parse = () => ({});
    Object.defineProperty(Object.prototype, "headers", {get() { return [["evil", "1"]]; }, set(v) {}, configurable: true});
    Object.defineProperty(Object.prototype, "body", {get() { return "evil"; }, set(v) {}, configurable: true});
    Object.defineProperty(Object.prototype, "toJSON", {value: () => "evil", configurable: true});
    Object.defineProperty(Array.prototype, "0", {get() { return "evil"; }, set(v) {}, configurable: true});
    const bytes = new Uint8Array(3); bytes[0] = 0; bytes[1] = 200; bytes[2] = 255;
    Array.prototype[Symbol.iterator] = function* () { yield "evil"; };
    Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "length", {get() { return 1; }, configurable: true});
    String.prototype.toWellFormed = () => "evil"; String.prototype.isWellFormed = () => false;
    String.prototype.charCodeAt = () => 65; String.prototype.slice = () => "evil";
    String.prototype.toLowerCase = () => "evil"; String.fromCharCode = () => "E";
    Promise.prototype.then = function () { return "evil"; };
    Reflect.apply = () => "evil"; Function.prototype.call = () => "evil"; Function.prototype.apply = () => "evil";
    Map.prototype.get = () => "evil"; Map.prototype.set = () => "evil";
    export default { fetch(req) {
      console.log("still logging", 1);
      const t = req.url.endsWith("bin") ? bytes : "h\u00e9llo";
      return new Response(t, {status: 201, headers: {"X-Ok": "yes", "Set-Cookie": "s=1"}});
    } }
    """
    text, binary = invoke(src, GET("http://x/text"), GET("http://x/bin"))
    for res in (text, binary):
        assert res["outcome"] == "ok", res
        assert res["status"] == 201
        assert res["logs"] == ["still logging 1"]
    assert text["headers"] == [
        ["Content-Type", "text/plain;charset=UTF-8"],
        ["Set-Cookie", "s=1"],
        ["X-Ok", "yes"],
    ]
    assert text["body"].encode("latin-1").decode() == "héllo"
    assert binary["headers"] == [["Set-Cookie", "s=1"], ["X-Ok", "yes"]]
    assert binary["body"] == "\x00\xc8\xff"


GLOBALS = [
    "URL",
    "URLSearchParams",
    "Headers",
    "Request",
    "Response",
    "TextEncoder",
    "TextDecoder",
    "atob",
    "btoa",
    "structuredClone",
    "queueMicrotask",
    "console",
    "DOMException",
    "Crypto",
    "Event",
    "CustomEvent",
    "EventTarget",
    "AbortController",
    "AbortSignal",
]


def test_globals_are_writable_configurable_not_enumerable() -> None:
    (d,) = js(
        f"{json.dumps(GLOBALS)}.map(n => {{ const d = Object.getOwnPropertyDescriptor(globalThis, n); "
        "return [n, d.writable, d.enumerable, d.configurable]; })"
    )
    assert d == [[n, True, False, True] for n in GLOBALS]


# ---- regressions found by the workerd conformance suite ----------------------------------


def test_wire_header_order_case_and_joining_like_workerd() -> None:
    # Expected lines taken from workerd on the wire (names as sent, values as bytes).
    src = r"""
    export default { fetch(req) {
      const t = new URL(req.url).pathname;
      if (t === "/many") {
        const h = new Headers();
        for (const n of ["Vary", "Cache-Control", "X-Custom", "Access-Control-Allow-Headers", "ETag", "Date"]) {
          h.append(n, "one"); h.append(n.toLowerCase(), "two");
        }
        return new Response("x", {headers: h});
      }
      if (t === "/order") return new Response("x", {headers: [["zz", "1"], ["Content-Type", "text/x"],
        ["a_c", "6"], ["A0", "8"], ["a", "5"], ["Location", "/l"], ["Host", "h"], ["x-upper", "U"], ["X-lower", "l"]]});
      if (t === "/spelling") {
        const h = new Headers();
        h.append("SET-cookie", "a"); h.append("set-COOKIE", "b");
        h.append("x-Foo", "1"); h.set("X-FOO", "2");
        h.append("X-Gone", "1"); h.delete("x-gone"); h.append("x-gone", "2");
        h.append("x-lat", "caf\u00e9");
        return new Response("x", {headers: h});
      }
      return new Response("?");
    } }
    """
    many, order, spelling = invoke(
        src, GET("http://x/many"), GET("http://x/order"), GET("http://x/spelling")
    )
    assert many["headers"] == [
        ["Date", "one, two"],
        ["Content-Type", "text/plain;charset=UTF-8"],
        ["Cache-Control", "one, two"],
        ["ETag", "one, two"],
        ["Vary", "one, two"],
        ["Access-Control-Allow-Headers", "one"],
        ["Access-Control-Allow-Headers", "two"],
        ["X-Custom", "one"],
        ["X-Custom", "two"],
    ]
    assert order["headers"] == [
        ["Host", "h"],
        ["Location", "/l"],
        ["Content-Type", "text/x"],
        ["A0", "8"],
        ["X-lower", "l"],
        ["a", "5"],
        ["a_c", "6"],
        ["x-upper", "U"],
        ["zz", "1"],
    ]
    assert spelling["headers"] == [
        ["Content-Type", "text/plain;charset=UTF-8"],
        ["Set-Cookie", "a"],
        ["SET-cookie", "b"],
        ["x-Foo", "2"],
        ["x-gone", "2"],
        ["x-lat", "caf\xc3\xa9"],
    ]


def test_request_body_presence_and_methods_like_workerd() -> None:
    src = r"""
    export default { async fetch(req) {
      const text = await req.text();
      return Response.json({m: req.method, hasBody: req.body !== null, used: req.bodyUsed, text});
    } }
    """
    rs = invoke(
        src,
        {"method": "POST", "url": "http://x/", "headers": [["content-length", "0"]]},
        {"method": "POST", "url": "http://x/"},
        {"method": "GET", "url": "http://x/", "headers": [["transfer-encoding", "chunked"]]},
        {"method": "PUT", "url": "http://x/", "body": "ab"},
    )
    assert [json.loads(r["body"]) for r in rs] == [
        {"m": "POST", "hasBody": True, "used": True, "text": ""},
        {"m": "POST", "hasBody": False, "used": False, "text": ""},
        {"m": "GET", "hasBody": True, "used": True, "text": ""},
        {"m": "PUT", "hasBody": True, "used": True, "text": "ab"},
    ]
    r = js(
        '["patch", "propfind", "Patch"].map(m => { try { return new Request("http://x/", {method: m}).method; }'
        " catch (e) { return e.name; } })",
        '["get", "Options", "PURGE"].map(m => new Request("http://x/", {method: m}).method)',
    )
    assert r == [["TypeError", "TypeError", "TypeError"], ["GET", "OPTIONS", "PURGE"]]


def test_no_to_string_tags_like_workerd() -> None:
    (r,) = js(
        "[new URL('http://x/'), new URLSearchParams(), new Request('http://x/'), new Response(''),"
        " new TextEncoder(), new DOMException('m', 'AbortError'), new Blob([]), crypto]"
        ".map(v => Object.prototype.toString.call(v))"
        ".concat([new DOMException('m') instanceof Error, String(new DOMException('m', 'AbortError'))])"
    )
    # crypto is the exception: WebIDL's @@toStringTag on Crypto, SubtleCrypto and CryptoKey
    # (test_webcrypto.py), which workerd leaves out (docs/compatibility.md)
    assert r == ["[object Object]"] * 7 + ["[object Crypto]", True, "AbortError: m"]


def test_blob_and_file_like_workerd() -> None:
    r = js(
        """(async () => { const b = new Blob(["ab", new Uint8Array([99]), new Blob(["d"]), 1], {type: "Text/HTML"});
           return [b.size, b.type, await b.text(), b.slice(1, 3).size, b.slice(1, 3, "X/Y").type,
             await b.slice(-2).text(), b.slice(4, 2).size, [...await b.bytes()],
             (await b.arrayBuffer()).byteLength, new Blob(["\\ud800"]).size, new Blob([], {type: "\\u00e9"}).type]; })()""",
        "new Blob('abc')",
        "new Blob([], {endings: 'native'})",
        """(() => { const f = new File(["abc"], "n.txt", {type: "text/plain", lastModified: 5});
           return [f.name, f.size, f.type, f.lastModified, f instanceof Blob]; })()""",
        """(async () => { const out = [];
           for (const b of [new Blob(["<p>"], {type: "Text/HTML"}), new Blob(["q"])]) {
             const r = new Response(b); out.push([r.headers.get("content-type"), await r.text()]); }
           const q = new Request("http://x/", {method: "POST", body: new Blob(["blob"], {type: "text/x"})});
           out.push([q.headers.get("content-type"), await q.text()]);
           const bl = await new Response("hi", {headers: {"content-type": "X/Y; A=B"}}).blob();
           out.push([bl.type, bl.size, await bl.text()]);
           return out; })()""",
    )
    assert r[0] == [5, "text/html", "abcd1", 2, "x/y", "d1", 0, [97, 98, 99, 100, 49], 5, 3, ""]
    assert (
        r[1]["message"]
        == "Failed to construct 'Blob': constructor parameter 1 is not of type 'Array'."
    )
    assert r[2]["message"] == "The 'endings' field on 'Options' is not implemented."
    assert r[3] == ["n.txt", 3, "text/plain", 5, True]
    assert r[4] == [["text/html", "<p>"], [None, "q"], ["text/x", "blob"], ["x/y;a=B", 2, "hi"]]


def test_blob_body_survives_tampering() -> None:
    src = r"""
    const b = new Blob([new Uint8Array([0, 200, 255])], {type: "application/x-t"});
    Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "length", {get() { return 1; }, configurable: true});
    Uint8Array.prototype.subarray = () => "evil"; String.prototype.indexOf = () => -1;
    Array.prototype.sort = function () { return this; };
    export default { fetch() { return new Response(b.slice(1, 3, "Application/X-T"), {headers: {"X-Z": "1", "Vary": "a"}}); } }
    """
    (r,) = invoke(src, GET())
    assert r["outcome"] == "ok", r
    assert r["body"] == "\xc8\xff"
    assert r["headers"] == [["Content-Type", "application/x-t"], ["Vary", "a"], ["X-Z", "1"]]


def test_events_and_abort_survive_tampering() -> None:
    # Listeners, abort reactions and dependent signals live in private state reached
    # through captured intrinsics: replaced Map/Set methods, Reflect.apply, call/apply,
    # Array and Object prototype accessors, and AbortSignal/Event getters change nothing
    # (workerd keeps all of this in C++).
    src = r"""
    Map.prototype.get = () => undefined; Map.prototype.set = function () { return this; };
    Map.prototype.has = () => false; Map.prototype.delete = () => false;
    Map.prototype.forEach = () => {}; Map.prototype.clear = () => {};
    Set.prototype.add = function () { return this; }; Set.prototype.forEach = () => {};
    Set.prototype.delete = () => false;
    Reflect.apply = () => "evil"; Function.prototype.call = () => "evil"; Function.prototype.apply = () => "evil";
    Object.defineProperty(Array.prototype, "0", {get() { return "evil"; }, set(v) {}, configurable: true});
    Object.defineProperty(Object.prototype, "fn", {get() { return () => "evil"; }, configurable: true});
    Object.defineProperty(Object.prototype, "key", {get() { return null; }, configurable: true});
    Object.defineProperty(AbortSignal.prototype, "aborted", {get() { return true; }, configurable: true});
    Object.defineProperty(Event.prototype, "type", {get() { return "evil"; }, configurable: true});
    export default { fetch() {
      let log = "";
      const c = new AbortController();
      const c2 = new AbortController();
      const any = AbortSignal.any([c.signal, c2.signal]);
      const et = new EventTarget();
      et.addEventListener("x", () => { log += "x;"; }, {signal: any});
      et.addEventListener("x", {handleEvent() { log += "h;"; }}, {once: true});
      const ok = et.dispatchEvent(new Event("x", {cancelable: true}));
      log += ok + ";";
      any.onabort = () => { log += "onabort;"; };
      any.addEventListener("abort", (e) => { log += "abort:" + e.isTrusted + ";"; });
      c.abort("why");
      et.dispatchEvent(new Event("x"));
      c2.abort("later");
      log += any.reason + ";";
      const r = new Request("http://x/", {signal: c.signal});
      log += (r.signal === c.signal) + ";" + (r.clone().signal === c.signal) + ";";
      return new Response(log);
    } }
    """
    (r,) = invoke(src, GET())
    assert r["outcome"] == "ok", r
    assert r["body"] == "x;h;true;onabort;abort:true;why;true;true;"


def test_consumed_body_stream_is_locked_and_read_cannot_be_intercepted() -> None:
    # After text()/json()/arrayBuffer()/blob() the body is still a stream, but a
    # disturbed and locked one (its reader is never released), for in-memory and
    # stream bodies alike, like workerd.
    r = js(
        """(async () => { const out = [];
           for (const make of [() => new Response("ab"),
                               () => new Response(new ReadableStream({start(c) {
                                 c.enqueue(new Uint8Array([97, 98])); c.close(); }}))]) {
             for (const m of ["text", "json", "arrayBuffer", "blob"]) {
               const r = make(); const p = r[m](); p.catch(() => {});
               let threw = "none";
               try { r.body.getReader(); } catch (e) { threw = e.name; }
               out.push([r.body !== null, r.body.locked, r.bodyUsed, threw]);
             }
           }
           return out; })()""",
        # Reading a stream body settles nothing that a patched Object.prototype.then
        # could hijack: the bytes read are the bytes in the stream.
        """(async () => {
           const r = new Response(new ReadableStream({start(c) {
             c.enqueue(new TextEncoder().encode("hello")); c.close(); }}));
           Object.prototype.then = function (ok) { delete Object.prototype.then; ok({value: 1}); };
           try { return await r.text(); } finally { delete Object.prototype.then; } })()""",
        # a chunk that is not bytes still fails with a TypeError
        """new Response(new ReadableStream({start(c) { c.enqueue("x"); c.close(); }})).text()
           .then(() => "resolved", (e) => e.name)""",
    )
    assert r[0] == [[True, True, True, "TypeError"]] * 8
    assert r[1] == "hello"
    assert r[2] == "TypeError"
