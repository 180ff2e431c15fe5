"""Module forms (isogate.runtime.source): every way a bundler or a person writes a
Worker's exports loads and answers, and errors point into the tenant's own code."""

from __future__ import annotations

import pytest

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import Runtime

from .test_prelude import GET, invoke

HANDLER = "{ fetch(req) { return new Response('ok ' + new URL(req.url).pathname) } }"

FORMS = {
    # what esbuild (wrangler) ends every bundle with
    "esbuild": f"var app = {HANDLER};\nexport {{ app as default }};",
    "default and named": f"const a = {HANDLER}, b = 2;\nexport {{ a as default, b }};",
    "default expression": f"export default {HANDLER}",
    "default across lines": f"export\n  default\n{HANDLER}",
    "async function": "export default async function f() {}\n"
    "f.fetch = async (req) => new Response('ok ' + new URL(req.url).pathname);",
    "anonymous class": "export default class { static fetch(req) {"
    " return new Response('ok ' + new URL(req.url).pathname) } }",
    "named class": "export default class W { static fetch(req) {"
    " return new Response('ok ' + new URL(req.url).pathname) } }\nW.x = 1;",
    "named exports": f"export const c = 1;\nexport function g() {{ return 2 }}\n"
    f"export class K {{}}\nexport let {{ p, q: [r] }} = {{ p: 1, q: [2] }};\n"
    f"export default {HANDLER}",
    "hoisted function": "export default handler;\nfunction handler() {}\n"
    "handler.fetch = (req) => new Response('ok ' + new URL(req.url).pathname);",
    "top-level await": f"const h = await Promise.resolve({HANDLER});\nexport default h;",
    "minified": f"var o={HANDLER};export{{o as default}};",
    "export keywords in strings and comments": (
        "// export default 1\nconst s = `export { x as default }`;\n"
        f"/* export default 2 */\nexport default {HANDLER}"
    ),
}


@pytest.mark.parametrize("name", FORMS)
def test_every_module_form_loads_and_answers(name: str) -> None:
    (res,) = invoke(FORMS[name], GET("http://example.com/p"))
    assert (res["outcome"], res["status"], res["body"]) == ("ok", 200, "ok /p"), res


def test_named_exports_are_live_and_import_meta_url() -> None:
    source = (
        "export let n = 1;\nn = 2;\n"
        "export default { fetch() { return new Response(import.meta.url + ' ' + n) } }"
    )
    (res,) = invoke(source, GET())
    assert res["body"] == "file:///worker.js 2"


def test_a_module_is_strict_and_a_script_is_not() -> None:
    mod = "export default { fetch() { return new Response(String("
    mod += "(function () { return this })() === undefined)) } }"
    (res,) = invoke(mod, GET())
    assert res["body"] == "true"


@pytest.fixture
async def checker():
    rt = Runtime(RuntimeSettings(workers=1, validation_processes=1))
    try:
        yield rt
    finally:
        await rt.close()


async def test_errors_point_into_the_tenant_code(checker: Runtime) -> None:
    cases = {
        # a syntax error after `export {}` blanking: no column moves
        "var app = {};\nexport { app as default };\nlet x = ;": ("SyntaxError", 3, 9),
        "export const a = 1; let b = ;": ("SyntaxError", 1, 29),
        # after import.meta on the same line
        "const u = import.meta.url; let b = ;": ("SyntaxError", 1, 36),
        # a strict-mode error only a module has
        "export const a = 1;\nconst o = 010;": ("SyntaxError", 2, 11),
        # an import names its own line
        "let a;\nimport x from './x.js';\nexport default x": ("SyntaxError", 2, 1),
        "export { a } from './a.js';": ("SyntaxError", 1, 1),
        "export default 1;\nexport default 2;": ("SyntaxError", 2, 1),
        # a run-time failure of the top level, after edits on its line
        "export const a = 1; null.x;\nexport default {}": ("TypeError", 1, 26),
        # a top-level await that rejects
        "export const a = 1;\nawait Promise.reject(new RangeError('r'));": ("RangeError", 2, 22),
        # no default export at all
        "export const a = 1;": ("TypeError", None, None),
    }
    for source, (name, line, column) in cases.items():
        v = await checker.validate(source)
        assert not v.ok and v.error is not None, source
        assert (v.error.name, v.error.line, v.error.column) == (name, line, column), (source, v)


async def test_stack_traces_at_run_time_are_in_the_tenant_code(checker: Runtime) -> None:
    source = "var app = { fetch() {\n  return null.y } };\nexport { app as default };"
    assert (await checker.validate(source)).ok
    (res,) = invoke(source, GET())
    assert res["outcome"] == "js_error" and res["error"][0] == "TypeError"
