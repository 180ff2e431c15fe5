"""The legacy encodings' index tables for ``TextDecoder``, made from Python's codecs.

``TextDecoder.decode`` is synchronous and tenant JavaScript never calls the host, so the
tables must be in the context before the tenant's code runs. They are not part of the
prelude (a hello-world function would carry ~90,000 table entries): the host evaluates
:func:`tables_script` into a context only when the function's source mentions
``TextDecoder`` (:func:`needs_tables`), just before its code is loaded. The script hands
the tables to the prelude through ``__isogate.encodings``, which refuses once tenant
code has run.

The tables follow the WHATWG Encoding Standard's indexes, derived here from the
closest Python codec (CPython's codecs are the Unicode/Microsoft mapping files): the
differences known between those files and the standard are corrected in
``_SINGLE_BYTE_FIXES`` and documented in docs/compatibility.md; tests in
tests/runtime/test_encodings.py check them.
"""

from __future__ import annotations

import json
import re
from functools import cache

#: WHATWG single-byte encodings -> the Python codec their index matches.
SINGLE_BYTE = {
    "ibm866": "cp866",
    "iso-8859-2": "iso8859_2",
    "iso-8859-3": "iso8859_3",
    "iso-8859-4": "iso8859_4",
    "iso-8859-5": "iso8859_5",
    "iso-8859-6": "iso8859_6",
    "iso-8859-7": "iso8859_7",
    "iso-8859-8": "iso8859_8",
    "iso-8859-10": "iso8859_10",
    "iso-8859-13": "iso8859_13",
    "iso-8859-14": "iso8859_14",
    "iso-8859-15": "iso8859_15",
    "iso-8859-16": "iso8859_16",
    "koi8-r": "koi8_r",
    "koi8-u": "koi8_u",
    "macintosh": "mac_roman",
    "windows-874": "cp874",
    "windows-1250": "cp1250",
    "windows-1251": "cp1251",
    "windows-1253": "cp1253",
    "windows-1254": "cp1254",
    "windows-1255": "cp1255",
    "windows-1256": "cp1256",
    "windows-1257": "cp1257",
    "windows-1258": "cp1258",
    "x-mac-cyrillic": "mac_cyrillic",
}

#: Where the standard's index differs from the codec: byte -> code point.
_SINGLE_BYTE_FIXES: dict[str, dict[int, int]] = {
    # KOI8-U as browsers decode it (KOI8-RU's Belarusian letters), not RFC 2319's box drawing.
    "koi8-u": {0xAE: 0x045E, 0xBE: 0x040E},
    # Microsoft's best-fit table has HEBREW POINT HOLAM HASER FOR VAV here.
    "windows-1255": {0xCA: 0x05BA},
}


def _single_byte(name: str) -> str:
    codec = SINGLE_BYTE[name]
    out = []
    for b in range(0x80, 0x100):
        try:
            cp = ord(bytes([b]).decode(codec))
        except UnicodeDecodeError:
            # The windows-* indexes map the bytes Windows leaves undefined in 0x80-0x9F
            # to the C1 controls of the same value; elsewhere undefined is an error.
            cp = b if name.startswith("windows-") and b <= 0x9F else 0
        out.append(_SINGLE_BYTE_FIXES.get(name, {}).get(b, cp))
    return _as_string(out)


def _double(codec: str, count: int, to_bytes) -> list[int]:  # type: ignore[no-untyped-def]
    """index[pointer] for pointer < count: the code point, 0 when unmapped.

    Astral code points (Big5-HKSCS) are kept as is; the caller splits them out.
    """
    out = [0] * count
    for p in range(count):
        seq = to_bytes(p)
        if seq is None:
            continue
        try:
            s = seq.decode(codec)
        except UnicodeDecodeError:
            continue
        if len(s) == 1:
            out[p] = ord(s)
    return out


def _sjis_bytes(p: int) -> bytes | None:
    lead, trail = divmod(p, 188)
    lead += 0x81 if lead < 0x1F else 0xC1
    trail += 0x40 if trail < 0x3F else 0x41
    if lead > 0xFC or 8836 <= p <= 10715:  # the user-defined area is computed, not indexed
        return None
    return bytes([lead, trail])


def _jis0212_bytes(p: int) -> bytes:
    lead, trail = divmod(p, 94)
    return bytes([0x8F, lead + 0xA1, trail + 0xA1])


def _gb_bytes(p: int) -> bytes:
    lead, trail = divmod(p, 190)
    return bytes([lead + 0x81, trail + (0x40 if trail < 0x3F else 0x41)])


def _big5_bytes(p: int) -> bytes:
    lead, trail = divmod(p, 157)
    return bytes([lead + 0x81, trail + (0x40 if trail < 0x3F else 0x62)])


def _euckr_bytes(p: int) -> bytes:
    lead, trail = divmod(p, 190)
    return bytes([lead + 0x81, trail + 0x41])


def _gb18030_ranges() -> list[int]:
    """index gb18030 ranges as a flat [pointer, code point, ...] list: the four-byte
    sequences below pointer 39420, run-length coded from Python's gb18030 codec."""
    ranges: list[int] = []
    prev_delta = None
    for p in range(39420):
        b1, r = divmod(p, 12600)
        b2, r = divmod(r, 1260)
        b3, b4 = divmod(r, 10)
        cp = ord(bytes([b1 + 0x81, b2 + 0x30, b3 + 0x81, b4 + 0x30]).decode("gb18030"))
        if cp - p != prev_delta:
            ranges += [p, cp]
            prev_delta = cp - p
    return ranges


#: What a table holds for an unmapped pointer: U+FFFF is no index's value, and unlike
#: U+0000 it needs no escape in the script (a sixth of the entries are unmapped).
UNMAPPED = "\uffff"


def _as_string(codes: list[int]) -> str:
    return "".join(chr(c) if 0 < c <= 0xFFFF else UNMAPPED for c in codes)


#: Characters a JS string literal cannot hold as themselves (or that would make the
#: source ill-formed UTF-16). Everything else is kept literal: the tables are mostly
#: CJK, so a two-byte source (2 bytes a character) is smaller than \\u escapes (6).
_UNSAFE = re.compile('[\\x00-\\x1f"\\\\\u2028\u2029\ud800-\udfff]')


def _js_string(s: str) -> str:
    return '"' + _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", s) + '"'


@cache
def tables() -> dict[str, object]:
    """Every table the prelude's legacy decoders read."""
    big5 = _double("big5hkscs", 19782, _big5_bytes)
    return {
        "single": {name: _single_byte(name) for name in SINGLE_BYTE},
        "jis0208": _as_string(_double("cp932", 11104, _sjis_bytes)),
        "jis0212": _as_string(_double("euc_jp", 7211, _jis0212_bytes)),
        "gb18030": _as_string(_double("gb18030", 23940, _gb_bytes)),
        "gb18030ranges": _gb18030_ranges(),
        "big5": _as_string(big5),
        "big5astral": [x for p, c in enumerate(big5) if c > 0xFFFF for x in (p, c)],
        "euckr": _as_string(_double("cp949", 23750, _euckr_bytes)),
    }


@cache
def tables_script() -> str:
    """The script that hands :func:`tables` to the prelude (ASCII; evaluated once per
    context that needs it)."""
    t = tables()
    parts = []
    for key, value in t.items():
        if isinstance(value, str):
            parts.append(f"{key}:{_js_string(value)}")
        elif isinstance(value, dict):
            inner = ",".join(f"{_js_string(k)}:{_js_string(v)}" for k, v in value.items())
            parts.append(f"{key}:{{{inner}}}")
        else:
            parts.append(f"{key}:{json.dumps(value, separators=(',', ':'))}")
    return "__isogate.encodings({" + ",".join(parts) + "});"


def needs_tables(source: str) -> bool:
    """Does a function's source use ``TextDecoder`` (and so may need the tables)?"""
    return "TextDecoder" in source
