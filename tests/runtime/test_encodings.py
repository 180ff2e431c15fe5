"""TextDecoder's legacy encodings: the tables made from Python's codecs, and the decoders
in the prelude, run in a real isolate (a function whose source names TextDecoder)."""

from __future__ import annotations

import json

from isogate.runtime import encodings, uts46
from isogate.runtime.prelude import prelude_source

from .test_prelude import invoke


def _decode_all(cases: list[tuple[str, list[int], dict]]) -> list[str]:
    source = (
        "const CASES = " + json.dumps(cases) + ";\n"
        "export default { fetch() { return Response.json(CASES.map(([label, bytes, opts]) => {\n"
        "  try { return new TextDecoder(label, opts).decode(new Uint8Array(bytes)); }\n"
        "  catch (e) { return e.name; } })); } };"
    )
    (r,) = invoke(source, {"method": "GET", "url": "http://x/"})
    assert r["status"] == 200, r
    return json.loads(r["body"].encode("latin-1").decode("utf-8"))


def test_where_python_codecs_differ_from_the_standard() -> None:
    got = _decode_all(
        [
            ("koi8-u", [0xAE, 0xBE], {}),  # KOI8-RU letters, not box drawing (codec: U+255D)
            ("windows-1255", [0xCA], {}),  # codec: undefined
            ("windows-1252", [0x81, 0x8D], {}),  # C1 controls, codec: undefined
            ("windows-1250", [0x81], {"fatal": True}),
            ("windows-874", [0xDB], {"fatal": True}),  # really unmapped
            ("windows-1253", [0xAA], {"fatal": True}),
            ("x-mac-cyrillic", [0xA2, 0xB6, 0xFF], {}),
        ]
    )
    assert got == [
        "\u045e\u040e",
        "\u05ba",
        "\x81\x8d",
        "\x81",
        "TypeError",
        "TypeError",
        "\u0490\u0491\u20ac",
    ]


def test_multi_byte_decoders() -> None:
    got = _decode_all(
        [
            ("shift_jis", [0x82, 0xA0, 0x93, 0xFA, 0xB1, 0x5C, 0x81, 0x60], {}),
            ("shift_jis", [0xF0, 0x40], {}),  # user-defined area -> PUA
            ("shift_jis", [0x81, 0x20], {}),  # bad trail: ASCII is given back
            (
                "euc-jp",
                [0xC6, 0xFC, 0x8E, 0xB1, 0x8F, 0xB0, 0xA1],
                {},
            ),  # JIS X 0208, kana, JIS X 0212
            (
                "iso-2022-jp",
                [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x1B, 0x28, 0x4A, 0x5C, 0x1B, 0x28, 0x42],
                {},
            ),
            ("gbk", [0xC4, 0xE3, 0xBA, 0xC3, 0x80], {}),
            (
                "gb18030",
                [0x81, 0x30, 0x81, 0x30, 0x81, 0x35, 0xF4, 0x37, 0x90, 0x30, 0x81, 0x30],
                {},
            ),
            ("gb18030", [0x84, 0x31, 0xA5, 0x30], {}),  # pointer 39420: none
            ("big5", [0xA4, 0xA4, 0x88, 0x62, 0x88, 0x64], {}),  # two code points for one pair
            ("big5", [0x87, 0x40], {}),  # HKSCS, astral
            ("euc-kr", [0xC7, 0xD1, 0x81, 0x41], {}),  # KS X 1001 and a UHC extension
            ("utf-16be", [0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00], {}),
            ("x-user-defined", [0x61, 0x80, 0xFF], {}),
            ("euc-kr", [0xC7], {"fatal": True}),
        ]
    )
    assert got == [
        "\u3042\u65e5\uff71\\\uff5e",
        "\ue000",
        "\ufffd ",
        "\u65e5\uff71\u4e02",
        "\u65e5\u00a5",
        "\u4f60\u597d\u20ac",
        "\x80\ue7c7\U00010000",
        "\ufffd",
        "\u4e2d\u00ca\u0304\u00ca\u030c",
        b"\x87\x40".decode("big5hkscs"),
        "\ud55c\uac02",
        "a\U0001f600",
        "a\uf780\uf7ff",
        "TypeError",
    ]


def test_labels_streaming_and_bom() -> None:
    source = """export default { fetch() {
      const out = [];
      for (const l of [' Shift-JIS\\n', 'CSGB2312', 'ks_c_5601-1987', 'x-mac-ukrainian', 'unicodefffe', 'latin2']) {
        out.push(new TextDecoder(l).encoding);
      }
      for (const l of ['replacement', 'iso-2022-kr', 'hz-gb-2312', 'utf-32', 'x-unknown']) {
        try { new TextDecoder(l); out.push('no error'); } catch (e) { out.push(e.name); }
      }
      const d = new TextDecoder('shift_jis');
      out.push(d.decode(new Uint8Array([0x93]), {stream: true}) + '|' + d.decode(new Uint8Array([0xfa, 0x82]), {stream: true}) +
        '|' + d.decode(new Uint8Array([0xa0])) + '|' + d.decode(new Uint8Array([0x82])));
      const j = new TextDecoder('iso-2022-jp');
      out.push(j.decode(new Uint8Array([0x1b, 0x24]), {stream: true}) + '|' + j.decode(new Uint8Array([0x42, 0x46, 0x7c])));
      out.push(new TextDecoder('utf-16be').decode(new Uint8Array([0xfe, 0xff, 0, 0x41])));
      out.push(new TextDecoder('utf-16be', {ignoreBOM: true}).decode(new Uint8Array([0xfe, 0xff, 0, 0x41])));
      out.push(new TextDecoder('shift_jis').decode(new Uint8Array([0xef, 0xbb, 0xbf])).length);
      return Response.json(out);
    } };"""
    (r,) = invoke(source, {"method": "GET", "url": "http://x/"})
    got = json.loads(r["body"].encode("latin-1").decode("utf-8"))
    assert got == [
        "shift_jis",
        "gbk",
        "euc-kr",
        "x-mac-cyrillic",
        "utf-16be",
        "iso-8859-2",
        "RangeError",
        "RangeError",
        "RangeError",
        "RangeError",
        "RangeError",
        "|\u65e5|\u3042|\ufffd",
        "|\u65e5",
        "A",
        "\ufeffA",
        2,  # EF BB is one double-byte character, BF a half-width katakana: no BOM sniffing
    ]


def test_tables_only_for_functions_that_name_textdecoder() -> None:
    # A function that never names TextDecoder gets no tables (hello-world stays small):
    # a legacy label reached by another name is refused like an unknown one, while the
    # encodings the prelude decodes itself still work.
    hidden = """export default { fetch() {
      const TD = globalThis['Text' + 'Decode' + 'r'];
      const out = [];
      for (const l of ['shift_jis', 'utf-8', 'utf-16le', 'latin1']) {
        try { out.push(new TD(l).encoding); } catch (e) { out.push(e.name); }
      }
      try { __isogate.encodings({}); out.push('accepted'); } catch (e) { out.push(e.name); }
      return Response.json(out);
    } };"""
    (r,) = invoke(hidden, {"method": "GET", "url": "http://x/"})
    assert json.loads(r["body"]) == ["RangeError", "utf-8", "utf-16le", "windows-1252", "TypeError"]
    assert encodings.needs_tables("new TextDecoder('gbk')")
    assert not encodings.needs_tables("export default {fetch() {return new Response('hi')}}")
    # (the UTS #46 tables of URL hosts are in every prelude, docs/benchmarks.md)
    assert "jis0208:" not in prelude_source()
    # the legacy decoders' tables (~112 KB) are not in it: the prelude without the URL
    # tables is ~301 KB (2026-12-07, after the byte streams followed the standard)
    assert len(prelude_source()) - len(uts46.tables_js()) < 320_000
    assert len(encodings.tables_script()) > 100_000  # so the bound above would see them


def test_tables_follow_the_standards_unmapped_bytes() -> None:
    t = encodings.tables()
    single = t["single"]
    assert isinstance(single, dict)

    def unmapped(name: str) -> list[int]:
        return [0x80 + i for i, c in enumerate(single[name]) if c == encodings.UNMAPPED]

    # The bytes the Encoding Standard's indexes leave out (as WPT's fatal tests list them).
    assert unmapped("iso-8859-3") == [0xA5, 0xAE, 0xBE, 0xC3, 0xD0, 0xE3, 0xF0]
    assert unmapped("iso-8859-7") == [0xAE, 0xD2, 0xFF]
    assert unmapped("windows-874") == [0xDB, 0xDC, 0xDD, 0xDE, 0xFC, 0xFD, 0xFE, 0xFF]
    assert unmapped("windows-1253") == [0xAA, 0xD2, 0xFF]
    assert unmapped("windows-1255") == [0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xFB, 0xFC, 0xFF]
    assert unmapped("windows-1257") == [0xA1, 0xA5]
    for name in (
        "ibm866",
        "iso-8859-2",
        "koi8-r",
        "koi8-u",
        "macintosh",
        "windows-1250",
        "x-mac-cyrillic",
    ):
        assert unmapped(name) == [], name
    script = encodings.tables_script()
    assert script.startswith("__isogate.encodings({") and "\u2028" not in script


def test_a_detached_buffer_holds_no_bytes() -> None:
    # WebIDL's "get a copy of the bytes held by the buffer source" is empty for a
    # detached buffer: TextDecoder reads nothing from it, and TextDecoderStream outputs
    # nothing for such a chunk (WPT decode-utf8 "transferred ... chunk"); making a
    # Uint8Array over it would throw instead
    source = """export default { async fetch() {
      const detach = (b) => { structuredClone(b, {transfer: [b]}); };
      const out = [];
      const ab = new Uint8Array([65, 66]).buffer, view = new Uint8Array(ab, 1, 1);
      const dv = new DataView(ab);
      detach(ab);
      for (const v of [ab, view, dv]) {
        try { out.push(new TextDecoder().decode(v)); } catch (e) { out.push(e.name); }
      }
      const b2 = new ArrayBuffer(1);
      detach(b2);
      const chunks = [];
      await new ReadableStream({ start(c) { c.enqueue(b2); c.enqueue(new Uint8Array([67])); c.close(); } })
        .pipeThrough(new TextDecoderStream())
        .pipeTo(new WritableStream({ write(s) { chunks.push(s); } }));
      out.push(chunks);
      return Response.json(out);
    } };"""
    (r,) = invoke(source, {"method": "GET", "url": "http://x/"})
    assert r["status"] == 200, r
    assert json.loads(r["body"]) == ["", "", "", ["C"]]
