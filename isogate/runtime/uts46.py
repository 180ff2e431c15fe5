"""The UTS #46 (IDNA) tables the URL host parser needs, made from maintained packages.

``new URL("http://Bücher.example/")`` must map and validate the host synchronously inside
the isolate (js/21-idna.js), so the data travels with the prelude as source text rather
than through a host operation. It is generated here, once per process, from:

* the ``idna`` package's UTS #46 mapping table (``idna.uts46data``: each code point's
  status, valid / mapped / deviation / ignored / disallowed, and its mapping), and its
  Joining_Type table (``idna.idnadata``) for the CONTEXTJ rules of zero-width joiners;
* ``unicodedata2`` (the Unicode Character Database of at least ``idna``'s Unicode
  version; Python's own ``unicodedata`` lags behind) for Bidi_Class (the Bidi rule of
  RFC 5893), General_Category=Mark (no label may start with a mark) and
  Canonical_Combining_Class=Virama (joiners after a virama).

Nothing here is written by hand: a new release of either package changes the tables the
next time the runtime starts. Making them takes ~0.1 s of CPU; the runtime makes them
once and saves them for its worker and code-checker processes (:func:`save`,
:func:`load`), a process on its own makes them with its first prelude. The tables
add ~40 KB to the prelude's source, which V8 keeps once per isolate (docs/benchmarks.md).
``tests/runtime/test_idna.py`` checks them against both packages and the JS mapping
against ``idna``'s table for code points of every row it can (~8,000).

Encoding (ASCII, so the prelude stays a one-byte string in V8). The JS looks entries up
in the text itself with a binary search rather than decoding the tables into arrays
first: a decoding loop over thousands of entries is hot enough for V8's optimising
compilers, and an isolate that parsed one non-ASCII host grew by ~1.5 MB that way
(measured); looking up in place costs ~0.1-0.25 MB. Digits are 90 printable characters
(``!`` to ``}`` without ``'``, ``\\`` and the backtick).

* Mapping runs (``runs``), sorted, covering U+0000 to U+10FFFF: 8 digits each, two
  base-90 numbers of 4 digits: ``start`` and ``op << 19 | arg``. ``op`` 0-3: every code
  point of the run is valid, disallowed, ignored, deviation. 4: each code point maps to
  itself + delta; 5: the code points at even offsets map to themselves + delta, those
  at odd offsets are valid (upper/lower case pairs); ``arg`` is the zigzag-encoded
  delta. 6: each code point has a mapping of its own; 7: one mapping shared by all;
  ``arg`` is the offset of the (first) mapping in ``maps``.
* ``maps``: mappings one after another, each a count and then each code point as the
  difference to the one before (the first: to the code point mapped, for a shared
  mapping the run's first), as variable-length numbers: base 45, most significant
  digit first, the first 45 digits end a number and the other 45 say more follow;
  signed values zigzag-encoded.
* Property runs (``props``): 6 digits each, ``start`` in 4 and ``class`` in 2, where
  ``class`` is ``bidi | mark << 3 | virama << 4 | joining << 5``: bidi 0 (a class no
  label may contain), 1 L, 2 R, 3 AL, 4 AN, 5 EN, 6 ES/CS/ET/ON/BN, 7 NSM; joining 0
  (none), 1 L, 2 D, 3 R, 4 T. Only valid and deviation code points are ever looked up
  (any other fails validation first), so the others extend whatever run they are in.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from itertools import groupby
from pathlib import Path

import idna
import unicodedata2
from idna import idnadata, uts46data

MAX_CODE_POINT = 0x110000
# '!' to '}' without ' \ and ` (the quote of the literal, its escape, and the
# template-literal delimiter the prelude's line compaction checks for)
_DIGITS = [chr(c) for c in range(0x21, 0x7E) if c not in (0x27, 0x5C, 0x60)]
assert len(_DIGITS) == 90
_BASE = 45
_OPS = {"V": 0, "X": 1, "I": 2, "D": 3}
_SHIFT, _ALTERNATE, _EXPLICIT, _SHARED = 4, 5, 6, 7
_BIDI = {"L": 1, "R": 2, "AL": 3, "AN": 4, "EN": 5, "NSM": 7}
_BIDI.update(dict.fromkeys(("ES", "CS", "ET", "ON", "BN"), 6))
_JOINING = {"L": 1, "D": 2, "R": 3, "T": 4}


def _uint(v: int) -> str:
    digits = [v % _BASE]
    v //= _BASE
    while v:
        digits.append(v % _BASE)
        v //= _BASE
    digits.reverse()
    return "".join(_DIGITS[_BASE + d] for d in digits[:-1]) + _DIGITS[digits[-1]]


def _zigzag(v: int) -> int:
    return v * 2 if v >= 0 else -v * 2 - 1


def _int(v: int) -> str:
    return _uint(_zigzag(v))


def _fixed(v: int, width: int) -> str:
    """``v`` in exactly ``width`` base-90 digits."""
    out = []
    for _ in range(width):
        out.append(_DIGITS[v % 90])
        v //= 90
    if v:
        raise ValueError("value too large for its field")
    return "".join(reversed(out))


class _Table:
    """``idna.uts46data`` as a lookup: (status, mapping, end of its row) of a code point."""

    def __init__(self) -> None:
        self.starts = uts46data.uts46_starts
        self.statuses = uts46data.uts46_statuses
        self.mappings = uts46data.uts46_replacements

    def row(self, cp: int) -> int:
        return bisect.bisect_right(self.starts, cp) - 1

    def at(self, cp: int) -> tuple[str, str | None, int]:
        i = self.row(cp)
        end = self.starts[i + 1] if i + 1 < len(self.starts) else MAX_CODE_POINT
        return chr(self.statuses[i]), self.mappings[i], end


def _mapping_text(mapped: str, cp: int) -> str:
    out = _uint(len(mapped))
    prev = cp
    for ch in mapped:
        out += _int(ord(ch) - prev)
        prev = ord(ch)
    return out


def _mapping_runs(t: _Table) -> tuple[str, str]:
    """The ``runs`` and ``maps`` texts."""

    def single(cp: int) -> int | None:
        """The delta of a code point mapped to one code point, else None."""
        if cp >= MAX_CODE_POINT:
            return None
        status, mapped, _ = t.at(cp)
        return ord(mapped) - cp if status == "M" and mapped and len(mapped) == 1 else None

    def status(cp: int) -> str | None:
        return t.at(cp)[0] if cp < MAX_CODE_POINT else None

    runs: list[str] = []
    maps: list[str] = []
    offset = 0

    def run(start: int, op: int, arg: int) -> None:
        if arg >= 1 << 19:
            raise ValueError(f"U+{start:04X}: operand too large")
        runs.append(_fixed(start, 4) + _fixed(op << 19 | arg, 4))

    def add_maps(text: str) -> int:
        nonlocal offset
        at = offset
        maps.append(text)
        offset += len(text)
        return at

    cp = 0
    while cp < MAX_CODE_POINT:
        st, mapped, end = t.at(cp)
        if st in _OPS:
            while end < MAX_CODE_POINT and t.at(end)[0] == st:  # merge equal rows
                end = t.at(end)[2]
            run(cp, _OPS[st], 0)
            cp = end
            continue
        if st != "M" or not mapped:
            raise ValueError(f"U+{cp:04X}: unexpected UTS #46 status {st!r}")
        delta = single(cp)
        if delta is not None:
            e = cp + 1
            while single(e) == delta:
                e += 1
            if e - cp >= 2:
                run(cp, _SHIFT, _zigzag(delta))
                cp = e
                continue
            e = cp
            while single(e) == delta and status(e + 1) == "V":
                e += 2
            if e - cp >= 4:
                run(cp, _ALTERNATE, _zigzag(delta))
                cp = e
                continue
        e = cp + 1
        while e < MAX_CODE_POINT and t.at(e)[:2] == ("M", mapped):
            e += 1
        if e - cp >= 2:
            run(cp, _SHARED, add_maps(_mapping_text(mapped, cp)))
            cp = e
            continue
        # one mapping per code point, up to where one of the runs above starts
        e = cp + 1
        while e < MAX_CODE_POINT and t.at(e)[0] == "M":
            nxt = t.at(e)[1]
            d = single(e)
            if t.at(e + 1)[:2] == ("M", nxt) or (d is not None and single(e + 1) == d):
                break
            e += 1
        text = "".join(_mapping_text(t.at(x)[1] or "", x) for x in range(cp, e))
        run(cp, _EXPLICIT, add_maps(text))
        cp = e
    return "".join(runs), "".join(maps)


def _joining_types() -> dict[int, int]:
    out = {}
    for name, ranges in idnadata.joining_types.items():
        if name in _JOINING:
            for r in ranges:
                for cp in range(r >> 32, r & 0xFFFFFFFF):
                    out[cp] = _JOINING[name]
    return out


def _property_runs(t: _Table) -> str:
    joining = _joining_types()
    runs = []
    current: int | None = None
    cp = 0
    while cp < MAX_CODE_POINT:
        st, _, end = t.at(cp)
        if st not in ("V", "D"):
            cp = end  # never looked up: extends the current run
            continue
        # map() over the whole row and groupby keep the per-code-point work in C
        chars = "".join(map(chr, range(cp, end)))
        keys = zip(
            map(unicodedata2.bidirectional, chars),
            map(unicodedata2.category, chars),
            map(unicodedata2.combining, chars),
            map(joining.get, range(cp, end)),
            strict=True,
        )
        at = cp
        for (bidi, category, combining, jt), group in groupby(keys):
            # a character newer than unicodedata2 has no class (""): 0, allowed in no
            # label of a Bidi domain name (test_idna.py checks unicodedata2 is recent)
            cls = (
                _BIDI.get(bidi, 0)
                | (category[0] == "M") << 3
                | (combining == 9) << 4
                | (jt or 0) << 5
            )
            if cls != current:
                runs.append(_fixed(at, 4) + _fixed(cls, 2))
                current = cls
            at += len(list(group))
        cp = end
    return "".join(runs)


#: the tables of this process, once made or loaded
_tables: str | None = None
_lock = threading.Lock()


def _stamp() -> str:
    """The first line of the tables: what made them (a saved copy is used only by the
    same code with the same packages)."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return (
        f"// UTS #46 tables by isogate/runtime/uts46.py {code} from idna {idna.__version__}"
        f" and unicodedata2 (Unicode {unicodedata2.unidata_version})"
    )


def tables_js() -> str:
    """The prelude's ``uts46Tables()``: a function returning [runs, maps, props]."""
    global _tables
    with _lock:
        if _tables is None:
            t = _Table()
            runs, maps = _mapping_runs(t)
            _tables = (
                f"{_stamp()}\n"
                f"function uts46Tables() {{ return ['{runs}', '{maps}', '{_property_runs(t)}']; }}"
            )
        return _tables


def save(path: str) -> None:
    """Write the tables to ``path`` for processes started later (:func:`load`): the
    runtime makes them once, and its workers and code checkers, restarted or not, do not
    spend ~0.1 s of CPU each making them again."""
    Path(path).write_text(tables_js(), encoding="ascii")


def load(path: str) -> bool:
    """Use the tables :func:`save` wrote, if the same code and packages made them;
    False (they are made on first use) when the file is missing or from elsewhere."""
    global _tables
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return False
    if text.split("\n", 1)[0] != _stamp() or "\nfunction uts46Tables() { return ['" not in text:
        return False
    with _lock:
        _tables = text
    return True
