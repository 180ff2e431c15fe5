"""The stored form of a module set and its limits (isogate.runtime.modules)."""

from __future__ import annotations

import pytest

from isogate.runtime.modules import (
    MAX_MODULES,
    Module,
    ModuleSet,
    ModuleSetError,
    check,
    dumps,
    is_module_set,
    loads,
    resolve,
)

MAIN = Module("index.js", "esm", "export default {}")


def test_a_set_round_trips_with_bytes_and_text() -> None:
    mset = ModuleSet(
        "index.js",
        (MAIN, Module("d.bin", "data", bytes(range(256))), Module("t.txt", "text", "é😀\x00")),
    )
    text = dumps(mset)
    assert is_module_set(text) and not is_module_set("export default {}")
    assert loads(text) == mset


def test_a_malformed_set_is_refused() -> None:
    with pytest.raises(ModuleSetError):
        loads(dumps(ModuleSet("index.js", (MAIN,)))[:-2])


@pytest.mark.parametrize(
    ("importer", "specifier", "path"),
    [
        ("index.js", "./lib/a.js", "lib/a.js"),
        ("lib/a.js", "./b.js", "lib/b.js"),
        ("lib/x/a.js", "../b.js", "lib/b.js"),
        ("lib/a.js", "other.js", "other.js"),
        ("lib/a.js", "/other.js", "other.js"),
        ("a.js", "../../x.js", "../../x.js"),  # outside the set: no module has that name
    ],
)
def test_specifiers_resolve(importer: str, specifier: str, path: str) -> None:
    assert resolve(importer, specifier) == path


def refused(mset: ModuleSet, module_bytes: int = 100, total: int = 150) -> ModuleSetError:
    with pytest.raises(ModuleSetError) as info:
        check(mset, module_bytes, total)
    return info.value


def test_limits_and_shapes() -> None:
    check(ModuleSet("index.js", (MAIN,)), 100, 150)
    big = Module("big.txt", "text", "é" * 51)  # 102 bytes of UTF-8
    e = refused(ModuleSet("index.js", (MAIN, big)))
    assert (e.status, e.module) == (413, "big.txt")
    e = refused(
        ModuleSet("index.js", (MAIN, *(Module(f"{i}.txt", "text", "x" * 40) for i in range(4))))
    )
    assert e.status == 413 and "together" in str(e)
    many = tuple(Module(f"{i}.txt", "text", "") for i in range(MAX_MODULES))
    assert refused(ModuleSet("index.js", (MAIN, *many))).status == 422
    assert refused(ModuleSet("index.js", (MAIN, MAIN))).status == 422
    assert refused(ModuleSet("x.js", (MAIN,))).status == 422
    assert refused(ModuleSet("t.txt", (MAIN, Module("t.txt", "text", "")))).status == 422
    assert refused(ModuleSet("index.js", (MAIN, Module("a.x", "coffee", "")))).module == "a.x"
    for name in ("", "/abs.js", "a/../b.js", "./a.js", "a//b.js", "a\\b.js"):
        assert refused(ModuleSet("index.js", (MAIN, Module(name, "text", "")))).status == 422
