"""Linking a module set (runtime/modules.py) into the one script ``__isogate.load`` runs.

Every module becomes a function of its own, on lines of its own, its code at the same
line and column as in the upload (source.py's edits: ``import`` statements become
spaces, their bindings are declared on the module's first line before its code). The
load script defines them all, then calls those the main module reaches, dependencies
first, each replaced by its namespace; V8 compiles the whole script once, so the deploy
check compiles exactly what runs. ``PreparedSource.modules`` maps every position of
the script back to a module's name, line and column.

Bindings: a named or default import is read when the importing module starts, after
its dependencies ran (cycles are refused at deploy); ``import * as ns`` and re-exports
read the exporter's live bindings.
"""

from __future__ import annotations

import base64
import json

import STPyV8
import tree_sitter

from .modules import Module, ModuleSet, loads, resolve
from .source import (
    EXPORT_VAR,
    LOAD_CALL,
    META_VAR,
    Import,
    PreparedSource,
    SourceError,
    _analyse,
    _apply,
    _compile,
    _Module,
    _offset,
    _parser,
    _text,
    _where,
    load_script,
    to_js_source,
)
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
        language = _parser().language
        assert language is not None  # the parser is made with its language
        _REQUIRE = tree_sitter.Query(
            language,
            "(call_expression function: (identifier) @f "
            "arguments: (arguments . (string) @s .)) @call",
        )
    tree = _parser().parse(text.encode("utf-16-le", "surrogatepass"), encoding="utf16")
    out = []
    for _, caps in tree_sitter.QueryCursor(_REQUIRE).matches(tree.root_node):
        if _text(caps["f"][0]) != "require":  # (#eq? reads UTF-8)
            continue
        s = caps["s"][0]
        raw = _text(s)
        line, column = _where(text, s.start_byte // 2)
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
        info = _compile(engine, load_script(prepared, ""))
        if info is None:
            if missing is not None:
                raise missing
            return prepared
        name, line, column = prepared.where(info.line, info.column)
        text = texts.get(name)
        if info.message == "Unexpected token 'export'" and text and line and column:
            at = _offset(text, line, column - 1)
            if text.startswith("export", at) and at not in joined.get(name, frozenset()):
                joined[name] = joined.get(name, frozenset()) | {at}
                continue
        raise _error(name, line, column, info.message, info.name)
    raise _error(mset.main, None, None, "too many export statements split across lines")


def _link(
    mset: ModuleSet, joined: dict[str, frozenset[int]]
) -> tuple[PreparedSource, dict[str, str], SourceError | None]:
    index = {m.name: i for i, m in enumerate(mset.modules)}
    analysed: dict[str, _Module] = {}
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
                mod = _analyse(text, joined.get(m.name, frozenset()), linking=True)
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
    # exported names, dependencies first (for `export *`)
    names: dict[str, list[str]] = {}
    missing: SourceError | None = None
    for name in order:
        if name not in analysed:
            names[name] = ["default"]
            continue
        mod = analysed[name]
        for imp, target in deps[name]:
            j = index[target]
            for exported, imported in imp.reexports:
                mod.exports[exported] = (
                    f"{NS}[{j}]" if imported == "*" else f"{NS}[{j}][{json.dumps(imported)}]"
                )
            if imp.star:
                for n in names.get(target, []):
                    if n != "default" and n not in mod.exports:
                        mod.exports[n] = f"{NS}[{j}][{json.dumps(n)}]"
        names[name] = list(mod.exports)
        # what an ES module imports by name must be exported (V8's own check at
        # link); reported after V8 compiled the script, which may first need the
        # tree read again (`export` before a line break)
        for imp, target in deps[name]:
            if mset.modules[index[target]].type != "esm" or missing is not None:
                continue
            wanted = [i for _, i in imp.bindings] + [i for _, i in imp.reexports]
            for imported in wanted:
                if imported != "*" and imported not in names[target]:
                    missing = _error(
                        name,
                        imp.line,
                        imp.column,
                        f"The requested module {imp.specifier!r} does not provide an export "
                        f"named {imported!r}",
                    )
                    break
    tla = any(m.top_level_await for m in analysed.values())
    head = f"{LOAD_CALL}({'async ' if tla else ''}function(){{var {NS}=[],__ig$a=atob;"
    lines = [head]
    table = []
    at = 2  # the line of the script the next module starts on
    for i, m in enumerate(mset.modules):
        fn = f"{NS}[{i}]=function(){{"
        if m.name in analysed:
            mod = analysed[m.name]
            body = _apply(texts[m.name], mod.edits)
            binds = []
            for imp, target in deps[m.name]:
                j = index[target]
                for local, imported in imp.bindings:
                    binds.append(
                        f"{local}={NS}[{j}]"
                        if imported == "*"
                        else f"{local}={NS}[{j}][{json.dumps(imported)}]"
                    )
            url = json.dumps("file:///" + m.name)
            prefix = (
                f'{NS}[{i}]={"async " if mod.top_level_await else ""}function(){{"use strict";'
                f"var {EXPORT_VAR},{META_VAR}={{url:{url}}};"
                + (f"const {','.join(binds)};" if binds else "")
            )
            getters = ",".join(
                f"get {json.dumps(n)}(){{return {expr}}}" for n, expr in mod.exports.items()
            )
            tail = f"\n;return{{__proto__:null,{getters}}}}};"
        elif m.type == "commonjs":
            # specifier -> [module, is an ES module]: require() gives an ES module's
            # namespace, any other module's default (CommonJS: its module.exports)
            req = {
                imp.specifier: [index[t], mset.modules[index[t]].type == "esm"]
                for imp, t in deps[m.name]
            }
            prefix = (
                f"{fn}var module={{exports:{{}}}},exports=module.exports,require=function(s){{"
                f"var r={json.dumps(req)}[s];"
                "if(r===undefined)throw new Error('Cannot find module '+s);"
                f"var n={NS}[r[0]];return r[1]?n:n.default}};"
            )
            body = texts[m.name]
            tail = (
                "\n;var e=module.exports,n={__proto__:null};"
                "if(e!==null&&typeof e==='object')for(var k in e)n[k]=e[k];"
                "n.default=e;return n};"
            )
        else:
            prefix, body, tail = fn, "", f"return{{__proto__:null,default:{_value(m)}}}}};"
        table.append((m.name, at, len(prefix), body.count("\n") + 1))
        lines.append(prefix + body + tail)
        at += lines[-1].count("\n") + 1
    calls = "".join(f"{NS}[{index[n]}]={'await ' if tla else ''}{NS}[{index[n]}]();" for n in order)
    lines.append(f"{calls}return {NS}[{index[mset.main]}]}})")
    script = "\n".join(lines)[len(LOAD_CALL) :]
    prepared = PreparedSource(
        script=script,
        module=True,
        offset=len(head),
        lines=script.count("\n") + 1,
        top_level_await=tla,
        modules=tuple(table),
    )
    return prepared, texts, missing


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
    """Modules the main module reaches, dependencies first; a cycle is an error at
    the import that closes it."""
    done: list[str] = []
    state: dict[str, int] = {}  # 1: in progress, 2: done

    def visit(name: str) -> None:
        state[name] = 1
        for imp, target in deps.get(name, []):
            if state.get(target) == 1:
                raise _error(
                    name,
                    imp.line,
                    imp.column,
                    f"import cycle: {imp.specifier!r} leads back to {name!r}"
                    if target != name
                    else "a module cannot import itself",
                )
            if target not in state:
                visit(target)
        state[name] = 2
        done.append(name)

    visit(main)
    return done
