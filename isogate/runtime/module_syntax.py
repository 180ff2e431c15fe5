"""The syntax-tree walk of an ES module: what the wrapper and the linker rewrite.

tree-sitter's JavaScript grammar (a real ECMAScript parser, in C) locates, in one
module's text, what becomes of its module syntax when it runs as the body of a
function: ``export`` keywords and clauses, ``export default``, ``import.meta`` and
top-level ``await``; when linking a module set (runtime/linker.py), also ``import`` and
``export … from`` statements, the reads of imported names and the exported names the
module assigns again (runtime/references.py). :func:`analyse` answers them as an
:class:`Analysis`: edits that move no line and no column of the tenant's code, so that
positions V8 reports are the tenant's (``PreparedSource.position``, runtime/source.py).

The tree only locates: V8 compiles the rewritten code and decides what is valid
(:func:`isogate.runtime.source.prepare`). The text is parsed as UTF-16, so offsets and
columns are UTF-16 units, as V8 counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import tree_sitter
import tree_sitter_javascript

from .references import FUNCTIONS, Reference, bound_names, node_text, references, writes
from .source_names import EXPORT_VAR, META_VAR, SourceError
from .types import JSErrorInfo


def _blank(text: str) -> str:
    """Spaces for every character but line breaks (so no line or column moves)."""
    return re.sub(r"[^\n\r\u2028\u2029]", " ", text)


def parser() -> tree_sitter.Parser:
    """The JavaScript parser (one per process, made on first use)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))
    return _PARSER


def query(pattern: str) -> tree_sitter.Query:
    """A tree-sitter query of ``pattern`` in the JavaScript grammar (compiling one takes
    time: callers keep theirs)."""
    language = parser().language
    assert language is not None  # the parser is made with its language
    return tree_sitter.Query(language, pattern)


_PARSER: tree_sitter.Parser | None = None
#: nodes whose body is a scope of its own: an ``await`` inside is not top-level
_FUNCTIONS = FUNCTIONS | {"class_static_block", "field_definition"}
_DECLARATIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
    }
)


@dataclass
class Analysis:
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


def line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (UTF-16 units) of ``index`` in ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _refuse(text: str, node: tree_sitter.Node, message: str) -> SourceError:
    line, column = line_column(text, _span(node)[0])
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
    raw = node_text(node)
    if node.type == "string":
        name: str = (
            json.loads(raw)
            if raw.startswith('"')
            else json.loads('"' + raw[1:-1].replace('"', '\\"') + '"')
        )
        return name
    return raw


def analyse(text: str, joined: frozenset[int] = frozenset(), *, linking: bool = False) -> Analysis:
    """Read ``text``'s syntax tree; ``joined``: offsets of ``export`` tokens whose line
    break after the keyword the grammar is to read as a space (see
    :func:`isogate.runtime.source.prepare`);
    ``linking``: imports and re-exports are collected (blanked) instead of refused."""
    parsed = text
    for at in joined:
        end = at + len("export")
        stop = end
        while stop < len(parsed) and parsed[stop] in " \t\r\n\u2028\u2029":
            stop += 1
        parsed = parsed[:end] + " " * (stop - end) + parsed[stop:]
    tree = parser().parse(parsed.encode("utf-16-le", "surrogatepass"), encoding="utf16")
    mod = Analysis(text=text, edits=[], exports={}, tail=[], linking=linking)
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


def _export(mod: Analysis, stmt: tree_sitter.Node) -> None:
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
                else node_text(_field(target, "name"))
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


def _specifier(mod: Analysis, stmt: tree_sitter.Node) -> Import:
    src = _field(stmt, "source")
    line, column = line_column(mod.text, _span(stmt)[0])
    s, e = _span(stmt)
    mod.edits.append((s, e, _blank(mod.text[s:e])))
    mod.module = True
    return Import(specifier=_name(src), line=line, column=column)


def _import(mod: Analysis, stmt: tree_sitter.Node) -> None:
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


def _reexport(mod: Analysis, stmt: tree_sitter.Node) -> None:
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


def _scan(mod: Analysis, node: tree_sitter.Node, *, top: bool) -> None:
    """Find ``import.meta`` (anywhere) and ``await`` at the top level (a query, in C)."""
    global _QUERY
    if _QUERY is None:
        _QUERY = query(
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
        if not node_text(n).startswith("import"):
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
