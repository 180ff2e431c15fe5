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
    body = "\n".join(f"// ---- {name}\n{text}" for name, text in parts)
    return f"(function () {{\n'use strict';\n{body}\n}})();\n"
