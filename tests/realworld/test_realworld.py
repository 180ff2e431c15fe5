"""Everyday Workers on workerd and on isogate, against the same loopback upstream.

``test_workerd_serves_realworld``: each request gets the answer the case states from
workerd (the reference), and the webhook sink gets the records it promises.
``test_isogate_matches_workerd_realworld``: the same request to isogate; status,
headers (wire order, transport headers excluded) and body bytes must equal workerd's,
and so must the sink records (see tests/conformance/harness.py).
``test_isogate_concurrent_invocations_match``: many invocations in flight at once, each
waiting on the upstream, all answered like workerd answered one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conformance.corpus import Case, Worker
from tests.conformance.harness import (
    IsogateBackend,
    Workerd,
    check_isogate_matches,
    check_workerd_serves,
    compare,
    observe_isogate,
)
from tests.conformance.upstream import Upstream

from .corpus import WORKERS, all_cases

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


#: (worker, path, invocations in flight): handlers that wait on the upstream or timers.
CONCURRENT = (
    ("api-timeout", "/signal?delay=2000", 12),  # each falls back after its 150 ms timeout
    ("aggregator", "/profile/2", 12),
    ("cache-aside", "/expire?id=3&ttl=30", 8),
)


@pytest.mark.parametrize(("name", "path", "count"), CONCURRENT, ids=[c[0] for c in CONCURRENT])
def test_isogate_concurrent_invocations_match(
    rw_workerd: Workerd,
    rw_isogate: IsogateBackend | str,
    name: str,
    path: str,
    count: int,
) -> None:
    if isinstance(rw_isogate, str):
        pytest.skip(rw_isogate)
    worker = next(w for w in WORKERS if w.name == name)
    case = Case(label="concurrent", path=path)
    ex = rw_workerd.exchange(worker, case)
    assert ex.response.status == 200, ex.response.body
    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: rw_isogate.invoke(worker, ex.request), range(count)))
    problems = []
    for i, result in enumerate(results):
        diffs = compare(case, ex.response, observe_isogate(result))
        if diffs:
            problems.append(f"invocation {i}:\n" + "\n".join(diffs[:20]))
    assert not problems, f"{len(problems)}/{count} differ from workerd:\n" + "\n".join(problems[:3])
