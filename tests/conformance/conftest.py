"""Session fixtures: a loopback upstream, one workerd serving the whole corpus, one isogate
backend. Both runtimes get the corpus with ``{upstream}``/``{closed}`` bound to the same
upstream (see ``harness.bind_env``)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .corpus import WORKERS
from .harness import (
    IsogateBackend,
    Workerd,
    bind_env,
    make_isogate_backend,
    upstream_env,
    workerd_binary,
)
from .upstream import Upstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def workerd(upstream: Upstream) -> Iterator[Workerd]:
    binary = workerd_binary()
    if binary is None:
        msg = "workerd not installed: run `npm ci` in the repo root (or set WORKERD_BIN)"
        if os.environ.get("CI"):  # never pass CI by skipping the whole suite
            pytest.fail(msg)
        pytest.skip(msg)
    server = Workerd(bind_env(WORKERS, upstream_env(upstream)), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def isogate(upstream: Upstream) -> Iterator[IsogateBackend | str]:
    """A backend, or the reason there is none (tests then skip the isogate half)."""
    backend = make_isogate_backend(bind_env(WORKERS, upstream_env(upstream)))
    try:
        yield backend
    finally:
        if not isinstance(backend, str):
            backend.close()
