"""Linking module sets (isogate.runtime.linker): every import and export form between
modules, CommonJS/text/data/JSON/WebAssembly modules, and errors (unknown imports,
cycles, syntax) naming the module and its own line and column."""

from __future__ import annotations

import json

import pytest

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import Runtime
from isogate.runtime.modules import Module, ModuleSet, dumps

from .test_prelude import GET, invoke

ANSWER = "export default { fetch() { return Response.json(out) } };\n"
#: (module add(a, b) = a + b), the classic smallest WebAssembly module with an export
WASM = bytes.fromhex(
    "0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b"
)


def run(main: str, *others: Module) -> object:
    mset = ModuleSet("index.js", (Module("index.js", "esm", main + ANSWER), *others))
    (res,) = invoke(dumps(mset), GET())
    assert res["outcome"] == "ok", res
    return json.loads(res["body"])


def esm(name: str, text: str) -> Module:
    return Module(name, "esm", text)


LIB = esm(
    "lib/util.js",
    "export let count = 0;\nexport function bump() { count++ }\n"
    "export const a = 1, b = 2;\nexport default 'dflt';\n",
)


def test_default_named_aliased_and_namespace_imports() -> None:
    got = run(
        'import d, { a, b as bee } from "./lib/util.js";\n'
        'import * as ns from "./lib/util.js";\n'
        'import e, * as ns2 from "./lib/util.js";\n'
        "ns.bump();\nconst out = [d, a, bee, ns.count, e, ns2.b, Object.keys(ns).sort()];\n",
        LIB,
    )
    assert got == ["dflt", 1, 2, 1, "dflt", 2, ["a", "b", "bump", "count", "default"]]


def test_side_effect_import_runs_dependencies_first_once() -> None:
    got = run(
        'import "./lib/a.js";\nimport "./lib/b.js";\nconst out = globalThis.log;\n',
        esm("lib/a.js", 'import "./b.js";\n(globalThis.log ??= []).push("a");\n'),
        esm("lib/b.js", '(globalThis.log ??= []).push("b");\n'),
    )
    assert got == ["b", "a"]


def test_reexports() -> None:
    got = run(
        'import { x, y, z, ns, a } from "./mid.js";\nconst out = [x, y, z, ns.b, a];\n',
        esm(
            "mid.js",
            'export { a as x, b as y } from "./lib/util.js";\n'
            'export * from "./lib/util.js";\n'
            'export * as ns from "./lib/util.js";\nexport const z = 3;\n',
        ),
        LIB,
    )
    assert got == [1, 2, 3, 2, 1]


def test_specifiers_relative_parent_and_module_names() -> None:
    got = run(
        'import { v } from "./a/b/c.js";\nconst out = v;\n',
        esm("a/b/c.js", 'import { w } from "../d.js";\nexport const v = w + 1;\n'),
        esm("a/d.js", 'import u from "top.js";\nexport const w = u + 1;\n'),
        esm("top.js", "export default 1;\n"),
    )
    assert got == 3


def test_commonjs_text_data_json_and_wasm_modules() -> None:
    got = run(
        'import c, { k } from "./c.js";\nimport t from "./t.txt";\nimport d from "./d.bin";\n'
        'import j from "./j.json";\nimport w from "./add.wasm";\n'
        "const add = new WebAssembly.Instance(w).exports.add;\n"
        "const out = [c.k, k, c.esm, encodeURI(c.txt), encodeURI(t), [...new Uint8Array(d)], j, add(2, 3),"
        " w instanceof WebAssembly.Module];\n",
        Module(
            "c.js",
            "commonjs",
            'const lib = require("./lib/util.js");\nexports.k = 7;\n'
            'exports.esm = lib.a;\nexports.txt = require("./t.txt");\n',
        ),
        LIB,
        Module("t.txt", "text", "héllo 😀"),
        Module("d.bin", "data", bytes([0, 128, 255])),
        Module("j.json", "json", '{"a": [1, null]}'),
        Module("add.wasm", "wasm", WASM),
    )
    assert got == [
        7,
        7,
        1,
        "h%C3%A9llo%20%F0%9F%98%80",
        "h%C3%A9llo%20%F0%9F%98%80",
        [0, 128, 255],
        {"a": [1, None]},
        5,
        True,
    ]


def test_top_level_await_in_a_dependency() -> None:
    got = run(
        'import { v } from "./slow.js";\nconst out = v;\n',
        esm("slow.js", "export const v = await Promise.resolve(5);\n"),
    )
    assert got == 5


def test_only_modules_the_main_module_reaches_run() -> None:
    got = run(
        "const out = globalThis.ran ?? 'no';\n",
        esm("unused.js", "globalThis.ran = 'yes';\n"),
    )
    assert got == "no"


@pytest.fixture
async def checker():
    rt = Runtime(RuntimeSettings(workers=1, validation_processes=1))
    try:
        yield rt
    finally:
        await rt.close()


MAIN = esm("index.js", 'import a from "./a.js";\nexport default { fetch() { return a } };\n')


async def test_errors_name_the_module_line_and_column(checker: Runtime) -> None:
    cases = {
        # an import of a module not in the upload: at the import statement
        "unknown": (
            [MAIN, esm("a.js", 'let q;\n  import x from "./b.js";\nexport default x;')],
            ("SyntaxError", 2, 3, "no module './b.js' in the upload (in a.js)"),
        ),
        "require unknown": (
            [
                MAIN,
                esm("a.js", 'import c from "./c.js";\nexport default c;'),
                Module("c.js", "commonjs", 'module.exports =\n    require("./nope");'),
            ],
            ("SyntaxError", 2, 13, "no module './nope' in the upload (in c.js)"),
        ),
        "a name missing in a cycle": (
            [
                MAIN,
                esm("a.js", 'import b from "./b.js";\nexport default b;'),
                esm("b.js", 'const z = 1;\nexport { a } from "./a.js";'),
            ],
            (
                "SyntaxError",
                2,
                1,
                "The requested module './a.js' does not provide an export named 'a' (in b.js)",
            ),
        ),
        "yield at the top level": (
            [MAIN, esm("a.js", "export default 1;\n  yield 2;")],
            ("SyntaxError", 2, 3, "Unexpected strict mode reserved word (in a.js)"),
        ),
        "return at the top level": (
            [MAIN, esm("a.js", "export default 1;\nif (1) return;")],
            ("SyntaxError", 2, 8, "Illegal return statement (in a.js)"),
        ),
        "an assignment to an import": (
            [
                MAIN,
                esm("a.js", 'import { q } from "./b.js";\nexport default 1;\n  q = 2;'),
                esm("b.js", "export let q = 1;"),
            ],
            ("TypeError", 3, 5, "Assignment to constant variable. (in a.js)"),
        ),
        "a var redeclaring an import in a block": (
            [
                MAIN,
                esm("a.js", 'import { q } from "./b.js";\nexport default 1;\n{ var q; }'),
                esm("b.js", "export let q = 1;"),
            ],
            ("SyntaxError", 3, 7, "Identifier 'q' has already been declared (in a.js)"),
        ),
        "delete of an import": (
            [
                MAIN,
                esm("a.js", 'import { q } from "./b.js";\nexport default 1;\ndelete q;'),
                esm("b.js", "export let q = 1;"),
            ],
            ("SyntaxError", 3, 8, "Delete of an unqualified identifier in strict mode. (in a.js)"),
        ),
        "syntax error": (
            [MAIN, esm("a.js", "export default 1;\nlet x = = 2;")],
            ("SyntaxError", 2, 9, "Unexpected token '=' (in a.js)"),
        ),
        "strict mode in a module": (
            [MAIN, esm("a.js", "export default 1;\nconst o = 010;")],
            ("SyntaxError", 2, 11, None),
        ),
        "top level throws": (
            [MAIN, esm("a.js", "export default 1;\n  null.x;")],
            ("TypeError", 2, 8, None),
        ),
        "an import and a declaration of one name": (
            [
                MAIN,
                esm("a.js", 'import { q } from "./b.js";\nlet q = 2;\nexport default q;'),
                esm("b.js", "export const q = 1;"),
            ],
            ("SyntaxError", 2, 5, "Identifier 'q' has already been declared (in a.js)"),
        ),
        "bad json": (
            [
                MAIN,
                esm("a.js", 'import j from "./j.json";\nexport default j;'),
                Module("j.json", "json", "{"),
            ],
            ("SyntaxError", None, None, None),
        ),
        "an import the module does not export": (
            [MAIN, esm("a.js", "export const a = 1;")],
            (
                "SyntaxError",
                1,
                1,
                "The requested module './a.js' does not provide an export named 'default' "
                "(in index.js)",
            ),
        ),
        "a re-export the module does not export": (
            [
                MAIN,
                esm("a.js", 'export default 1;\nexport { q } from "./b.js";'),
                esm("b.js", "export const r = 1;"),
            ],
            ("SyntaxError", 2, 1, None),
        ),
    }
    for label, (mods, (name, line, column, message)) in cases.items():
        v = await checker.validate(dumps(ModuleSet("index.js", tuple(mods))))
        assert not v.ok and v.error is not None, label
        got = (v.error.name, v.error.line, v.error.column)
        assert got == (name, line, column), (label, v.error)
        if message is not None:
            assert v.error.message == message, (label, v.error)


async def test_a_top_level_failure_names_the_module(checker: Runtime) -> None:
    mset = ModuleSet(
        "index.js",
        (
            esm("index.js", 'import { f } from "./lib/f.js";\nf();\nexport default {};\n'),
            esm("lib/f.js", "export function f() {\n  return null.y;\n}\n"),
        ),
    )
    v = await checker.validate(dumps(mset))
    assert not v.ok and v.error is not None
    assert (v.error.name, v.error.line, v.error.column) == ("TypeError", 2, 15)
    assert v.error.message == "Cannot read properties of null (reading 'y') (in lib/f.js)"


def test_export_across_lines_in_a_dependency() -> None:
    # tree-sitter reads `export` before a line break as a name; V8's word decides
    got = run(
        'import d from "./a.js";\nconst out = d;\n',
        esm("a.js", "const x = 1;\nexport\n  default\n  x + 1;\n"),
    )
    assert got == 2


def test_named_imports_are_live_bindings() -> None:
    got = run(
        'import { count, bump, thisOf } from "./lib/util.js";\n'
        'import { count as again } from "./lib/again.js";\n'
        "const before = count;\nbump(); bump();\n"
        "function shadow(count) { return count }\n"
        "const out = [before, count, again, { count }, shadow('own'), thisOf(), typeof count];\n",
        esm(
            "lib/util.js",
            "export let count = 0;\nexport function bump() { count++ }\n"
            "export function thisOf() { return String(this) }\n",
        ),
        esm("lib/again.js", 'import { count } from "./util.js";\nexport { count };\n'),
    )
    assert got == [0, 2, 2, {"count": 2}, "own", "undefined", "number"]


def test_import_cycles_evaluate_as_es_modules_do() -> None:
    got = run(
        'import { ping, log } from "./a.js";\nimport * as self from "./index.js";\n'
        "log.push('index');\n"
        "const out = [log, ping(3), Object.keys(self)];\n",
        esm(
            "a.js",
            'import { pong, early } from "./b.js";\nexport const log = [];\n'
            "log.push('a', early);\nexport function ping(n) { return n ? pong(n - 1) : 'a' }\n",
        ),
        esm(
            "b.js",
            'import { ping, log } from "./a.js";\n'
            "export function pong(n) { return n ? ping(n - 1) : 'b' }\n"
            "let e;\ntry { log.push('b') } catch (err) { e = err.message }\n"
            "export const early = [e, typeof ping, ping(0)];\n",
        ),
    )
    assert got == [
        ["a", ["Cannot access 'log' before initialization", "function", "a"], "index"],
        "b",
        ["default"],
    ]


async def test_positions_stay_the_tenants_after_imports_are_rewritten(checker: Runtime) -> None:
    cases = {
        # a throw after two rewritten reads on its line: the column is the source's
        "after rewrites": (
            'import { v, f } from "./lib.js";\nconst x = v + f(v) + null.y;\nexport default {};\n',
            # v is assigned by f: read live, through its namespace (the line is rewritten)
            esm("lib.js", "export let v = 1;\nexport function f(a) { v = a; return a }\n"),
            ("TypeError", 2, 27),
        ),
        # the dead zone of an import in a cycle: at the read of the imported name
        "at the import": (
            'import "./lib.js";\nexport default {};\nexport let late = 1;\n',
            esm("lib.js", 'import { late } from "./index.js";\nconst y = [1,  late];\n'),
            ("ReferenceError", 2, 16),
        ),
    }
    for label, (main, other, want) in cases.items():
        mset = ModuleSet("index.js", (esm("index.js", main), other))
        v = await checker.validate(dumps(mset))
        assert not v.ok and v.error is not None, label
        assert (v.error.name, v.error.line, v.error.column) == want, (label, v.error)


def test_imports_that_cannot_change_are_copied_the_others_read_live() -> None:
    from isogate.runtime.linker import _link  # the script before V8 compiles it

    lib = esm(
        "lib.js",
        "export let n = 0;\nexport function bump() { n++ }\nexport const k = 1;\n"
        "export let once;\nonce = 2;\nexport default class {}\n",
    )
    mset = ModuleSet(
        "index.js",
        (
            esm(
                "index.js",
                'import C, { n, bump, k, once } from "./lib.js";\n'
                "export default { fetch() { return [n, bump, k, once, C] } };\n",
            ),
            lib,
        ),
    )
    prepared = _link(mset, {})[0]
    main = prepared.script.split("\n")[1]
    # a const, a function never assigned, a let assigned only at the top level and a
    # default class keep their value once lib.js ran: copied when index.js starts
    assert (
        "const C=__ig$n[1].default,bump=__ig$n[1].bump,k=__ig$n[1].k,once=__ig$n[1].once;" in main
    )
    # n changes whenever bump() runs: every read goes through the namespace
    assert "const n=void 0;" in main
    assert prepared.shifts and "[__ig$n[1].n, bump, k, once, C]" in prepared.script
    # a module on a cycle copies nothing: what it imports may not have run yet
    cyc = ModuleSet(
        "index.js",
        (
            esm(
                "index.js",
                'import { k } from "./lib.js";\nexport const j = 1;\nexport default { fetch() { return k } };\n',
            ),
            esm("lib.js", 'import { j } from "./index.js";\nexport const k = () => j;\n'),
        ),
    )
    prepared = _link(cyc, {})[0]
    assert "const k=void 0;" in prepared.script and "const j=void 0;" in prepared.script
