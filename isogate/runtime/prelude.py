"""The JS prelude: web APIs and host entry points, evaluated in every fresh context."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def prelude_source() -> str:
    """All ``js/*.js`` files in name order, inside one strict function scope."""
    folder = resources.files("isogate.runtime") / "js"
    parts = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".js")
    )
    body = "\n".join(_strip_comment_lines(text) for _, text in parts)
    source = f"(function () {{\n'use strict';\n{body}\n}})();\n"
    # A non-ASCII character would make V8 store the whole prelude as a two-byte
    # string in every isolate (~0.15 MB each).
    if not source.isascii():
        raise ValueError("the JS prelude must be ASCII (use \\u escapes)")
    return source


def _strip_comment_lines(text: str) -> str:
    """Drop lines that hold only a // comment: every isolate keeps the source text.

    Safe for the prelude, whose template literals never start a line with //.
    """
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("//"))
