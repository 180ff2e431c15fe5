"""The JS prelude: web APIs and host entry points, evaluated in every fresh context."""

from __future__ import annotations

from functools import cache
from importlib import resources

from .uts46 import tables_js


@cache
def prelude_source() -> str:
    """All ``js/*.js`` files in name order, inside one strict function scope, with the
    generated UTS #46 tables (``uts46Tables()``, uts46.py) as if a file of their own."""
    folder = resources.files("isogate.runtime") / "js"
    parts = sorted(
        [
            *(
                (entry.name, entry.read_text(encoding="utf-8"))
                for entry in folder.iterdir()
                if entry.name.endswith(".js")
            ),
            ("21-idna-tables.js", tables_js()),
        ]
    )
    body = "\n".join(_compact(name, text) for name, text in parts)
    source = f"(function () {{\n'use strict';\n{body}\n}})();\n"
    # A non-ASCII character would make V8 store the whole prelude as a two-byte
    # string in every isolate (~0.15 MB each).
    if not source.isascii():
        raise ValueError("the JS prelude must be ASCII (use \\u escapes)")
    return source


def _compact(name: str, text: str) -> str:
    """Drop comment-only lines and indentation: every isolate keeps the source text.

    Line-based, so it is safe only while no template literal spans lines (checked:
    a code line with an odd number of backticks stops start-up).
    """
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        code = line.strip()
        if not code or code.startswith("//"):
            continue
        if code.count("`") % 2:
            raise ValueError(f"{name}:{number}: template literals must not span lines")
        out.append(code)
    return "\n".join(out)
