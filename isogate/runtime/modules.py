"""Multi-module deployments: the stored form of a module set, and its limits.

A deployment of several modules (a main ES module and the modules it imports, as
Cloudflare's upload API takes them) is stored as one text: a first line
:data:`MAGIC`, then JSON ``{"main_module": …, "modules": [{"name", "type",
"content"}]}`` (``content`` base64 for ``data`` and ``wasm``). One text means one
blob per version, addressed by its sha256, so versioning, rollback, the code caches and
blob collection treat it exactly like a single script. ``runtime/linker.py`` links it.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from dataclasses import dataclass

#: the first line of a stored module set (a JavaScript comment: no script starts so
#: by accident, and a tenant's single script that does is read as a module set)
MAGIC = "//@isogate-modules v1\n"
#: module types, as the JSON API names them
TYPES = ("esm", "commonjs", "text", "data", "json", "wasm")
#: Cloudflare's upload Content-Types -> module type
CONTENT_TYPES = {
    "application/javascript+module": "esm",
    "text/javascript+module": "esm",
    "application/javascript": "commonjs",
    "text/javascript": "commonjs",
    "text/plain": "text",
    "application/octet-stream": "data",
    "application/json": "json",
    "application/wasm": "wasm",
}
#: at most this many modules in one deployment
MAX_MODULES = 100
MAX_NAME = 255
BINARY = ("data", "wasm")


class ModuleSetError(Exception):
    """A module set that cannot be stored; ``status`` 413 (too large) or 422."""

    def __init__(self, status: int, message: str, module: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.module = module


@dataclass(frozen=True, slots=True)
class Module:
    """One module: its path, type and content (text, or bytes for data and wasm)."""

    name: str
    type: str
    content: str | bytes

    @property
    def size(self) -> int:
        c = self.content
        return len(c) if isinstance(c, bytes) else len(c.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class ModuleSet:
    """A main module and the others, in upload order."""

    main: str
    modules: tuple[Module, ...]

    def get(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)


def check_name(name: str) -> str:
    """A module path: relative, ``/``-separated, no ``.``/``..`` segments."""
    if not name or len(name) > MAX_NAME or "\x00" in name or "\\" in name:
        raise ModuleSetError(422, f"invalid module name {name[:MAX_NAME]!r}", name[:MAX_NAME])
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ModuleSetError(
            422, f"module name {name!r} must be a relative path without . or ..", name
        )
    return name


def check(mset: ModuleSet, max_module_bytes: int, max_total_bytes: int) -> None:
    """Refuse a set over the limits (413 naming the module) or malformed (422)."""
    if len(mset.modules) > MAX_MODULES:
        raise ModuleSetError(422, f"at most {MAX_MODULES} modules in one deployment")
    seen: set[str] = set()
    total = 0
    for m in mset.modules:
        check_name(m.name)
        if m.type not in TYPES:
            raise ModuleSetError(422, f"module {m.name!r}: unknown type {m.type!r}", m.name)
        if m.name in seen:
            raise ModuleSetError(422, f"module {m.name!r} appears twice", m.name)
        seen.add(m.name)
        if m.size > max_module_bytes:
            raise ModuleSetError(
                413, f"module {m.name!r} is larger than {max_module_bytes} bytes", m.name
            )
        total += m.size
        if isinstance(m.content, str) and "\x00" in m.content and m.type != "text":
            raise ModuleSetError(422, f"module {m.name!r} may not contain NUL", m.name)
    if total > max_total_bytes:
        raise ModuleSetError(413, f"the modules together are larger than {max_total_bytes} bytes")
    main = mset.get(mset.main)
    if main is None:
        raise ModuleSetError(422, f"main_module {mset.main!r} is not among the modules")
    if main.type != "esm":
        raise ModuleSetError(422, f"main_module {mset.main!r} must be an ES module", main.name)


def dumps(mset: ModuleSet) -> str:
    """The stored text of ``mset`` (see the module docstring)."""
    mods = []
    for m in mset.modules:
        content = m.content
        if isinstance(content, bytes):
            content = base64.b64encode(content).decode("ascii")
        mods.append({"name": m.name, "type": m.type, "content": content})
    return MAGIC + json.dumps({"main_module": mset.main, "modules": mods}, ensure_ascii=False)


def is_module_set(text: str) -> bool:
    return text.startswith(MAGIC)


def loads(text: str) -> ModuleSet:
    """The module set stored as ``text`` (written by :func:`dumps`)."""
    try:
        doc = json.loads(text[len(MAGIC) :])
        mods = []
        for m in doc["modules"]:
            content = m["content"]
            if m["type"] in BINARY:
                content = base64.b64decode(content, validate=True)
            mods.append(Module(name=m["name"], type=m["type"], content=content))
        return ModuleSet(main=doc["main_module"], modules=tuple(mods))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ModuleSetError(422, f"the module set is malformed: {exc}") from None


def resolve(importer: str, specifier: str) -> str:
    """The module path ``specifier`` names from ``importer``: ``./``/``../`` relative to
    the importer's folder, anything else a module's own path."""
    if specifier.startswith(("./", "../")):
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
        return joined
    return specifier.lstrip("/") if specifier.startswith("/") else specifier
