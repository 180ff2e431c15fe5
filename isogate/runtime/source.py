"""Checking and preparing a tenant's source before it runs.

V8 here compiles classic scripts only. A Worker in module syntax is accepted by
rewriting its single ``export default`` into an assignment; the position of that
token comes from V8's own parser (the "Unexpected token 'export'" error), so strings,
comments and template literals can never be mistaken for it. ``import`` and every
other ``export`` form are rejected with the line and column V8 reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import STPyV8

from .types import JSErrorInfo

EXPORT_VAR = "__isogate_default_export__"
_POSITION = re.compile(
    r"^(?P<name>\w+): (?P<message>.*) \( (?P<file>.*?) @ (?P<line>\d+) : (?P<col>\d+) \)"
)
_DECLARATION = re.compile(
    r"(?:async\s+)?function\s*\*?\s*(?P<fn>[A-Za-z_$][\w$]*)|class\s+(?P<cls>[A-Za-z_$][\w$]*)"
)
_EXPORT_DEFAULT = re.compile(r"export\s+default\b")
SCRIPT_NAME = "worker.js"


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _surrogates(m: re.Match[str]) -> tuple[int, int]:
    c = ord(m.group()) - 0x10000
    return 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF)


def _pair(m: re.Match[str]) -> str:
    return "".join(map(chr, _surrogates(m)))


def to_js_source(text: str) -> str:
    """Spell characters beyond U+FFFF as UTF-16 surrogate pairs.

    stpyv8 truncates such characters to 16 bits when a Python string enters V8
    (an emoji becomes U+F600); two surrogates arrive intact.
    """
    if text.isascii() or not _ASTRAL.search(text):
        return text
    return _ASTRAL.sub(_pair, text)


class SourceError(Exception):
    """The source cannot be loaded; ``info`` names the line and column (1-based)."""

    def __init__(self, info: JSErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


@dataclass(frozen=True, slots=True)
class PreparedSource:
    """Tenant code wrapped for ``__isogate.load``; ``module`` tells which syntax it used."""

    script: str
    module: bool


def _syntax_error(exc: BaseException) -> tuple[str, str, int | None, int | None]:
    text = str(exc)
    m = _POSITION.match(text)
    if not m:
        return type(exc).__name__, text, None, None
    return m["name"], m["message"], int(m["line"]), int(m["col"])


def _offset(source: str, line: int, col: int) -> int:
    lines = source.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col


def prepare(source: str, engine: STPyV8.JSEngine) -> PreparedSource:
    """Validate ``source`` and return the script that loads it.

    Must be called with an isolate entered (compiling needs one). Raises
    :class:`SourceError` for syntax errors, ``import`` statements and unsupported exports.
    """
    text = to_js_source(source)  # columns are then UTF-16 units, as V8 counts them
    module = False
    tail = ""
    for _ in range(3):
        try:
            engine.compile(text, SCRIPT_NAME)
            break
        except Exception as exc:  # V8 maps SyntaxError to Python's; only V8 made it
            name, message, line, col = _syntax_error(exc)
            info = JSErrorInfo(
                name=name, message=message, line=line, column=None if col is None else col + 1
            )
            if line is None or col is None:
                raise SourceError(info) from None
            if "Cannot use import statement" in message:
                raise SourceError(
                    JSErrorInfo(
                        name="SyntaxError",
                        message="import statements are not supported: bundle into one file",
                        line=line,
                        column=col + 1,
                    )
                ) from None
            if message != "Unexpected token 'export'":
                raise SourceError(info) from None
            start = _offset(text, line, col)
            m = _EXPORT_DEFAULT.match(text, start)
            if not m or module:
                what = "a second `export default`" if module and m else "this export form"
                raise SourceError(
                    JSErrorInfo(
                        name="SyntaxError",
                        message=f"{what} is not supported: use `export default {{ fetch }}`",
                        line=line,
                        column=col + 1,
                    )
                ) from None
            module = True
            rest = text[m.end() :]
            decl = _DECLARATION.match(rest.lstrip())
            if decl:
                # `export default function f() {}` stays a hoisted declaration named f.
                text = text[:start] + " " * (m.end() - start) + rest
                tail = f"\n;{EXPORT_VAR} = {decl['fn'] or decl['cls']};"
            else:
                text = text[:start] + f"{EXPORT_VAR} =".ljust(m.end() - start) + rest
    else:  # pragma: no cover - the loop always breaks or raises
        raise SourceError(JSErrorInfo(name="SyntaxError", message="cannot parse the source"))
    strict = '"use strict";' if module else ""
    # Everything stays on the tenant's line numbers: the wrapper opens on line 1.
    script = f"(function(){{{strict}var {EXPORT_VAR};{text}{tail}\n;return {EXPORT_VAR};}})"
    return PreparedSource(script=script, module=module)
