"""Framework apps (Hono, itty-router, zod, jose, @tsndr/cloudflare-worker-jwt), bundled
from pinned npm packages as wrangler bundles them, on workerd and on isogate.

``test_workerd_serves_framework``: workerd (the reference) gives the answer each case
states. ``test_isogate_matches_workerd_framework``: the same request to isogate; status,
status text, headers in wire order (transport headers excluded) and body bytes must be
workerd's (tests/conformance/harness.py). Known differences are strict xfails naming the
missing API (docs/compatibility.md lists them): a case that starts to match fails, so
the list can only shrink.
"""

from __future__ import annotations

import os

import pytest

from tests.conformance.corpus import Case, Worker
from tests.conformance.harness import (
    IsogateBackend,
    Workerd,
    check_isogate_matches,
    check_workerd_serves,
)

from .corpus import all_cases

CASES = all_cases()
IDS = [f"{w.name}:{c.label}" for w, c in CASES]

#: case id -> why isogate's answer differs from workerd's (the missing API). Strict: a
#: case that starts to match fails here, so the list only shrinks; empty since
#: crypto.subtle and ReadableStream landed. docs/compatibility.md says the same.
KNOWN_DIFFERENCES: dict[str, str] = {}

_CALIBRATING = os.environ.get("ISOGATE_CONFORMANCE_BACKEND") == "workerd"
MATCH_CASES = [
    pytest.param(w, c, id=i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[i]))
    if i in KNOWN_DIFFERENCES and not _CALIBRATING
    else pytest.param(w, c, id=i)
    for (w, c), i in zip(CASES, IDS, strict=True)
]


def _bound(workers: list[Worker], worker: Worker) -> Worker:
    return next(w for w in workers if w.name == worker.name)


@pytest.mark.parametrize(("worker", "case"), CASES, ids=IDS)
def test_workerd_serves_framework(
    fw_workerd: Workerd, fw_workers: list[Worker], worker: Worker, case: Case
) -> None:
    check_workerd_serves(fw_workerd, _bound(fw_workers, worker), case)


@pytest.mark.parametrize(("worker", "case"), MATCH_CASES)
def test_isogate_matches_workerd_framework(
    fw_workerd: Workerd,
    fw_isogate: IsogateBackend | str,
    fw_workers: list[Worker],
    worker: Worker,
    case: Case,
) -> None:
    check_isogate_matches(fw_workerd, fw_isogate, _bound(fw_workers, worker), case)
