"""``isogate deploy NAME FILE...`` and ``isogate deploy NAME DIR``: which files become
which modules, under which names (isogate.cli.module_files)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from isogate.cli.module_files import ModuleFilesError, deploy_body, from_directory, from_files


def tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def listed(main: str, mods: list) -> tuple[str, list[tuple[str, str]]]:
    return main, [(m.name, m.type) for m in mods]


def test_files_are_named_from_the_main_modules_folder(tmp_path: Path) -> None:
    d = tree(
        tmp_path / "w",
        {"index.js": "", "lib/util.mjs": "", "lib/old.cjs": "", "t.txt": "", "a.wasm": b"\0"},
    )
    files = [d / "index.js", d / "lib/util.mjs", d / "lib/old.cjs", d / "t.txt", d / "a.wasm"]
    assert listed(*from_files(files)) == (
        "index.js",
        [
            ("index.js", "esm"),
            ("lib/util.mjs", "esm"),
            ("lib/old.cjs", "commonjs"),
            ("t.txt", "text"),
            ("a.wasm", "wasm"),
        ],
    )
    (tmp_path / "outside.js").write_text("")
    with pytest.raises(ModuleFilesError, match="outside"):
        from_files([d / "index.js", tmp_path / "outside.js"])
    (d / "x.coffee").write_text("")
    with pytest.raises(ModuleFilesError, match="unknown module type"):
        from_files([d / "index.js", d / "x.coffee"])
    with pytest.raises(ModuleFilesError, match="no such file"):
        from_files([d / "index.js", d / "gone.js"])


def test_a_folder_is_every_module_file_in_it(tmp_path: Path) -> None:
    d = tree(
        tmp_path / "w",
        {
            "src/index.ts": "",
            "src/lib/a.js": "",
            "data.json": "{}",
            "blob.bin": b"\xff\0",
            "notes.md": "",
            "node_modules/dep/index.js": "",
            ".git/x.js": "",
        },
    )
    main, mods = from_directory(d)
    assert listed(main, mods) == (
        "src/index.ts",
        [
            ("src/index.ts", "esm"),
            ("blob.bin", "data"),
            ("data.json", "json"),
            ("src/lib/a.js", "esm"),
        ],
    )
    body = deploy_body(main, mods)
    assert body["main_module"] == "src/index.ts"
    blob = next(m for m in body["modules"] if m["name"] == "blob.bin")
    assert base64.b64decode(blob["content"]) == b"\xff\0"
    assert listed(*from_directory(d, "src/lib/a.js"))[0] == "src/lib/a.js"
    with pytest.raises(ModuleFilesError, match="must be an ES module"):
        from_directory(d, "data.json")
    with pytest.raises(ModuleFilesError, match="give --main"):
        from_directory(tree(tmp_path / "empty", {"lib.js": ""}))
    (d / "bad.txt").write_bytes(b"\xff")
    with pytest.raises(ModuleFilesError, match="UTF-8"):
        deploy_body(*from_directory(d))
