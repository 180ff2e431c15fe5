"""Checking and preparing a tenant's source before it runs.

stpyv8 reaches V8's classic-script compiler only (no module API). An ES module is
therefore read with tree-sitter's JavaScript grammar (a real ECMAScript parser, in C)
and turned into the body of a strict function by edits that move no line and no
column of the tenant's code: ``export`` keywords become spaces, ``export default``
an assignment to a variable exactly as long as ``export``, ``export { … }`` clauses
spaces, ``import.meta`` a variable of the same length. The exports come back from
the wrapper as a namespace object of live getters. A module with top-level ``await``
is wrapped in an ``async`` function. V8 then compiles the result: it, not the
tree-sitter grammar, decides what is valid, and its error positions are the
tenant's.

Why one module of ~650 lines: the wrapper and the syntax-tree reading are one contract:
every edit of the tree walk (``_analyse``, ``_export``, ``_scan``) must keep positions
for :meth:`PreparedSource.position` and name the wrapper's variables (``EXPORT_VAR``,
``META_VAR``), and :func:`prepare` rereads the tree at V8's word. What would split off:
the tree-sitter walk (``_Module``, ``Import``, ``_analyse`` and its helpers, also used by
linker.py) into a module of its own, with the wrapper's names and :class:`SourceError`
in a small module both import.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

import STPyV8
import tree_sitter
import tree_sitter_javascript

from .references import Reference, _text, bound_names, references, writes
from .types import JSErrorInfo

#: the wrapper's variable that receives the default export. Exactly as long as ``export``
#: so that rewriting ``export default`` moves no column of the tenant's code.
SCRIPT_NAME = "worker.js"
EXPORT_VAR = "__ig$d"
#: ``import.meta`` becomes this variable: exactly as long as ``import.meta``
META_VAR = "__ig$import"
#: what ``import.meta.url`` is for the main module
MODULE_URL = "file:///worker.js"
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


def _parser() -> tree_sitter.Parser:
    global _PARSER
    if _PARSER is None:
        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))
    return _PARSER


_PARSER: tree_sitter.Parser | None = None
#: nodes whose body is a scope of its own: an ``await`` inside is not top-level
_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "generator_function_declaration",
        "generator_function",
        "arrow_function",
        "method_definition",
        "class_static_block",
        "field_definition",
    }
)
_DECLARATIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
    }
)


@dataclass
class _Module:
    """What the syntax tree says about a module, as edits that keep every position."""

    text: str
    edits: list[tuple[int, int, str]]
    #: exported name -> the JavaScript expression that reads it (a live binding)
    exports: dict[str, str]
    tail: list[str]
    module: bool = False
    top_level_await: bool = False
    #: linking (runtime/linker.py): imports and re-exports, collected, not refused
    linking: bool = False
    imports: list[Import] = field(default_factory=list)
    #: linking: reads of imported names (runtime/references.py), made live by the linker
    references: list[Reference] = field(default_factory=list)
    #: linking: exported top-level names the module assigns after their declaration
    #: (the others keep their first value: an importer may hold a copy)
    written: set[str] = field(default_factory=set)


@dataclass
class Import:
    """An ``import`` or ``export … from`` of a linked module.

    ``bindings``: (local name, imported name; ``*`` the namespace) of an import;
    ``reexports``: (exported name, imported name; ``*`` the namespace), or ``star``
    for ``export * from``. ``line``/``column``: 1-based, of the statement.
    """

    specifier: str
    line: int
    column: int
    bindings: list[tuple[str, str]] = field(default_factory=list)
    reexports: list[tuple[str, str]] = field(default_factory=list)
    star: bool = False


def _span(node: tree_sitter.Node) -> tuple[int, int]:
    return node.start_byte // 2, node.end_byte // 2


def _where(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (UTF-16 units) of ``index`` in ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _refuse(text: str, node: tree_sitter.Node, message: str) -> SourceError:
    line, column = _where(text, _span(node)[0])
    return SourceError(JSErrorInfo(name="SyntaxError", message=message, line=line, column=column))


def _field(node: tree_sitter.Node, name: str) -> tree_sitter.Node:
    """``node``'s field ``name``, which the grammar requires; a tree with syntax errors
    (V8 reports those) may still lack it: a SyntaxError, not an AttributeError."""
    child = node.child_by_field_name(name)
    if child is None:
        row, col = node.start_point  # col in bytes of UTF-16
        raise SourceError(
            JSErrorInfo(
                name="SyntaxError",
                message=f"unexpected {node.type}",
                line=row + 1,
                column=col // 2 + 1,
            )
        )
    return child


def _name(node: tree_sitter.Node) -> str:
    """An export specifier's name (an identifier, ``default`` or a string)."""
    raw = _text(node)
    if node.type == "string":
        name: str = (
            json.loads(raw)
            if raw.startswith('"')
            else json.loads('"' + raw[1:-1].replace('"', '\\"') + '"')
        )
        return name
    return raw


def _analyse(text: str, joined: frozenset[int] = frozenset(), *, linking: bool = False) -> _Module:
    """Read ``text``'s syntax tree; ``joined``: offsets of ``export`` tokens whose line
    break after the keyword the grammar is to read as a space (see :func:`prepare`);
    ``linking``: imports and re-exports are collected (blanked) instead of refused."""
    parsed = text
    for at in joined:
        end = at + len("export")
        stop = end
        while stop < len(parsed) and parsed[stop] in " \t\r\n\u2028\u2029":
            stop += 1
        parsed = parsed[:end] + " " * (stop - end) + parsed[stop:]
    tree = _parser().parse(parsed.encode("utf-16-le", "surrogatepass"), encoding="utf16")
    mod = _Module(text=text, edits=[], exports={}, tail=[], linking=linking)
    for stmt in tree.root_node.children:
        if stmt.type == "import_statement" and linking:
            _import(mod, stmt)
            continue
        if stmt.type == "import_statement":
            raise _refuse(
                text,
                stmt,
                "import statements need the imported module in the upload: bundle into one file",
            )
        if stmt.type != "export_statement":
            continue
        mod.module = True
        _export(mod, stmt)
    _scan(mod, tree.root_node, top=True)
    if linking:
        imported = frozenset(local for imp in mod.imports for local, _ in imp.bindings)
        mod.references = references(tree, imported)
        local = frozenset(v for v in mod.exports.values() if v and v != EXPORT_VAR)
        mod.written = writes(tree, local - imported)
    return mod


def _export(mod: _Module, stmt: tree_sitter.Node) -> None:
    text = mod.text
    if stmt.child_by_field_name("source") is not None and mod.linking:
        _reexport(mod, stmt)
        return
    if stmt.child_by_field_name("source") is not None:
        raise _refuse(
            text,
            stmt,
            "re-exports from another module need that module in the upload: bundle into one file",
        )
    start, end = _span(stmt)
    kw = stmt.children[0]  # `export`
    default = next((c for c in stmt.children if c.type == "default"), None)
    decl = stmt.child_by_field_name("declaration")
    value = stmt.child_by_field_name("value")
    clause = next((c for c in stmt.children if c.type == "export_clause"), None)
    if default is not None:
        if "default" in mod.exports:
            raise _refuse(text, stmt, "a second `export default` in one module")
        target = decl if decl is not None else value
        named = (
            target is not None
            and target.type
            in (
                "function_declaration",
                "generator_function_declaration",
                "class_declaration",
                "function_expression",
                "generator_function",
                "class",
            )
            and target.child_by_field_name("name") is not None
        )
        ks, _ = _span(kw)
        _, de = _span(default)
        if named and target is not None:
            # `export default function f() {}` stays a hoisted declaration named f.
            mod.edits.append((ks, de, _blank(text[ks:de])))
            fname = (
                bound_names(target)[0]
                if target.type in _DECLARATIONS
                else _text(_field(target, "name"))
            )
            mod.exports["default"] = fname
        else:
            # `export` becomes the variable, `default` an `=`: no column of the
            # tenant's code moves (also with a line break between).
            ds, _ = _span(default)
            mod.edits.append((ks, ks + 6, EXPORT_VAR))
            mod.edits.append((ds, de, "=      "))
            if target is not None and target.type in (
                "function_expression",
                "class",
                "generator_function",
                "function_declaration",
                "class_declaration",
                "generator_function_declaration",
            ):
                # an anonymous declaration becomes an expression: end it
                mod.edits.append((_span(target)[1], _span(target)[1], ";"))
            mod.exports["default"] = EXPORT_VAR
        return
    if decl is not None:
        ks, ke = _span(kw)
        mod.edits.append((ks, ke, " " * (ke - ks)))
        for n in bound_names(decl):
            mod.exports[n] = n
        return
    if clause is not None:
        mod.edits.append((start, end, _blank(text[start:end])))
        for spec in clause.named_children:
            if spec.type != "export_specifier":
                continue
            local = _field(spec, "name")
            alias = spec.child_by_field_name("alias")
            if local.type == "string":
                raise _refuse(
                    text, spec, "a string name can only be re-exported from another module"
                )
            name = _name(alias if alias is not None else local)
            if name in mod.exports:
                raise _refuse(text, spec, f"duplicate export {name!r}")
            mod.exports[name] = _name(local)
        return
    raise _refuse(text, stmt, "this export form is not supported")


def _specifier(mod: _Module, stmt: tree_sitter.Node) -> Import:
    src = _field(stmt, "source")
    line, column = _where(mod.text, _span(stmt)[0])
    s, e = _span(stmt)
    mod.edits.append((s, e, _blank(mod.text[s:e])))
    mod.module = True
    return Import(specifier=_name(src), line=line, column=column)


def _import(mod: _Module, stmt: tree_sitter.Node) -> None:
    """``import … from "spec"`` becomes spaces; its bindings are kept for the linker."""
    imp = _specifier(mod, stmt)
    clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
    for part in clause.named_children if clause is not None else ():
        if part.type == "identifier":
            imp.bindings.append((_name(part), "default"))
        elif part.type == "namespace_import":
            ident = next(c for c in part.named_children if c.type == "identifier")
            imp.bindings.append((_name(ident), "*"))
        elif part.type == "named_imports":
            for spec in part.named_children:
                if spec.type != "import_specifier":
                    continue
                name = _field(spec, "name")
                alias = spec.child_by_field_name("alias")
                local = alias if alias is not None else name
                if local.type == "string":
                    raise _refuse(mod.text, spec, "a string import needs a local name (as …)")
                imp.bindings.append((_name(local), _name(name)))
    mod.imports.append(imp)


def _reexport(mod: _Module, stmt: tree_sitter.Node) -> None:
    """``export … from "spec"``: spaces; the names are the linker's to export."""
    imp = _specifier(mod, stmt)
    clause = next((c for c in stmt.children if c.type == "export_clause"), None)
    ns = next((c for c in stmt.named_children if c.type == "namespace_export"), None)
    if clause is not None:
        for spec in clause.named_children:
            if spec.type != "export_specifier":
                continue
            name = _field(spec, "name")
            alias = spec.child_by_field_name("alias")
            imp.reexports.append((_name(alias if alias is not None else name), _name(name)))
    elif ns is not None:
        ident = ns.named_children[-1]
        imp.reexports.append((_name(ident), "*"))
    else:
        imp.star = True
    for exported, _ in imp.reexports:
        if exported in mod.exports:
            raise _refuse(mod.text, stmt, f"duplicate export {exported!r}")
        mod.exports[exported] = ""  # the linker fills in the expression
    mod.imports.append(imp)


_QUERY: tree_sitter.Query | None = None


def _scan(mod: _Module, node: tree_sitter.Node, *, top: bool) -> None:
    """Find ``import.meta`` (anywhere) and ``await`` at the top level (a query, in C)."""
    global _QUERY
    if _QUERY is None:
        language = _parser().language
        assert language is not None  # the parser is made with its language
        _QUERY = tree_sitter.Query(
            language,
            '(meta_property) @meta (await_expression) @await (for_in_statement "await") @await'
            " (yield_expression) @yield (return_statement) @return",
        )
    found = tree_sitter.QueryCursor(_QUERY).captures(node)
    if mod.linking:
        # a linked module's body runs in a generator (runtime/linker.py), where these
        # two would parse: at a module's top level they are V8's SyntaxErrors
        for kind, message in (
            ("yield", "Unexpected strict mode reserved word"),
            ("return", "Illegal return statement"),
        ):
            for n in found.get(kind, []):
                if _top_level(n):
                    raise _refuse(mod.text, n, message)
    for n in found.get("meta", []):
        if not _text(n).startswith("import"):
            continue  # new.target
        s, e = _span(n)
        mod.module = True
        # `import.meta` -> a variable of the same length (`import . meta`: padded)
        mod.edits.append((s, e, META_VAR + _blank(mod.text[s + len(META_VAR) : e])))
    for n in found.get("await", []):
        if not top:
            break
        if _top_level(n):
            mod.top_level_await = True
            mod.module = True
            break


def _top_level(node: tree_sitter.Node) -> bool:
    """``node`` is in no function, method, static block or class field."""
    p = node.parent
    while p is not None and p.type not in _FUNCTIONS:
        p = p.parent
    return p is None


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
        info = _compile(engine, load_script(prepared, ""))
        if info is None:
            return prepared
        line, column = prepared.position(info.line, info.column)
        if info.message == "Unexpected token 'export'" and line is not None and column:
            # tree-sitter's grammar reads `export` before a line break as a name
            # (`export\ndefault …`); V8 says it is the keyword: read it again so.
            at = _offset(original, line, column - 1)
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
    mod = _analyse(original, joined)
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
