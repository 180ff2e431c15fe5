"""Session fixtures: one workerd serving the whole corpus, one isogate backend."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .corpus import WORKERS
from .harness import IsogateBackend, Workerd, make_isogate_backend, workerd_binary


@pytest.fixture(scope="session")
def workerd() -> Iterator[Workerd]:
    binary = workerd_binary()
    if binary is None:
        msg = "workerd not installed: run `npm ci` in the repo root (or set WORKERD_BIN)"
        if os.environ.get("CI"):  # never pass CI by skipping the whole suite
            pytest.fail(msg)
        pytest.skip(msg)
    server = Workerd(list(WORKERS), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def isogate() -> Iterator[IsogateBackend | str]:
    """A backend, or the reason there is none (tests then skip the isogate half)."""
    backend = make_isogate_backend(list(WORKERS))
    try:
        yield backend
    finally:
        if not isinstance(backend, str):
            backend.close()
