"""Linking a module set (runtime/modules.py) into the one script ``__isogate.load`` runs.

Every ES module becomes a generator function of its own, on lines of its own, its code
at the same lines as in the upload (module_syntax.py's edits: ``import`` statements become
spaces). The load script defines them all, then *instantiates* every module the main
module reaches (each generator's first step: hoisted functions exist, ``let``/``const``
/``class`` are in their dead zone, and the step yields the module's namespace object of
live getters), then *evaluates* them (the second step runs the module's code),
dependencies first, a module already on the way skipped: import cycles work as ES
modules do. V8 compiles the whole script once, so the deploy check compiles exactly
what runs.

Bindings are live. An import whose value cannot change once its module ran (a
``const``, a function or class nothing assigns, a ``let`` only the top level assigns,
``export default <expression>``, a namespace: :class:`_Stability`) is a constant copied
when the importing module's code starts, as fast as a local; that needs every module it
imports to have run first, so a module on an import cycle copies nothing. Every read of
any other import (found by runtime/references.py) is rewritten into a read through the
exporter's namespace, ``__ig$n[3].count`` (a call as
``__ig$f(__ig$n[3].f)(…)`` through an identity function, so ``this`` stays undefined,
and like the name it replaces it starts with an identifier, so no automatic semicolon
insertion changes). That rewrite lengthens lines:
``PreparedSource.modules`` maps each line of the script back to a module's name and
line, ``PreparedSource.shifts`` each column back to the tenant's column.
"""

from __future__ import annotations

import base64
import json
import re

import STPyV8
import tree_sitter

from .module_syntax import Analysis, Import, analyse, line_column, parser, query
from .modules import Module, ModuleSet, loads, resolve
from .references import node_text
from .source import PreparedSource, compile_check, load_script, offset_of, to_js_source
from .source_names import EXPORT_VAR, LOAD_CALL, META_VAR, SourceError
from .types import JSErrorInfo

#: the array of module functions, each replaced by its namespace once it ran
NS = "__ig$n"
_REQUIRE: tree_sitter.Query | None = None


def _error(
    module: str, line: int | None, column: int | None, message: str, name: str = "SyntaxError"
) -> SourceError:
    return SourceError(
        JSErrorInfo(name=name, message=f"{message} (in {module})", line=line, column=column)
    )


def _requires(text: str) -> list[Import]:
    """``require("literal")`` calls of a CommonJS module (dependencies to run first)."""
    global _REQUIRE
    if _REQUIRE is None:
        _REQUIRE = query(
            "(call_expression function: (identifier) @f "
            "arguments: (arguments . (string) @s .)) @call",
        )
    tree = parser().parse(text.encode("utf-16-le", "surrogatepass"), encoding="utf16")
    out = []
    for _, caps in tree_sitter.QueryCursor(_REQUIRE).matches(tree.root_node):
        if node_text(caps["f"][0]) != "require":  # (#eq? reads UTF-8)
            continue
        s = caps["s"][0]
        raw = node_text(s)
        line, column = line_column(text, s.start_byte // 2)
        out.append(
            Import(
                specifier=json.loads(raw) if raw.startswith('"') else raw[1:-1],
                line=line,
                column=column,
            )
        )
    return out


def link(stored: str, engine: STPyV8.JSEngine) -> PreparedSource:
    """The load script of the module set stored as ``stored``; raises SourceError
    naming the module, line and column of what does not link or compile."""
    mset = loads(stored)
    joined: dict[str, frozenset[int]] = {}
    for _ in range(20):
        prepared, texts, missing = _link(mset, joined)
        info = compile_check(engine, load_script(prepared, ""))
        if info is None:
            if missing is not None:
                raise missing
            return prepared
        name, line, column = prepared.where(info.line, info.column)
        text = texts.get(name)
        if info.message == "Unexpected token 'export'" and text and line and column:
            at = offset_of(text, line, column - 1)
            if text.startswith("export", at) and at not in joined.get(name, frozenset()):
                joined[name] = joined.get(name, frozenset()) | {at}
                continue
        raise _error(name, line, column, info.message, info.name)
    raise _error(mset.main, None, None, "too many export statements split across lines")


def _link(
    mset: ModuleSet, joined: dict[str, frozenset[int]]
) -> tuple[PreparedSource, dict[str, str], SourceError | None]:
    index = {m.name: i for i, m in enumerate(mset.modules)}
    analysed: dict[str, Analysis] = {}
    texts: dict[str, str] = {}
    deps: dict[str, list[tuple[Import, str]]] = {}
    for m in mset.modules:
        if m.type not in ("esm", "commonjs"):
            deps[m.name] = []
            continue
        text = to_js_source(m.content)  # type: ignore[arg-type]
        texts[m.name] = text
        if m.type == "esm":
            try:
                mod = analyse(text, joined.get(m.name, frozenset()), linking=True)
            except SourceError as exc:
                e = exc.info
                raise _error(m.name, e.line, e.column, e.message, e.name) from None
            analysed[m.name] = mod
            imports = mod.imports
        else:
            imports = _requires(text)
        found = []
        for imp in imports:
            target = resolve(m.name, imp.specifier)
            if target not in index:
                raise _error(
                    m.name, imp.line, imp.column, f"no module {imp.specifier!r} in the upload"
                )
            found.append((imp, target))
        deps[m.name] = found
    order = _order(mset.main, deps)
    missing = _exports(mset, index, analysed, deps, order)
    cyclic = _cyclic(order, deps)
    stable = _Stability(mset, analysed, deps)
    tla = any(m.top_level_await for m in analysed.values())
    aw = "await " if tla else ""
    head = (
        f"{LOAD_CALL}({'async ' if tla else ''}function(){{var {NS}=[],__ig$a=atob,"
        # captured before any module runs: what the loader relies on stays the engine's
        "__ig$x=Reflect.apply,__ig$dp=Object.defineProperty,__ig$sl=Object.seal,"
        "__ig$gn=Object.getPrototypeOf(function*(){}).prototype.next,"
        + ("__ig$an=Object.getPrototypeOf(async function*(){}).prototype.next," if tla else "")
        + "__ig$m=function(o){__ig$dp(o,Symbol.toStringTag,{value:'Module'});return __ig$sl(o)},"
        # `export default <expression>` is in its dead zone until that statement ran
        "__ig$u={},__ig$re=ReferenceError,__ig$te=TypeError,"
        # the callee of a call of an import: the function, or one that throws V8's
        # TypeError naming the import (after the arguments ran, as V8 throws)
        "__ig$f=function(f,n){return typeof f==='function'?f:function(){"
        "throw new __ig$te(n+' is not a function')}},"
        "__ig$o=function(f,n){return f==null?f:__ig$f(f,n)};"
    )
    lines = [head]
    table = []
    shifts: list[tuple[int, int, int, int]] = []
    at = 2  # the line of the script the next module starts on
    for i, m in enumerate(mset.modules):
        fn = f"{NS}[{i}]=function(){{"
        if m.name in analysed:
            mod = analysed[m.name]
            every = _bindings(deps[m.name], index)
            # An import whose value cannot change once this module runs is a constant
            # copied when its code starts (as fast as a local); the others are read
            # live, through the namespace at every use. Copies need every module this
            # one imports to have run before it, which a module in a cycle cannot know.
            copied = (
                {}
                if m.name in cyclic
                else {
                    local: expr
                    for imp, target in deps[m.name]
                    for local, imported in imp.bindings
                    if (expr := every[local]) and stable(target, imported)
                }
            )
            live = {k: v for k, v in every.items() if k not in copied}
            body, moved = _rewrite(texts[m.name], mod, live)
            url = json.dumps("file:///" + m.name)
            getters = ",".join(
                f"get {json.dumps(n)}(){{{_read(every.get(mod.exports[n], mod.exports[n]))}}}"
                for n in sorted(mod.exports, key=_code_units)
            )
            # A generator: its first step (to the `yield`) is the module's instantiation
            # (hoisted functions, the namespace object; bindings in their dead zone); the
            # second runs its code. Every import is a constant: a live one is never read
            # (its reads are rewritten), a copied one is set when the code starts; so V8
            # refuses a redeclaration or an assignment of an import, as for a module.
            consts = ",".join(f"{local}=void 0" for local in live)
            copies = ",".join(f"{local}={expr}" for local, expr in copied.items())
            prefix = (
                f'{NS}[{i}]={"async " if mod.top_level_await else ""}function*(){{"use strict";'
                f"var {EXPORT_VAR}=__ig$u,{META_VAR}={{url:{url}}};"
                + (f"const {consts};" if consts else "")
                + f"yield[__ig$m({{__proto__:null,{getters}}})];"
                + (f"const {copies};" if copies else "")
            )
            tail = "\n;};"
            shifts += [
                (at + line - 1, col + (len(prefix) if line == 1 else 0), n, o)
                for line, col, n, o in moved
            ]
        elif m.type == "commonjs":
            # specifier -> [module, is an ES module]: require() gives an ES module's
            # namespace, any other module's default (CommonJS: its module.exports)
            req = {
                imp.specifier: [index[t], mset.modules[index[t]].type == "esm"]
                for imp, t in deps[m.name]
            }
            prefix = (
                f"{NS}[{i}]=function(__ig$ns){{var module={{exports:{{}}}},exports=module.exports,"
                f"require=function(s){{var r={json.dumps(req)}[s];"
                "if(r===undefined)throw new Error('Cannot find module '+s);"
                f"var n={NS}[r[0]];return r[1]?n:n.default}};"
            )
            body = texts[m.name]
            # its namespace (made before it ran) gets module.exports' keys and default
            tail = (
                "\n;var __ig$e=module.exports;if(__ig$e!==null&&typeof __ig$e==='object')"
                "for(var __ig$k in __ig$e)__ig$ns[__ig$k]=__ig$e[__ig$k];"
                "__ig$ns.default=__ig$e;__ig$m(__ig$ns)};"
            )
        else:
            prefix, body, tail = fn, "", f"return __ig$m({{__proto__:null,default:{_value(m)}}})}};"
        table.append((m.name, at, len(prefix), body.count("\n") + 1))
        lines.append(prefix + body + tail)
        at += lines[-1].count("\n") + 1
    # instantiate every module the main module reaches, then run them, dependencies first
    steps = ["var __ig$g=[];"]
    for n in order:
        i = index[n]
        kind = mset.modules[i].type
        if n in analysed:
            nxt = "__ig$an" if analysed[n].top_level_await else "__ig$gn"
            steps.append(
                f"__ig$g[{i}]=(0,{NS}[{i}])();{NS}[{i}]=({aw}__ig$x({nxt},__ig$g[{i}],[])).value[0];"
            )
        elif kind == "commonjs":
            steps.append(f"__ig$g[{i}]={NS}[{i}];{NS}[{i}]={{__proto__:null}};")
        else:
            steps.append(f"{NS}[{i}]=(0,{NS}[{i}])();")
    for n in order:
        i = index[n]
        if n in analysed:
            nxt = "__ig$an" if analysed[n].top_level_await else "__ig$gn"
            steps.append(f"{aw}__ig$x({nxt},__ig$g[{i}],[]);")
        elif mset.modules[i].type == "commonjs":
            steps.append(f"(0,__ig$g[{i}])({NS}[{i}]);")
    lines.append(f"{''.join(steps)}return {NS}[{index[mset.main]}]}})")
    script = "\n".join(lines)[len(LOAD_CALL) :]
    prepared = PreparedSource(
        script=script,
        module=True,
        offset=len(head),
        lines=script.count("\n") + 1,
        top_level_await=tla,
        modules=tuple(table),
        shifts=tuple(sorted(shifts)),
    )
    return prepared, texts, missing


def _exports(
    mset: ModuleSet,
    index: dict[str, int],
    analysed: dict[str, Analysis],
    deps: dict[str, list[tuple[Import, str]]],
    order: list[str],
) -> SourceError | None:
    """Complete every ``mod.exports`` with its re-exports (also ``export *`` through a
    cycle); return the first import of a name its ES module does
    not export (V8's own check at link; reported after V8 compiled the script, which
    may first need the tree read again: ``export`` before a line break)."""
    for name in order:
        mod = analysed.get(name)
        if mod is None:
            continue
        for imp, target in deps[name]:
            j = index[target]
            for exported, imported in imp.reexports:
                mod.exports[exported] = f"{NS}[{j}]" if imported == "*" else _member(j, imported)
    names: dict[str, list[str]] = {}
    changed = True
    while changed:  # to a fixpoint: a cycle of `export *` sees names of modules after it
        changed = False
        for name in order:
            mod = analysed.get(name)
            if mod is None:
                names[name] = ["default"]
                continue
            for imp, target in deps[name]:
                if not imp.star:
                    continue
                for n in names.get(target, []):
                    if n != "default" and n not in mod.exports:
                        mod.exports[n] = _member(index[target], n)
                        changed = True
            names[name] = list(mod.exports)
    for name in order:
        for imp, target in deps[name] if name in analysed else ():
            if mset.modules[index[target]].type != "esm":
                continue
            wanted = [i for _, i in imp.bindings] + [i for _, i in imp.reexports]
            for imported in wanted:
                if imported != "*" and imported not in names[target]:
                    return _error(
                        name,
                        imp.line,
                        imp.column,
                        f"The requested module {imp.specifier!r} does not provide an export "
                        f"named {imported!r}",
                    )
    return None


def _cyclic(order: list[str], deps: dict[str, list[tuple[Import, str]]]) -> set[str]:
    """The modules on an import cycle (a module importing itself too)."""

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        todo = [t for _, t in deps.get(start, [])]
        while todo:
            n = todo.pop()
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                todo += [t for _, t in deps.get(n, [])]
        return False

    return {n for n in order if reaches(n, n)}


class _Stability:
    """Whether an export keeps one value once its module ran: a ``const``, a function or
    class never assigned, ``export default <expression>``, a ``let``/``var`` no code
    assigns after its declaration (runtime/references.py ``writes``), a namespace, a
    re-export of such a binding, or anything of a CommonJS, text, data, JSON or
    WebAssembly module (its namespace is filled once, when it ran)."""

    def __init__(
        self,
        mset: ModuleSet,
        analysed: dict[str, Analysis],
        deps: dict[str, list[tuple[Import, str]]],
    ) -> None:
        self._mset = mset
        self._analysed = analysed
        #: (module, exported name) -> (module, name) it comes from (``*``: namespace)
        self._origin: dict[tuple[str, str], tuple[str, str]] = {}
        for name, mod in analysed.items():
            bound = {}
            for imp, target in deps[name]:
                for exported, imported in imp.reexports:
                    self._origin[(name, exported)] = (target, imported)
                for local, imported in imp.bindings:
                    bound[local] = (target, imported)
                if imp.star:
                    for n in list(mod.exports):
                        if mod.exports[n] == _member(_index(mset, target), n):
                            self._origin.setdefault((name, n), (target, n))
            for exported, expr in mod.exports.items():
                if expr in bound:  # `export { x }` of an imported x
                    self._origin[(name, exported)] = bound[expr]

    def __call__(self, module: str, name: str, depth: int = 0) -> bool:
        if name == "*" or module not in self._analysed:
            return True
        if depth > 50:  # a chain of re-exports this long: read it live
            return False
        origin = self._origin.get((module, name))
        if origin is not None:
            return self(*origin, depth + 1)
        mod = self._analysed[module]
        expr = mod.exports.get(name)
        if expr is None:
            return False
        return expr == EXPORT_VAR or expr not in mod.written


def _index(mset: ModuleSet, name: str) -> int:
    return next(i for i, m in enumerate(mset.modules) if m.name == name)


_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.ASCII)


def _member(j: int, name: str) -> str:
    """The expression that reads export ``name`` of module ``j`` (through its namespace)."""
    if _IDENTIFIER.fullmatch(name):
        return f"{NS}[{j}].{name}"
    return f"{NS}[{j}][{json.dumps(name)}]"


def _read(expr: str) -> str:
    """A namespace getter's body: ``expr``; the default export's variable throws as
    V8 does for a binding in its dead zone until the export statement ran."""
    if expr != EXPORT_VAR:
        return f"return {expr}"
    return (
        f"if({expr}===__ig$u)throw new __ig$re(\"Cannot access 'default' before "
        f'initialization");return {expr}'
    )


def _code_units(name: str) -> bytes:
    """A namespace lists its exports in UTF-16 code unit order."""
    return name.encode("utf-16-be", "surrogatepass")


def _bindings(found: list[tuple[Import, str]], index: dict[str, int]) -> dict[str, str]:
    """Local name of each import -> the expression that reads it, live."""
    out: dict[str, str] = {}
    for imp, target in found:
        j = index[target]
        for local, imported in imp.bindings:
            out[local] = f"{NS}[{j}]" if imported == "*" else _member(j, imported)
    return out


def _rewrite(
    text: str, mod: Analysis, live: dict[str, str]
) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The module's code as linked: ``mod.edits`` and every read of an import through
    its namespace; also the edits that changed a line's length, as (line, column in the
    result, length in the result, length in ``text``), 1-based."""
    edits = list(mod.edits)
    for ref in mod.references:
        expr = live.get(ref.name)
        if expr is None:  # a copied import: read as it is
            continue
        if ref.kind == "call":
            # called with `this` undefined, as an import is; not `(0,f)`: a line starting
            # with `(` would continue the line before it (no automatic semicolon)
            expr = f"__ig$f({expr},{json.dumps(ref.name)})"
        elif ref.kind == "optional-call":  # `f?.()`: undefined or null stays so
            expr = f"__ig$o({expr},{json.dumps(ref.name)})"
        elif ref.kind == "shorthand":
            expr = f"{ref.name}:{expr}"
        edits.append((ref.start, ref.end, expr))
    out: list[str] = []
    moved: list[tuple[int, int, int, int]] = []
    at = 0
    length = 0  # of the result so far
    line, line_start = 1, 0  # in the result
    for s, e, r in sorted(edits):
        piece = text[at:s]
        out.append(piece)
        breaks = piece.count("\n")
        if breaks:
            line += breaks
            line_start = length + piece.rindex("\n") + 1
        length += len(piece)
        if len(r) != e - s:
            moved.append((line, length - line_start + 1, len(r), e - s))
        out.append(r)
        breaks = r.count("\n")
        if breaks:
            line += breaks
            line_start = length + r.rindex("\n") + 1
        length += len(r)
        at = e
    out.append(text[at:])
    return "".join(out), moved


def _value(m: Module) -> str:
    """The default export of a text, data, JSON or WebAssembly module."""
    content = m.content  # text and JSON modules are held as text, data and wasm as bytes
    if m.type == "text":
        assert isinstance(content, str)
        return json.dumps(to_js_source(content))
    if m.type == "json":
        assert isinstance(content, str)
        try:
            json.loads(content)
        except ValueError as exc:
            raise _error(m.name, None, None, f"invalid JSON: {exc}") from None
        return f"JSON.parse({json.dumps(to_js_source(content))})"
    assert isinstance(content, bytes)
    b64 = json.dumps(base64.b64encode(content).decode("ascii"))
    data = (
        "(function(s){var u=new Uint8Array(s.length);"
        "for(var i=0;i<s.length;i++)u[i]=s.charCodeAt(i);return u.buffer})"
        f"(__ig$a({b64}))"
    )
    if m.type == "wasm":
        return f"new WebAssembly.Module({data})"
    return data


def _order(main: str, deps: dict[str, list[tuple[Import, str]]]) -> list[str]:
    """Modules the main module reaches in the order they run: dependencies first, a
    module already on the way (an import cycle) skipped, as ES modules evaluate."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for _, target in deps.get(name, []):
            if target not in seen:
                visit(target)
        done.append(name)

    visit(main)
    return done
