"""FormData, Blob and File, and Body.formData()/multipart bodies, in a real isolate."""

from __future__ import annotations

from .test_prelude import js

PAYLOAD = 'const p = (...l) => l.join("\\r\\n");'
PARSE = (
    "const parse = async (b, ct = 'multipart/form-data; boundary=boundary') => {"
    " try { const f = await new Response(b, {headers: [['Content-Type', ct]]}).formData();"
    " return await Promise.all([...f].map(async ([k, v]) => typeof v === 'string' ? [k, v]"
    " : [k, v.name, v.type, await v.text(), v.lastModified])); }"
    " catch (e) { return e.name; } };"
)


def test_formdata_api() -> None:
    r = js(
        """(() => { const f = new FormData();
           f.append("a", "1"); f.append("b", new Blob(["xy"], {type: "text/plain"}));
           f.append("c", new Blob(["z"]), "n.txt"); f.append("a", "3"); f.set("a", "2");
           const seen = []; f.forEach((v, k, o) => seen.push(k, o === f));
           f.delete("c");
           return [[...f.keys()], f.get("a"), f.get("b").name, f.get("b").type, f.get("b") instanceof File,
                   f.has("c"), f.getAll("a"), f.get("zz"), seen, [...f.values()].length,
                   Object.prototype.toString.call(f.entries().next)]; })()""",
        "(() => { const f = new FormData(); f.append('x', new File(['a'], 'orig', {lastModified: 5})); "
        "f.append('y', f.get('x'), 'renamed'); return [f.get('x').name, f.get('y').name, f.get('y').lastModified]; })()",
        "new FormData().append('a')",
        "[...new FormData({a: 1})].length",  # workerd ignores the argument
        "(() => { const f = new FormData(); f.append('\\ud800', '\\udc00'); return [...f][0]; })()",
    )
    assert r[0] == [
        ["a", "b"],
        "2",
        "blob",
        "text/plain",
        True,
        False,
        ["2"],
        None,
        ["a", True, "b", True, "c", True],
        2,
        "[object Function]",
    ]
    assert r[1] == ["orig", "renamed", 5]
    assert r[2] == {
        "throws": "TypeError",
        "message": "Failed to execute 'append' on 'FormData': parameter 2 is not of type "
        "'File or Blob or string'.",
    }
    assert r[3] == 0
    assert r[4] == ["\ufffd", "\ufffd"]  # USVString


def test_multipart_serialisation() -> None:
    (r,) = js(
        """(async () => { const f = new FormData();
           f.append("a\\nb", "c\\nd"); f.append("q\\"", new File(["hi"], 'e"f\\n.txt'));
           f.append("t", new Blob(["x"], {type: "text/html"}));
           const res = new Response(f); const ct = res.headers.get("content-type");
           const b = ct.slice("multipart/form-data; boundary=".length);
           return [ct.startsWith("multipart/form-data; boundary="), /^[0-9A-Za-z-]{27,70}$/.test(b),
                   (await res.text()).split(b).join("B")]; })()"""
    )
    assert r[0] and r[1]
    assert r[2] == (
        '--B\r\nContent-Disposition: form-data; name="a%0D%0Ab"\r\n\r\nc\r\nd\r\n'
        '--B\r\nContent-Disposition: form-data; name="q%22"; filename="e%22f%0A.txt"\r\n'
        "Content-Type: application/octet-stream\r\n\r\nhi\r\n"
        '--B\r\nContent-Disposition: form-data; name="t"; filename="blob"\r\nContent-Type: text/html\r\n\r\nx\r\n'
        "--B--\r\n"
    )


def test_multipart_and_urlencoded_parsing() -> None:
    ok = [
        (
            "p('--boundary', 'Content-Disposition: form-data; name=\"file\"; filename=\"h.txt\"', '', 'data', "
            "'--boundary--', '')",
            [["file", "h.txt", "text/plain", "data", 0]],
        ),
        (
            "p('--boundary \\t', ' Content-Disposition \\t: form-data; name=\"a\"', 'X-Other: 1', '', 'l1', 'l2', "
            "'--boundary-- \\t', 'epilogue')",
            [["a", "l1\r\nl2"]],
        ),
        (
            "p('--boundary', 'Content-Disposition: form-data; name=\"a\"; filename=\"f\"', 'Content-Type: TEXT/HTML;;x=\"y\"', "
            "'', 'v', '--boundary--', '')",
            [["a", "f", "text/html;x=y", "v", 0]],
        ),
        (
            "p('--boundary', 'Content-Disposition: form-data; name=\"a\"; filename=\"f\"', 'Content-Type: text', "
            "'', 'v', '--boundary--', '')",
            [["a", "f", "", "v", 0]],
        ),
        (
            "p('--boundary', 'Content-Disposition: form-data; name=\"a%22\"', '', 'x--boundary', '--boundary', "
            "'Content-Disposition: form-data; name=\"\u00e9\"', '', '\\ud83d\\ude00', '--boundary--', '')",
            [["a%22", "x--boundary"], ["\u00e9", "\U0001f600"]],
        ),
    ]
    bad = [
        "p('preamble', '--boundary', 'Content-Disposition: form-data; name=\"a\"', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Disposition: form-data; name=\"a\"', '', 'v', '--boundary--junk', '')",
        "p('--boundary', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Type: text/plain', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Disposition form-data; name=\"a\"', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Disposition: form-data;', ' name=\"a\"', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Disposition: form-data; name=\"a\\u0000\"', '', 'v', '--boundary--', '')",
        "p('--boundary', 'Content-Disposition: form-data; name=\"a\"', '', 'v')",
        "p('--boundary')",
    ]
    exprs = [f"(async () => {{ {PAYLOAD} {PARSE} return await parse({b}); }})()" for b, _ in ok]
    exprs += [f"(async () => {{ {PAYLOAD} {PARSE} return await parse({b}); }})()" for b in bad]
    exprs += [
        f"(async () => {{ {PARSE} return [await parse('a=1&b=%C3%A9+x&&c', 'application/x-www-form-urlencoded'),"
        " await parse('--q\\r\\nContent-Disposition: form-data; name=\"n\"\\r\\n\\r\\nv\\r\\n--q--',"
        " 'multipart/form-data; boundary=\"q\"'),"
        " await parse('x', 'multipart/form-data'), await parse('x', 'text/plain'), await parse('x', null)]; })()",
        "(async () => { const r = new Request('http://x/', {method: 'POST', body: new URLSearchParams('k=v')});"
        " const f = await r.formData(); return [[...f], r.bodyUsed]; })()",
        "(async () => { const f = new FormData(); f.append('a', '1'); f.append('a', new File([new Uint8Array([0, 255, 13, 10, 45, 45])], 'b'));"
        " const g = await new Request('http://x/', {method: 'POST', body: f}).formData();"
        " return [g.get('a'), Array.from(new Uint8Array(await g.getAll('a')[1].arrayBuffer()))]; })()",
    ]
    r = js(*exprs)
    for (_, want), got in zip(ok, r[: len(ok)], strict=True):
        assert got == want
    assert r[len(ok) : len(ok) + len(bad)] == ["TypeError"] * len(bad)
    tail = r[len(ok) + len(bad) :]
    assert tail[0] == [
        [["a", "1"], ["b", "\u00e9 x"], ["c", ""]],
        [["n", "v"]],
        "TypeError",
        "TypeError",
        "TypeError",
    ]
    assert tail[1] == [[["k", "v"]], True]
    assert tail[2] == ["1", [0, 255, 13, 10, 45, 45]]


def test_blob_and_file() -> None:
    r = js(
        "(async () => { const b = new Blob(['ab', new Uint8Array([99]), new Blob(['d'])], {type: 'Text/Plain'});"
        " return [b.size, b.type, await b.text(), await b.slice(1, -1).text(), Array.from(await b.bytes()),"
        " (await b.arrayBuffer()).byteLength, b.slice(0, 1, 'X/Y').type]; })()",
        "(async () => { const b = await new Response(new Blob(['abc'], {type: 'text/x'})).blob();"
        " return [b.size, b.type, await b.slice(1).text()]; })()",
        "(async () => { const r = new Response(new Blob(['q'], {type: 'a/b'})); return r.headers.get('content-type'); })()",
        "(() => { const f = new File(['x'], 'n.txt', {lastModified: 42, type: 'a/b'}); return [f.name, f.lastModified, f.type, f.size, f instanceof Blob]; })()",
        "(async () => { const r = Blob.prototype.stream.call(new Blob(['hi'])).getReader(); const c = await r.read();"
        " return [Array.from(c.value), (await r.read()).done]; })()",
    )
    assert r[0] == [4, "text/plain", "abcd", "bc", [97, 98, 99, 100], 4, "x/y"]
    assert r[1] == [3, "text/x", "bc"]
    assert r[2] == "a/b"
    assert r[3] == ["n.txt", 42, "a/b", 1, True]
    assert r[4] == [[104, 105], True]


def test_form_errors_worded_like_workerd() -> None:
    # Messages taken from workerd 2026-11-17 for the same bodies.
    ct = "{headers: {'content-type': 'multipart/form-data; boundary=b'}}"
    r = js(
        "new Response('x', {headers: {'content-type': 'multipart/form-data'}}).formData()",
        f"new Response('--bXX', {ct}).formData()",
        f"new Response('--b\\r\\nContent-Disposition: form-data; name=\"a\"', {ct}).formData()",
        f"new Response('--b\\r\\nContent-Type: text/plain\\r\\n\\r\\nv\\r\\n--b--\\r\\n', {ct}).formData()",
        f"new Response('--b\\r\\nContent-Disposition: form-data; name=\"a\"\\r\\n\\r\\nv', {ct}).formData()",
        "new FormData().get()",
    )
    assert [x["message"] for x in r] == [
        "No boundary string in Content-Type header. The multipart/form-data MIME type requires a "
        "boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. "
        "See RFC 7578, section 4.",
        "Boundary string was not succeeded by CRLF, LF, or '--'.",
        "No multipart message header termination found.",
        "No valid Content-Disposition header found in FormData part.",
        "No subsequent boundary string after multipart message.",
        "Failed to execute 'get' on 'FormData': parameter 1 is not of type 'string'.",
    ]


def test_formdata_loads_on_first_use() -> None:
    # The area (36-formdata.js) is loaded by the first read of the FormData global or
    # the first formData(): other bodies, URLSearchParams bodies included, leave the
    # global an accessor; once read it is a plain writable data property.
    (r,) = js(
        """(async () => {
           const lazy = () => typeof Object.getOwnPropertyDescriptor(globalThis, 'FormData').get;
           const ct = {'content-type': 'application/x-www-form-urlencoded'};
           const out = [lazy(), await new Response('a=b', {headers: ct}).text()];
           await new Request('http://x/', {method: 'POST', body: new URLSearchParams('c=d')}).text();
           out.push(lazy());
           const f = await new Response('a=b', {headers: ct}).formData();
           out.push(lazy(), f.get('a'), f instanceof FormData, lazy());
           const d = Object.getOwnPropertyDescriptor(globalThis, 'FormData');
           out.push(d.value === f.constructor, d.writable, d.enumerable, d.configurable);
           return out; })()"""
    )
    assert r == [
        "function",
        "a=b",
        "function",
        "function",
        "b",
        True,
        "undefined",
        True,
        True,
        False,
        True,
    ]
