"""Each corpus case: same request to workerd and to isogate; responses must be equal.

Compared: status, status text, response headers in wire order (transport headers
excluded, see harness.TRANSPORT_HEADERS) and body bytes. Cases marked ``expect_error``
only check the mapping workerd 500 <-> isogate ``Outcome.JS_ERROR``.
"""

from __future__ import annotations

import os

import pytest

from .corpus import Case, Worker, all_cases
from .harness import IsogateBackend, Workerd, compare, observe_isogate

CASES = all_cases()
IDS = [f"{w.name}:{c.label}" for w, c in CASES]


@pytest.mark.parametrize(("worker", "case"), CASES, ids=IDS)
def test_workerd_serves_corpus(workerd: Workerd, worker: Worker, case: Case) -> None:
    """The corpus itself is sane on the reference: no unexpected 500s, no missing routes."""
    ex = workerd.exchange(worker, case)
    r = ex.response
    if case.expect_error:
        assert r.status == 500, f"expected workerd to fail with 500, got {r.status}: {r.body!r}"
    else:
        assert r.status != 500 or r.body != b"Internal Server Error", (
            f"workerd failed on {worker.name}:{case.label}:\n{workerd.log_text()[-3000:]}"
        )
        assert r.body != b"no route", "the case's path has no route in the Worker"


@pytest.mark.parametrize(("worker", "case"), CASES, ids=IDS)
def test_isogate_matches_workerd(
    workerd: Workerd, isogate: IsogateBackend | str, worker: Worker, case: Case
) -> None:
    if isinstance(isogate, str):
        if os.environ.get("CI"):
            pytest.fail(isogate, pytrace=False)
        pytest.skip(isogate)
    ex = workerd.exchange(worker, case)
    try:
        result = isogate.invoke(worker, ex.request)
    except Exception as exc:  # the backend itself broke: still a clear, per-case failure
        pytest.fail(
            f"{worker.name}:{case.label}: isogate ({isogate.name}) raised "
            f"{type(exc).__name__}: {str(exc)[:2000]}",
            pytrace=False,
        )
    actual = observe_isogate(result)
    diffs = compare(case, ex.response, actual)
    if diffs:
        logs = "\n".join(f"  {line}" for line in result.logs)
        pytest.fail(
            f"{worker.name}:{case.label} differs ({isogate.name}):\n"
            f"request: {ex.request.method} {ex.request.url} headers={list(ex.request.headers)}"
            f" body={ex.request.body[:200]!r}\n"
            + "\n".join(diffs)
            + (f"\nisogate console:\n{logs}" if logs else ""),
            pytrace=False,
        )
