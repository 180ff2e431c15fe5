"""Checking and preparing a tenant's source before it runs.

stpyv8 reaches V8's classic-script compiler only (no module API). An ES module is
therefore turned into the body of a strict function by edits that move no line and no
column of the tenant's code (found by the syntax-tree walk, runtime/module_syntax.py):
``export`` keywords become spaces, ``export default`` an assignment to a variable
exactly as long as ``export``, ``export { … }`` clauses spaces, ``import.meta`` a
variable of the same length. The exports come back from the wrapper as a namespace
object of live getters. A module with top-level ``await`` is wrapped in an ``async``
function. V8 then compiles the result: it, not the tree-sitter grammar, decides what is
valid, and its error positions are the tenant's.

This module holds the wrapper (:func:`prepare`, :func:`load_script`), the judgement of
V8's compile errors, and :class:`PreparedSource`, which maps positions of the load script
back to the tenant's code (also for a linked module set, runtime/linker.py). The names
the wrapper gives its variables, and :class:`~isogate.runtime.source_names.SourceError`,
are in runtime/source_names.py, which the walk imports too.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

import STPyV8

from .module_syntax import analyse
from .source_names import EXPORT_VAR, LOAD_CALL, META_VAR, MODULE_URL, SCRIPT_NAME, SourceError
from .types import JSErrorInfo

_POSITION = re.compile(
    r"^(?P<name>\w+): (?P<message>.*?) \( (?P<file>.*?) @ (?P<line>-?\d+) : (?P<col>-?\d+) \)",
    re.DOTALL,
)
_JS_NAME = re.compile(r"^(?P<name>[A-Z]\w{0,40}Error): (?P<message>.*)", re.DOTALL)
#: a frame of the tenant's code in a V8 stack trace
_FRAME = re.compile(re.escape(SCRIPT_NAME) + r":(?P<line>\d+):(?P<col>\d+)")


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
    #: the module awaits at its top level: the wrapper is an async function
    top_level_await: bool = False
    #: a linked module set (runtime/linker.py): each module's name, first line of the
    #: load script, columns before its code on that line, and its number of lines
    modules: tuple[tuple[str, int, int, int], ...] = ()
    #: a linked module set: edits that changed a line's length (reads of imports made
    #: live): (line of the load script, column of the edit in the module's code as
    #: linked, its length there, its length in the tenant's code), sorted
    shifts: tuple[tuple[int, int, int, int], ...] = ()

    def where(self, line: int | None, column: int | None) -> tuple[str, int | None, int | None]:
        """The module (its name; ``SCRIPT_NAME`` for a single script) and 1-based
        position in it of a position of the load script."""
        if not self.modules:
            return (SCRIPT_NAME, *self.position(line, column))
        if line is None or line < 1:
            return SCRIPT_NAME, None, None
        for name, first, offset, lines in self.modules:
            if first <= line < first + lines:
                at = line - first + 1
                if column is not None:
                    if at == 1:
                        if column <= offset:  # the module's wrapper (its namespace)
                            return name, None, None
                        column -= offset
                    column = self._unshift(line, column)
                return name, at, column
        return SCRIPT_NAME, None, None

    def _unshift(self, line: int, column: int) -> int:
        """A column of a linked module's code as a column of the tenant's (a position
        inside a rewritten name is the name's first column)."""
        shifts = self.shifts
        i = bisect.bisect_left(shifts, (line,))
        delta = 0
        while i < len(shifts) and shifts[i][0] == line:
            _, at, linked, original = shifts[i]
            if column < at:
                break
            if column < at + linked:
                return at - delta
            delta += linked - original
            i += 1
        return column - delta

    def position(self, line: int | None, column: int | None) -> tuple[int | None, int | None]:
        """A 1-based (line, column) of the load script as one in the tenant's code."""
        if self.modules:
            _, line, column = self.where(line, column)
            return line, column
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
            name, line, col = self.where(int(m["line"]), int(m["col"]))
            if line is None:
                return "isogate"  # a frame of the wrapper, not of the tenant's code
            return f"{name}:{line}:{col if col is not None else 1}"

        return _FRAME.sub(fix, stack)

    def locate(self, info: JSErrorInfo) -> JSErrorInfo:
        """``info`` with the line and column of its first frame in the tenant's code."""
        line = column = None
        module = SCRIPT_NAME
        for m in _FRAME.finditer(info.stack):  # the first frame in the tenant's code
            module, line, column = self.where(int(m["line"]), int(m["col"]))
            if line is not None:
                break
        message = info.message
        if self.modules and line is not None:  # which module of the set
            message = f"{message} (in {module})"
        return JSErrorInfo(
            name=info.name,
            message=message,
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


def offset_of(source: str, line: int, col: int) -> int:
    """The index in ``source`` of 1-based ``line`` and 0-based ``col``."""
    lines = source.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col


def compile_check(engine: STPyV8.JSEngine, text: str) -> JSErrorInfo | None:
    """None when ``text`` compiles; else the error, 1-based position in ``text``."""
    try:
        engine.compile(text, SCRIPT_NAME)
    except Exception as exc:  # V8 maps SyntaxError to Python's; only V8 made it
        name, message, line, col = _engine_error(exc)
        return JSErrorInfo(
            name=name, message=message, line=line, column=None if col is None else col + 1
        )
    return None


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = []
    at = 0
    for s, e, r in sorted(edits):
        out.append(text[at:s])
        out.append(r)
        at = e
    out.append(text[at:])
    return "".join(out)


def prepare(source: str, engine: STPyV8.JSEngine) -> PreparedSource:
    """Validate ``source`` and return the script that loads it.

    Must be called with an isolate entered (compiling needs one). Raises
    :class:`SourceError` for syntax errors, ``import`` statements and unsupported exports,
    also for what parses only outside the wrapper the runtime loads it in (a ``with``
    statement in a module, which runs in strict mode).
    """
    original = to_js_source(source)  # columns are then UTF-16 units, as V8 counts them
    joined: frozenset[int] = frozenset()
    for _ in range(MAX_REREADS):
        prepared = _wrap(original, joined)
        # The same text the runtime evaluates, compiled the same way: V8 is the judge
        # of what is valid, and a strict-mode error (`with`, octal literals) is found here.
        info = compile_check(engine, load_script(prepared, ""))
        if info is None:
            return prepared
        line, column = prepared.position(info.line, info.column)
        if info.message == "Unexpected token 'export'" and line is not None and column:
            # tree-sitter's grammar reads `export` before a line break as a name
            # (`export\ndefault …`); V8 says it is the keyword: read it again so.
            at = offset_of(original, line, column - 1)
            if original.startswith("export", at) and at not in joined:
                joined = joined | {at}
                continue
        raise SourceError(
            JSErrorInfo(name=info.name, message=info.message, line=line, column=column)
        )
    raise SourceError(
        JSErrorInfo(name="SyntaxError", message="too many export statements split across lines")
    )


#: how often the syntax tree may be read again at V8's word (see prepare)
MAX_REREADS = 20


def _wrap(original: str, joined: frozenset[int]) -> PreparedSource:
    """The tenant's code as the body of the wrapper function ``__isogate.load`` runs."""
    mod = analyse(original, joined)
    text = _apply(original, mod.edits)
    if mod.module:
        getters = ",".join(
            f"get {json.dumps(name)}(){{return {local}}}" for name, local in mod.exports.items()
        )
        prefix = (
            f'({"async " if mod.top_level_await else ""}function(){{"use strict";'
            f"var {EXPORT_VAR},{META_VAR}={{url:{json.dumps(MODULE_URL)}}};"
        )
        tail = f"\n;return {{__proto__:null,{getters}}};}})"
    else:
        prefix = "(function(){"
        tail = "\n;})"
    # Everything stays on the tenant's line numbers: the wrapper opens on line 1.
    return PreparedSource(
        script=f"{prefix}{text}{tail}",
        module=mod.module,
        offset=len(LOAD_CALL) + len(prefix),
        lines=text.count("\n") + 1,
        top_level_await=mod.top_level_await,
    )
