"""URL hosts through UTS #46 (js/21-idna.js with the tables of isogate/runtime/uts46.py).

The tables are checked against the packages they come from (``idna``'s mapping table,
``unicodedata2``'s properties), the JS mapping against ``idna``'s table for a code point
of every row, and the URL Standard's "domain to ASCII" with hand-written cases: each
names the rule it exercises. Expected hosts of the IDNA cases were checked against
workerd 2026-11-17 (npm) where it agrees with the standard; the one place it does not
(the Bidi rule for every label of a Bidi domain name) says so.
"""

from __future__ import annotations

import bisect
import json
import os
import unicodedata
from pathlib import Path

import idna
import unicodedata2
from idna import idnadata, uts46data

from isogate.runtime import uts46
from isogate.runtime.prelude import prelude_source

from .conftest import fn, get
from .test_prelude import js

# ---- the tables --------------------------------------------------------------------------


def _texts() -> list[str]:
    src = uts46.tables_js()
    return src[src.index("return [") + 8 : src.rindex("]")].replace("'", "").split(", ")


def _digit(c: str) -> int:
    return uts46._DIGITS.index(c)


def _fixed(s: str, p: int, width: int) -> int:
    v = 0
    for c in s[p : p + width]:
        v = v * 90 + _digit(c)
    return v


def _row_end(i: int) -> int:
    """The end (exclusive) of row ``i`` of idna's mapping table."""
    starts = uts46data.uts46_starts
    return starts[i + 1] if i + 1 < len(starts) else 0x110000


def _decoded_runs() -> list[tuple[int, int, int]]:
    runs, _, _ = _texts()
    return [
        (_fixed(runs, p, 4), _fixed(runs, p + 4, 4) >> 19, _fixed(runs, p + 4, 4) & 0x7FFFF)
        for p in range(0, len(runs), 8)
    ]


def test_the_tables_come_from_one_unicode_version() -> None:
    # idna's mapping table and joining types, and unicodedata2's properties of at least
    # the same Unicode version (a character newer than unicodedata2 would have no Bidi
    # class or category; pyproject.toml pins the pair)
    assert uts46data.__version__ == idnadata.__version__

    def version(v: str) -> tuple[int, ...]:
        return tuple(map(int, v.split(".")))

    assert version(unicodedata2.unidata_version) >= version(uts46data.__version__)
    assert f"idna {idna.__version__}" in uts46.tables_js()
    assert uts46.tables_js().splitlines()[-1] in prelude_source() and prelude_source().isascii()


def test_every_row_of_the_idna_table_is_encoded() -> None:
    runs = _decoded_runs()
    starts = [r[0] for r in runs]
    assert starts == sorted(starts) and starts[0] == 0
    ops = {"V": {0}, "X": {1}, "I": {2}, "D": {3}, "M": {4, 5, 6, 7}}
    for i, start in enumerate(uts46data.uts46_starts):
        end = _row_end(i)
        status = chr(uts46data.uts46_statuses[i])
        for cp in {start, end - 1}:
            run = runs[bisect.bisect_right(starts, cp) - 1]
            op = run[1]
            if op == 5:  # alternating: odd offsets valid, even ones mapped
                op = 0 if (cp - run[0]) % 2 else 4
            assert op in ops[status], f"U+{cp:04X}: {status} encoded as {op}"


def test_property_runs_match_unicodedata2() -> None:
    _, _, props = _texts()
    runs = [(_fixed(props, p, 4), _fixed(props, p + 4, 2)) for p in range(0, len(props), 6)]
    starts = [r[0] for r in runs]
    checked = 0
    for i, start in enumerate(uts46data.uts46_starts):
        if chr(uts46data.uts46_statuses[i]) not in "VD":
            continue
        end = _row_end(i)
        for cp in range(start, min(end, start + 64)):
            cls = runs[bisect.bisect_right(starts, cp) - 1][1]
            ch = chr(cp)
            assert cls & 7 == uts46._BIDI.get(unicodedata2.bidirectional(ch), 0), hex(cp)
            assert bool(cls & 8) == (unicodedata2.category(ch)[0] == "M"), hex(cp)
            assert bool(cls & 16) == (unicodedata2.combining(ch) == 9), hex(cp)
            checked += 1
    assert checked > 5000
    # Joining_Type from idna's table (CONTEXTJ): U+0628 ARABIC LETTER BEH is dual-joining
    beh = runs[bisect.bisect_right(starts, 0x0628) - 1][1]
    assert beh >> 5 == 2 and beh & 7 == 3  # D, AL


def test_ascii_needs_no_table() -> None:
    # 21-idna.js maps and validates ASCII without the table: A-Z are mapped to a-z and
    # everything else is valid, with no ASCII mark or R/AL/AN character
    for cp in range(0x80):
        assert idna.uts46_remap(chr(cp), std3_rules=False) == chr(cp).lower()
        if not chr(cp).isupper():
            i = cp  # the first 256 rows are one code point each
            assert chr(uts46data.uts46_statuses[i]) == "V"
        assert unicodedata2.bidirectional(chr(cp)) not in ("R", "AL", "AN")
        assert unicodedata2.category(chr(cp))[0] != "M"


def test_saved_tables_are_used_only_when_they_match(tmp_path) -> None:
    path = str(tmp_path / "tables.js")
    uts46.save(path)
    saved = (tmp_path / "tables.js").read_text(encoding="ascii")
    assert saved == uts46.tables_js()
    assert uts46.load(path)
    stale = saved.replace(idna.__version__, "0.0", 1)
    (tmp_path / "stale.js").write_text(stale, encoding="ascii")
    assert not uts46.load(str(tmp_path / "stale.js"))  # other idna: made again instead
    assert not uts46.load(str(tmp_path / "missing.js"))
    assert uts46.tables_js() == saved


async def test_the_runtime_makes_the_tables_once_for_its_processes(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    saved = rt._tables
    assert saved and Path(saved).read_text(encoding="ascii") == uts46.tables_js()
    pid = rt.worker_pids()[0]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f"--uts46-tables\0{saved}".encode() in f.read()
    src = "export default { fetch() { return new Response(new URL('http://B\u00fccher.example/').host) } }"
    r = await rt.invoke(fn(src), get())
    assert r.outcome.value == "ok" and r.body == b"xn--bcher-kva.example"
    await rt.close()
    assert not os.path.exists(saved)


# ---- the JS mapping against idna's table ---------------------------------------------

_FORBIDDEN_DOMAIN = set(
    map(
        chr,
        [
            *range(0x21),
            0x23,
            0x25,
            0x2F,
            0x3A,
            0x3C,
            0x3E,
            0x3F,
            0x40,
            0x5B,
            0x5C,
            0x5D,
            0x5E,
            0x7C,
            0x7F,
        ],
    )
)


def _status(cp: int) -> str:
    return chr(uts46data.uts46_statuses[bisect.bisect_right(uts46data.uts46_starts, cp) - 1])


def _expected_host(cp: int) -> str | None:
    """The host of ``http://x<cp>y/`` from idna's table, unicodedata2 and Python's
    punycode codec, for the code points where that needs no more of UTS #46 than the
    mapping, NFC and the status of each result character; None when it must fail."""
    status = _status(cp)
    if status == "X":
        return None
    mapped = (
        ""
        if status == "I"
        else idna.uts46_remap(chr(cp), std3_rules=False)
        if status == "M"
        else chr(cp)
    )
    label = unicodedata2.normalize("NFC", "x" + mapped + "y")
    if any(c in _FORBIDDEN_DOMAIN for c in label):
        return None
    if label.isascii():
        return label
    if any(_status(ord(c)) not in "VD" for c in label):
        return None
    if any(unicodedata2.bidirectional(c) in ("R", "AL", "AN") for c in label):
        return None  # an RTL character in a label that starts with "x": Bidi rule 5
    return "xn--" + label.encode("punycode").decode()


def test_js_maps_a_code_point_of_every_row_like_the_idna_table() -> None:
    cases = {}
    for i, start in enumerate(uts46data.uts46_starts):
        end = _row_end(i)
        for cp in {start, end - 1, (start + end) // 2}:
            if cp < 0x80 or 0xD800 <= cp <= 0xDFFF or cp in (0x200C, 0x200D):
                continue  # ASCII (above), lone surrogates, joiners (CONTEXTJ, below)
            m = "" if _status(cp) in "XI" else idna.uts46_remap(chr(cp), std3_rules=False)
            if "." in m or any(unicodedata2.category(c)[0] == "M" for c in m):
                continue  # split into labels / marks whose NFC depends on the neighbours
            if unicodedata.unidata_version != unicodedata2.unidata_version and not (
                unicodedata.name(chr(cp), "")
            ):
                # V8's ICU normalises with an older Unicode than idna's: characters newer
                # than it have no known decomposition there
                continue
            cases[cp] = _expected_host(cp)
    assert len(cases) > 8000
    items = sorted(cases.items())
    expr = (
        "(() => { const out = []; for (const c of " + json.dumps([cp for cp, _ in items]) + ") {"
        " try { out.push(new URL('http://x' + String.fromCodePoint(c) + 'y/').hostname); }"
        " catch (e) { out.push(e instanceof TypeError ? null : String(e)); } } return out; })()"
    )
    (got,) = js(expr)
    wrong = [
        (f"U+{cp:04X}", want, have)
        for (cp, want), have in zip(items, got, strict=True)
        if want != have
    ]
    assert not wrong, wrong[:20]


# ---- domain to ASCII, case by case ------------------------------------------------------

HOSTS = {
    # the brief's example: mapped (B), then punycode
    "http://Bücher.example/": "xn--bcher-kva.example",
    "http://Bu\u0308cher.example/": "xn--bcher-kva.example",  # NFC after mapping
    "http://BÜCHER.EXAMPLE/": "xn--bcher-kva.example",
    "http://%C3%BC.example/": "xn--tda.example",  # percent-decoded as UTF-8 first
    "http://faß.de/": "xn--fa-hia.de",  # deviation: kept (nontransitional)
    "http://ΒΌΛΟΣ/": "xn--nxasmq6b",  # final sigma only from ς itself
    "http://βόλος/": "xn--nxasmm1c",
    "http://a\u00adb.example/": "ab.example",  # soft hyphen: ignored
    "http://\u00ad/": None,  # maps to nothing: empty host
    "http://\U0001d404\U0001d417\U0001d400\U0001d40c\U0001d40f\U0001d40b\U0001d404.com/": "example.com",  # mathematical bold
    "http://ⅻ.example/": "xii.example",  # one code point to three
    "http://a\uff0eb\u3002c\uff61d/": "a.b.c.d",  # dots UTS #46 maps to '.'
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/": "127.0.0.1",  # then it ends in a number: IPv4
    "http://GOO\u00a0\u3000goo.com/": None,  # both map to U+0020, a forbidden code point
    "http://a\uff1ab/": None,  # maps to ':'
    "http://\ufdd0zyx.com/": None,  # noncharacter: disallowed
    "http://a\u2488com/": None,  # disallowed
    "http://\u0300a.example/": None,  # starts with a combining mark
    "http://a\u094d\u200cb/": "xn--ab-fsf604u",  # ZWNJ after a virama (CONTEXTJ)
    "http://a\u200cb/": None,  # ZWNJ without context
    "http://a\u094d\u200db/": "xn--ab-fsf014u",  # ZWJ after a virama
    "http://a\u200db/": None,
    "http://\u0646\u0627\u0645\u0647\u200c\u0627\u06cc/": "xn--mgba3gch31f060k",  # ZWNJ, joining
    "http://\u0627\u0628.com/": "xn--mgbc.com",  # RTL label, L label: both satisfy the rule
    "http://ab\u0627/": None,  # Bidi rule 5: an L label with an AL character
    "http://\u0627b/": None,  # Bidi rule 2: an RTL label with an L character
    "http://\u0627\u0661\u06f1/": None,  # Bidi rule 4: AN and EN mixed
    "http://\u05d0\u0308.com/": "xn--ssa73l.com",  # Hebrew + NSM ends fine (rule 3)
    # every label of a Bidi domain name follows the rule (UTS #46 4.1 criterion 9, and
    # its own test file: "0à.\u05D0; ; [B1]"); workerd accepts this one
    "http://\u0627\u0628.1com/": None,
    "http://xn--a.ß/": None,  # ASCII xn-- labels are checked in a non-ASCII domain...
    "http://xn--a.com/": "xn--a.com",  # ...and only lowercased in an ASCII one
    "http://XN--ZCA.ß/": "xn--zca.xn--zca",
    "http://xn--a-ecp.ß/": None,  # decodes to a disallowed code point
    "http://xn--u-ccb.ß/": None,  # decodes to a string that is not NFC
    "http://xn--ab-.ß/": None,  # decodes to ASCII only
    "http://xn--\u00e9.com/": None,  # non-ASCII inside an xn-- label
    "http://ß.xn--/": None,  # empty after decoding
    "http://\U0001f600.example/": "xn--e28h.example",  # astral
    "http://1234567890\u00e41234567890123456789012345678901234567890123456/": "xn--12345678901234567890123456789012345678901234567890123456-fxe",  # no DNS limits
    "file://loC\U0001d400\U0001d40b\U0001d407\U0001d428\U0001d42c\U0001d42d/usr/bin": "",  # maps to "localhost": the file host is empty
    "sc://ñ.example/": "%C3%B1.example",  # not special: an opaque host, no IDNA
}


def test_domain_to_ascii_cases() -> None:
    exprs = [
        f"(() => {{ try {{ return new URL({json.dumps(u)}).hostname; }}"
        " catch (e) { return e instanceof TypeError ? null : String(e); } })()"
        for u in HOSTS
    ]
    assert dict(zip(HOSTS, js(*exprs), strict=True)) == HOSTS


def test_failures_throw_type_error_everywhere() -> None:
    r = js(
        "new URL('https://a\u200cb/')",
        "new URL('/x', 'https://a\u2488com/')",
        "[URL.canParse('https://a\u200cb/'), URL.canParse('https://Bücher.example/'),"
        " URL.parse('https://a\u200cb/'), URL.parse('https://Bücher.example/').href]",
        "new Request('https://ab\u0627/')",
    )
    assert r[0] == {"throws": "TypeError", "message": "Invalid URL string."}
    assert r[1] == {"throws": "TypeError", "message": "Invalid base URL string."}
    assert r[2] == [False, True, None, "https://xn--bcher-kva.example/"]
    assert r[3]["throws"] == "TypeError"


def test_host_setters() -> None:
    (r,) = js(
        """(() => { const out = []; for (const [p, v] of [["hostname", "Bücher.example"],
           ["host", "ÖBB.at:8443"], ["hostname", "a\\u200cb"], ["host", "xn--a.ß"],
           ["hostname", "\\u0627b"]]) { const u = new URL("https://x.example/"); u[p] = v;
           out.push(u.href); } return out; })()"""
    )
    # an invalid host leaves the URL as it was
    assert r == [
        "https://xn--bcher-kva.example/",
        "https://xn--bb-eka.at:8443/",
        "https://x.example/",
        "https://x.example/",
        "https://x.example/",
    ]


def test_idna_survives_tampering() -> None:
    (r,) = js(
        """(() => { String.prototype.charCodeAt = () => 0; String.prototype.codePointAt = () => 0;
           String.prototype.normalize = () => "x"; String.prototype.slice = () => "";
           String.fromCodePoint = () => "z"; String.fromCharCode = () => "z";
           Math.floor = () => 0; Array.prototype.push = () => { throw new Error("no"); };
           return [new URL("http://Bücher.example/").host, new URL("http://a\\u094d\\u200cb/").host]; })()"""
    )
    assert r == ["xn--bcher-kva.example", "xn--ab-fsf604u"]


# ---- other URL Standard cases (WPT url/ failures fixed alongside) --------------------


URL_CASES = [
    # a space before ? or # of an opaque path is encoded, so that removing the
    # query or fragment leaves none at the end (url/resources/urltestdata.json)
    ("new URL('non-special:opaque  ?hi').href", "non-special:opaque %20?hi"),
    ("new URL('non-special:opaque \\t\\t  #hi').href", "non-special:opaque  %20#hi"),
    ("new URL('data:space   x').href", "data:space   x"),
    (
        "(() => { const u = new URL('data:space ?query'); u.search = ''; return u.href; })()",
        "data:space%20",
    ),
    (
        "(() => { const u = new URL('sc:space  ?query#fragment'); u.hash = ''; return u.href; })()",
        "sc:space %20?query",
    ),
    # the host is set even when the port after it is invalid (setters_tests.json)
    (
        "(() => { const u = new URL('http://example.net/path'); u.host = 'example.com:65536';"
        " return u.href; })()",
        "http://example.com/path",
    ),
    (
        "(() => { const u = new URL('http://example.net:8080/path'); u.host = 'example.com:99999';"
        " return u.href; })()",
        "http://example.com:8080/path",
    ),
    # record<USVString, USVString>: keys equal after U+FFFD replacement are one entry
    (
        "[...new URLSearchParams({'\\uD835x': '1', 'xx': '2', '\\uD83Dx': '3'})]",
        [["\ufffdx", "3"], ["xx", "2"]],
    ),
    # WebIDL attributes and operations are enumerable, as on workerd
    (
        "Object.keys(URL.prototype).includes('href') && Object.keys(URLSearchParams.prototype).includes('size')",
        True,
    ),
]


def test_url_standard_cases() -> None:
    assert js(*(expr for expr, _ in URL_CASES)) == [want for _, want in URL_CASES]
