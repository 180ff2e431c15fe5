"""Everyday Workers on workerd and on isogate, against the same loopback upstream.

``test_workerd_serves_realworld``: each request gets the answer the case states from
workerd (the reference), and the webhook sink gets the records it promises.
``test_isogate_matches_workerd_realworld``: the same request to isogate; status,
headers (wire order, transport headers excluded) and body bytes must equal workerd's,
and so must the sink records (see tests/conformance/harness.py).
"""

from __future__ import annotations

import pytest

from tests.conformance.corpus import Case, Worker
from tests.conformance.harness import (
    IsogateBackend,
    Workerd,
    check_isogate_matches,
    check_workerd_serves,
)
from tests.conformance.upstream import Upstream

from .corpus import all_cases

CASES = all_cases()
IDS = [f"{w.name}:{c.label}" for w, c in CASES]


@pytest.mark.parametrize(("worker", "case"), CASES, ids=IDS)
def test_workerd_serves_realworld(
    rw_workerd: Workerd, rw_upstream: Upstream, worker: Worker, case: Case
) -> None:
    check_workerd_serves(rw_workerd, worker, case, rw_upstream)


@pytest.mark.parametrize(("worker", "case"), CASES, ids=IDS)
def test_isogate_matches_workerd_realworld(
    rw_workerd: Workerd,
    rw_isogate: IsogateBackend | str,
    rw_upstream: Upstream,
    worker: Worker,
    case: Case,
) -> None:
    check_isogate_matches(rw_workerd, rw_isogate, worker, case, rw_upstream)
