"""Checking and preparing a tenant's source before it runs.

V8 here compiles classic scripts only. A Worker in module syntax is accepted by
rewriting its single ``export default`` into an assignment; the position of that
token comes from V8's own parser (the "Unexpected token 'export'" error), so strings,
comments and template literals can never be mistaken for it. ``import`` and every
other ``export`` form are rejected with the line and column V8 reports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import STPyV8

from .types import JSErrorInfo

#: the wrapper's variable that receives the default export. Exactly as long as ``export``
#: so that rewriting ``export default`` moves no column of the tenant's code.
SCRIPT_NAME = "worker.js"
EXPORT_VAR = "__ig$d"
#: how the runtime evaluates the wrapped code (``Sandbox.load``); the deploy check
#: compiles the very same text, so what deploys, loads
LOAD_CALL = "__isogate.load("
_POSITION = re.compile(
    r"^(?P<name>\w+): (?P<message>.*?) \( (?P<file>.*?) @ (?P<line>-?\d+) : (?P<col>-?\d+) \)",
    re.DOTALL,
)
_JS_NAME = re.compile(r"^(?P<name>[A-Z]\w{0,40}Error): (?P<message>.*)", re.DOTALL)
#: a frame of the tenant's code in a V8 stack trace
_FRAME = re.compile(re.escape(SCRIPT_NAME) + r":(?P<line>\d+):(?P<col>\d+)")
_DECLARATION = re.compile(
    r"(?:async\s+)?function\s*\*?\s*(?P<fn>[A-Za-z_$][\w$]*)|class\s+(?P<cls>[A-Za-z_$][\w$]*)"
)
_EXPORT_DEFAULT = re.compile(r"export\s+default\b")


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
    """Tenant code wrapped for ``__isogate.load``; ``module`` tells which syntax it used.

    ``offset`` is how many columns of line 1 of the load script (:func:`load_script`)
    precede the tenant's first character, and ``lines`` how many lines the tenant's code
    has: positions V8 reports are mapped back with :meth:`position`.
    """

    script: str
    module: bool
    offset: int = 0
    lines: int = 1

    def position(self, line: int | None, column: int | None) -> tuple[int | None, int | None]:
        """A 1-based (line, column) of the load script as one in the tenant's code."""
        if line is None or line < 1:
            return None, None
        if line > self.lines:  # in the wrapper's tail: the end of the tenant's code
            return self.lines, None
        if column is not None and line == 1:
            if column <= self.offset:  # the wrapper's own code (the load call)
                return None, None
            column -= self.offset
        return line, column

    def map_stack(self, stack: str) -> str:
        """``stack`` with the tenant's frames on line 1 moved back by the wrapper."""

        def fix(m: re.Match[str]) -> str:
            line, col = self.position(int(m["line"]), int(m["col"]))
            if line is None:
                return "isogate"  # a frame of the wrapper, not of the tenant's code
            return f"{SCRIPT_NAME}:{line}:{col if col is not None else 1}"

        return _FRAME.sub(fix, stack)

    def locate(self, info: JSErrorInfo) -> JSErrorInfo:
        """``info`` with the line and column of its first frame in the tenant's code."""
        line = column = None
        for m in _FRAME.finditer(info.stack):  # the first frame in the tenant's code
            line, column = self.position(int(m["line"]), int(m["col"]))
            if line is not None:
                break
        return JSErrorInfo(
            name=info.name,
            message=info.message,
            stack=self.map_stack(info.stack),
            line=line,
            column=column,
        )


def load_script(prepared: PreparedSource, config_json: str) -> str:
    """The script ``Sandbox.load`` evaluates (and the deploy check compiles)."""
    return f"{LOAD_CALL}{prepared.script}, {json.dumps(config_json)})"


def _engine_error(exc: BaseException) -> tuple[str, str, int | None, int | None]:
    """Name, message and 0-based position of an error stpyv8 raised while compiling.

    stpyv8 raises Python classes for JS errors (a RangeError becomes an IndexError):
    only the JS name in the text is kept, never a Python one.
    """
    text = str(exc)
    m = _POSITION.match(text)
    if m:
        line, col = int(m["line"]), int(m["col"])
        if line < 1 or col < 0:
            return (*_named(m["name"], m["message"]), None, None)
        return (*_named(m["name"], m["message"]), line, col)
    m = _JS_NAME.match(text)
    if m:
        return (*_named(m["name"], m["message"].split(" ( ", 1)[0]), None, None)
    return "SyntaxError", "the code could not be parsed", None, None


def _named(name: str, message: str) -> tuple[str, str]:
    message = message.strip()[:1000]
    if name == "RangeError" and "call stack" in message:
        message = f"{message} (the code is nested too deeply to parse)"
    if not name.endswith("Error"):
        name = "SyntaxError"
    return name, message


def _offset(source: str, line: int, col: int) -> int:
    lines = source.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col


def _blank(text: str) -> str:
    """Spaces for every character but line breaks (so no line or column moves)."""
    return re.sub(r"[^\n\r\u2028\u2029]", " ", text)


def _compile(engine: STPyV8.JSEngine, text: str) -> JSErrorInfo | None:
    """None when ``text`` compiles; else the error, 1-based position in ``text``."""
    try:
        engine.compile(text, SCRIPT_NAME)
    except Exception as exc:  # V8 maps SyntaxError to Python's; only V8 made it
        name, message, line, col = _engine_error(exc)
        return JSErrorInfo(
            name=name, message=message, line=line, column=None if col is None else col + 1
        )
    return None


def prepare(source: str, engine: STPyV8.JSEngine) -> PreparedSource:
    """Validate ``source`` and return the script that loads it.

    Must be called with an isolate entered (compiling needs one). Raises
    :class:`SourceError` for syntax errors, ``import`` statements and unsupported exports,
    also for what parses only outside the wrapper the runtime loads it in (a ``with``
    statement in a module, which runs in strict mode).
    """
    text = to_js_source(source)  # columns are then UTF-16 units, as V8 counts them
    module = False
    tail = ""
    for _ in range(3):
        info = _compile(engine, text)
        if info is None:
            break
        line, column = info.line, info.column
        if line is None or column is None:
            raise SourceError(info)
        if "Cannot use import statement" in info.message:
            raise SourceError(
                JSErrorInfo(
                    name="SyntaxError",
                    message="import statements are not supported: bundle into one file",
                    line=line,
                    column=column,
                )
            )
        if info.message != "Unexpected token 'export'":
            raise SourceError(info)
        start = _offset(text, line, column - 1)
        m = _EXPORT_DEFAULT.match(text, start)
        if not m or module:
            what = "a second `export default`" if module and m else "this export form"
            raise SourceError(
                JSErrorInfo(
                    name="SyntaxError",
                    message=f"{what} is not supported: use `export default {{ fetch }}`",
                    line=line,
                    column=column,
                )
            )
        module = True
        rest = text[m.end() :]
        between = text[start + len("export") : m.end() - len("default")]
        decl = _DECLARATION.match(rest.lstrip())
        if decl:
            # `export default function f() {}` stays a hoisted declaration named f.
            text = text[:start] + _blank(text[start : m.end()]) + rest
            tail = f"\n;{EXPORT_VAR} = {decl['fn'] or decl['cls']};"
        else:
            # `export` becomes the variable, `default` an `=`: every line and column of
            # the tenant's code stays where it was (also with a line break between).
            text = text[:start] + EXPORT_VAR + between + "=      " + rest
    else:  # pragma: no cover - the loop always breaks or raises
        raise SourceError(JSErrorInfo(name="SyntaxError", message="cannot parse the source"))
    strict = '"use strict";' if module else ""
    # Everything stays on the tenant's line numbers: the wrapper opens on line 1.
    prefix = f"(function(){{{strict}var {EXPORT_VAR};"
    prepared = PreparedSource(
        script=f"{prefix}{text}{tail}\n;return {EXPORT_VAR};}})",
        module=module,
        offset=len(LOAD_CALL) + len(prefix),
        lines=text.count("\n") + 1,
    )
    # The same text the runtime evaluates, compiled the same way: a strict-mode error
    # the bare code does not have (`with`, octal literals, `delete x`) is found here.
    info = _compile(engine, load_script(prepared, ""))
    if info is not None:
        line, column = prepared.position(info.line, info.column)
        raise SourceError(
            JSErrorInfo(name=info.name, message=info.message, line=line, column=column)
        )
    return prepared
