"""Session fixtures of the framework corpus: the apps bundled once (esbuild from the
repository's ``node_modules``, wrangler's flags), one workerd serving every bundle, one
isogate backend. The comparison machinery is tests/conformance's."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.corpus import Worker
from tests.conformance.harness import (
    REPO,
    IsogateBackend,
    Workerd,
    make_isogate_backend,
    workerd_binary,
)

from .corpus import ENTRIES, SPLIT_WORKERS, WORKERS

APPS = Path(__file__).resolve().parent / "apps"
ESBUILD = REPO / "node_modules" / ".bin" / "esbuild"


def _missing(msg: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def fw_workers(tmp_path_factory: pytest.TempPathFactory) -> list[Worker]:
    """Every app bundled into a temporary folder (never committed), as the CLI bundles."""
    from isogate.cli.wrangler import bundle_entry

    if not ESBUILD.exists() or not (REPO / "node_modules" / "hono").is_dir():
        _missing("esbuild and the framework packages are not installed: run `npm ci`")
    out = tmp_path_factory.mktemp("framework-bundles")
    bound = []
    for w in WORKERS:
        code = bundle_entry(APPS / ENTRIES[w.name], APPS, [str(ESBUILD)])
        (out / w.file).write_text(code, encoding="utf-8")
        bound.append(dataclasses.replace(w, root=str(out)))
    return bound + _split(tmp_path_factory.mktemp("framework-split"))


def _split(out: Path) -> list[Worker]:
    """Every app built in one esbuild run with code splitting (wrangler's flags, ES
    modules): ``<entry>.js`` per app and ``chunk-*.js`` modules they share. Each split
    Worker uploads its entry and every chunk (only those it imports run)."""
    from isogate.cli.wrangler import ESBUILD_FLAGS

    entries = sorted({ENTRIES[w.name] for w in SPLIT_WORKERS})
    proc = subprocess.run(
        [str(ESBUILD), *entries, *ESBUILD_FLAGS, "--splitting", f"--outdir={out}"],
        cwd=APPS,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    chunks = tuple(sorted(p.name for p in out.glob("chunk-*.js")))
    assert chunks, "esbuild --splitting made no shared chunk: nothing is multi-module"
    return [
        dataclasses.replace(
            w, root=str(out), file=Path(ENTRIES[w.name]).stem + ".js", modules=chunks
        )
        for w in SPLIT_WORKERS
    ]


@pytest.fixture(scope="session")
def fw_workerd(fw_workers: list[Worker]) -> Iterator[Workerd]:
    binary = workerd_binary()
    if binary is None:
        _missing("workerd not installed: run `npm ci` in the repo root (or set WORKERD_BIN)")
    server = Workerd(fw_workers, binary)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fw_isogate(fw_workers: list[Worker]) -> Iterator[IsogateBackend | str]:
    backend = make_isogate_backend(fw_workers)
    try:
        yield backend
    finally:
        if not isinstance(backend, str):
            backend.close()
