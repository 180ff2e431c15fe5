"""Reads of imported names (isogate.runtime.references): what the linker makes live and
what it leaves to V8 (declarations, assignment targets, shadowed names)."""

from __future__ import annotations

from isogate.runtime.module_syntax import parser
from isogate.runtime.references import references


def reads(text: str, *names: str) -> list[tuple[str, str, int]]:
    """(name, kind, column) of each read; one-line snippets."""
    tree = parser().parse(text.encode("utf-16-le"), encoding="utf16")
    return [(r.name, r.kind, r.start) for r in references(tree, frozenset(names))]


def test_reads_calls_and_shorthands() -> None:
    text = "a; f(a); x = {a}; a`t`; new a(); a?.(); typeof a; o.a; ({a: 1}); `${a}`;"
    got = reads(text, "a", "f")
    assert [(n, k) for n, k, _ in got] == [
        ("a", "read"),
        ("f", "call"),
        ("a", "read"),
        ("a", "shorthand"),
        ("a", "call"),
        ("a", "read"),
        ("a", "optional-call"),
        ("a", "read"),
        ("a", "read"),
    ]
    assert all(text[c : c + len(n)] == n for n, _, c in got)


def test_declarations_and_assignment_targets_are_left_to_v8() -> None:
    text = "a = 1; a++; a += 1; [a] = o; ({a} = o); for (a of o); delete a; let {b: a2 = a} = o;"
    assert reads(text, "a") == [("a", "read", text.rindex("= a}") + 2)]


def test_shadowing_declarations() -> None:
    shadowed = [
        "function f(a) { a }",
        "function f({a}) { a }",
        "function f(...a) { a }",
        "(a) => a",
        "a => a",
        "function f() { { var a } a }",
        "{ let a; a }",
        "{ class a {} a }",
        "{ function a() {} a }",
        "for (let a = 0;;) a",
        "for (const a of o) a",
        "try {} catch (a) { a }",
        "try {} catch ({a}) { a }",
        "(function a() { a })",
        "(class a { m() { a } })",
        "switch (o) { case 1: let a; default: a }",
        "class K { static { var a; a } }",
        "class K { m(a = a) {} }",
    ]
    for text in shadowed:
        assert reads(text, "a") == [], text
    seen = [
        "function f(b) { a }",
        "{ let b; a } { let a } ",
        "function f() { var b; return () => a }",
        "class K { static { var b } m() { a } }",
        "for (let b of a) b",
    ]
    for text in seen:
        assert len(reads(text, "a")) == 1, text
