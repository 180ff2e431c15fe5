"""The JS prelude: web APIs and host entry points, evaluated in every fresh context."""

from __future__ import annotations

from functools import cache
from importlib import resources

import rjsmin


@cache
def prelude_source() -> str:
    """All ``js/*.js`` files in name order, inside one strict function scope."""
    folder = resources.files("isogate.runtime") / "js"
    parts = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".js")
    )
    body = "\n".join(text for _, text in parts)
    # Minified: every isolate keeps the prelude's source text (~0.1 MB saved each).
    source = rjsmin.jsmin(f"(function () {{\n'use strict';\n{body}\n}})();\n")
    # A non-ASCII character would make V8 store the whole prelude as a two-byte
    # string in every isolate (~0.15 MB each).
    if not source.isascii():
        raise ValueError("the JS prelude must be ASCII (use \\u escapes)")
    return source
