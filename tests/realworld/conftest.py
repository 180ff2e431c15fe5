"""Session fixtures for the realworld corpus: its own loopback upstream, one workerd
serving every realworld Worker, one isogate backend (both with env bound to the same
upstream). The machinery is tests/conformance's; nothing is duplicated here."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conformance.harness import (
    IsogateBackend,
    Workerd,
    bind_env,
    make_isogate_backend,
    upstream_env,
    workerd_binary,
)
from tests.conformance.upstream import Upstream

from .corpus import WORKERS


@pytest.fixture(scope="session")
def rw_upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rw_workerd(rw_upstream: Upstream) -> Iterator[Workerd]:
    binary = workerd_binary()
    if binary is None:
        msg = "workerd not installed: run `npm ci` in the repo root (or set WORKERD_BIN)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    server = Workerd(bind_env(WORKERS, upstream_env(rw_upstream)), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rw_isogate(rw_upstream: Upstream) -> Iterator[IsogateBackend | str]:
    backend = make_isogate_backend(bind_env(WORKERS, upstream_env(rw_upstream)))
    try:
        yield backend
    finally:
        if not isinstance(backend, str):
            backend.close()
