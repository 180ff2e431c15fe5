"""TypeScript erasure (isogate.runtime.typescript): types become spaces, every other
token keeps its line and column; code-generating TypeScript is refused."""

from __future__ import annotations

import pytest

from isogate.runtime.typescript import TypeScriptError, strip_types

from .test_prelude import GET, invoke

ERASED = {
    "let a: number = 1;": "let a         = 1;",
    "function f<T>(a?: T, b: string = 'x'): void {}": "function f   (a    , b         = 'x')       {}",
    "const g = <T,>(x: T): T => x;": "const g =     (x   )    => x;",
    "let v = x as unknown as string;": "let v = x                     ;",
    "let v = f<number>(1) satisfies number;": "let v = f        (1)                 ;",
    "a!.b;": "a .b;",
    "interface I {\n  x: number\n}\nlet i = 1;": "             \n           \n \nlet i = 1;",
    "type T = { a: 1 } | 2;": "                      ",
    "declare const q: number;": "                        ",
    "import type { X } from './x';": "                             ",
    "export type { Y };": "                  ",
    "class C<T> extends B implements I, J { private readonly x?: number = 1; y!: string }": (
        "class C    extends B                 {                  x          = 1; y          }"
    ),
    "abstract class K { abstract m(): void; }": "         class K {                   ; }",
    "const e = '😀'; let n: number;": "const e = '😀'; let n        ;",
}


@pytest.mark.parametrize("ts", ERASED)
def test_types_become_spaces(ts: str) -> None:
    js = strip_types(ts)
    assert js == ERASED[ts]
    assert len(js) == len(ts) and js.count("\n") == ts.count("\n")


@pytest.mark.parametrize(
    ("ts", "where"),
    [
        ("let a = 1;\nenum E { A }", (2, 1)),
        ("namespace N { }", (1, 1)),
        ("class C {\n  constructor(private p: number) {}\n}", (2, 15)),
        ("let x: = 1;", (1, 6)),
    ],
)
def test_code_generating_or_broken_typescript_is_refused_where_it_stands(
    ts: str, where: tuple[int, int]
) -> None:
    with pytest.raises(TypeScriptError) as exc:
        strip_types(ts)
    assert (exc.value.info.line, exc.value.info.column) == where


def test_erased_typescript_runs() -> None:
    ts = (
        "interface Env { WHO?: string }\n"
        "export default {\n"
        "  fetch(req: Request, env: Env): Response {\n"
        "    return new Response(String(new URL(req.url).pathname as string));\n"
        "  },\n"
        "} satisfies ExportedHandler<Env>;\n"
    )
    (res,) = invoke(strip_types(ts), GET("http://example.com/ts"))
    assert (res["status"], res["body"]) == (200, "/ts")
