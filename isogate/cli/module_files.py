"""The files of a multi-module deploy, as ``isogate deploy`` reads them from disk.

``isogate deploy NAME FILE...`` (several files, the first the main module) and
``isogate deploy NAME DIR`` (every module file under a folder) upload a module set,
unbundled: the gateway links the modules (runtime/linker.py), so each keeps its own
name, lines and columns in errors and stack traces. A module's name is its path
relative to the main module's folder (``DIR`` for a folder), ``/``-separated, which is
what ``./lib/util.js`` in an import resolves against. Its type comes from its
extension (:data:`EXTENSIONS`); wrangler projects deployed with ``--no-bundle`` take
their types from wrangler's ``rules`` instead (cli/wrangler.py).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: extension -> module type (the gateway's JSON form); ``.ts``/``.mts`` are ES modules
#: whose types the gateway erases (by the module's name)
EXTENSIONS = {
    ".js": "esm",
    ".mjs": "esm",
    ".ts": "esm",
    ".mts": "esm",
    ".cjs": "commonjs",
    ".txt": "text",
    ".html": "text",
    ".sql": "text",
    ".json": "json",
    ".bin": "data",
    ".wasm": "wasm",
}
#: folders never searched for modules (dependencies, VCS, wrangler's scratch space)
SKIP_DIRS = frozenset({"node_modules", ".git", ".wrangler"})
#: the main module of a folder deployed without ``--main``, in this order
MAIN_CANDIDATES = (
    "index.js",
    "index.mjs",
    "index.ts",
    "worker.js",
    "worker.mjs",
    "worker.ts",
    "src/index.js",
    "src/index.mjs",
    "src/index.ts",
)
#: a folder with more files than this is refused before anything is read (the gateway
#: takes at most 100 modules anyway)
MAX_FILES = 1000
BINARY = frozenset({"data", "wasm"})


class ModuleFilesError(Exception):
    """Files that cannot be deployed as a module set; ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class ModuleFile:
    """One module: its name in the set, its type, the file it comes from."""

    name: str
    type: str
    path: Path


def module_type(path: Path) -> str | None:
    """The module type of ``path`` by its extension, or None."""
    return EXTENSIONS.get(path.suffix.lower())


def from_files(files: list[Path]) -> tuple[str, list[ModuleFile]]:
    """The main module's name and the modules of ``FILE...`` (the first is the main
    module; names relative to its folder, so no file may lie outside that folder)."""
    main = files[0].resolve()
    base = main.parent
    out: list[ModuleFile] = []
    for f in files:
        p = f.resolve()
        if not p.is_file():
            raise ModuleFilesError(f"{f}: no such file")
        try:
            name = p.relative_to(base).as_posix()
        except ValueError:
            raise ModuleFilesError(
                f"{f} is outside {base}, the main module's folder (module names are "
                "relative to it): deploy the folder instead"
            ) from None
        kind = module_type(p)
        if kind is None:
            raise ModuleFilesError(f"{f}: unknown module type (extensions: {_known()})")
        out.append(ModuleFile(name, kind, p))
    return out[0].name, _unique(out)


def from_directory(directory: Path, main: str | None = None) -> tuple[str, list[ModuleFile]]:
    """The main module's name and every module file under ``directory`` (files with
    another extension, dot-folders and ``node_modules`` are left out)."""
    root = directory.resolve()
    if main is None:
        main = next((c for c in MAIN_CANDIDATES if (root / c).is_file()), None)
        if main is None:
            raise ModuleFilesError(
                f"{directory}: no main module ({', '.join(MAIN_CANDIDATES[:3])}, ...): "
                "give --main FILE"
            )
    else:
        p = (root / main).resolve()
        if not p.is_file():
            raise ModuleFilesError(f"--main {main}: no such file in {directory}")
        try:
            main = p.relative_to(root).as_posix()
        except ValueError:
            raise ModuleFilesError(f"--main {main} is outside {directory}") from None
    if module_type(Path(main)) != "esm":
        raise ModuleFilesError(f"the main module {main} must be an ES module (.js, .mjs, .ts)")
    out = [ModuleFile(main, "esm", root / main)]
    for path in walk(root):
        kind = module_type(path)
        name = path.relative_to(root).as_posix()
        if kind is not None and name != main:
            out.append(ModuleFile(name, kind, path))
    return main, out


def walk(root: Path) -> list[Path]:
    """Files under ``root`` in order of their path, without dot-folders and
    ``node_modules``."""
    found: list[Path] = []
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for n in sorted(names):
            found.append(Path(here) / n)
            if len(found) > MAX_FILES:
                raise ModuleFilesError(
                    f"{root}: more than {MAX_FILES} files; deploy a smaller folder"
                )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def deploy_body(main: str, modules: list[ModuleFile]) -> dict[str, Any]:
    """The gateway's JSON module-set form: ``{main_module, modules}``."""
    items = []
    for m in modules:
        try:
            data = m.path.read_bytes()
        except OSError as exc:
            raise ModuleFilesError(f"cannot read {m.path}: {(exc.strerror or exc)}") from None
        if m.type in BINARY:
            content = base64.b64encode(data).decode("ascii")
        else:
            try:
                content = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ModuleFilesError(f"{m.path}: a {m.type} module must be UTF-8 text") from None
        items.append({"name": m.name, "type": m.type, "content": content})
    return {"main_module": main, "modules": items}


def _unique(modules: list[ModuleFile]) -> list[ModuleFile]:
    seen: set[str] = set()
    out = []
    for m in modules:
        if m.name not in seen:  # a file named twice is one module
            seen.add(m.name)
            out.append(m)
    return out


def _known() -> str:
    return " ".join(EXTENSIONS)
