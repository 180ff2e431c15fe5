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

# Known differences: workerd features isogate does not provide (the function contract
# in the README lists what it does). Strict: a case that starts to match fails here,
# so the list can only shrink. Each is named in the README.
KNOWN_DIFFERENCES = {
    "stream-body:stream": "no ReadableStream constructor (bodies are strings/bytes/Blobs)",
    "stream-body:tee": "no ReadableStream constructor (bodies are strings/bytes/Blobs)",
    "crypto:root": "no crypto.subtle (only getRandomValues and randomUUID)",
    "globals:root": "no fetch, timers, FormData, WebSocket...; WeakRef present",
    "content-encoding:gzip-no-accept": "workerd gzips bodies marked Content-Encoding: gzip; isogate does not",
    "content-encoding:gzip-accept": "workerd gzips bodies marked Content-Encoding: gzip; isogate does not",
}
MATCH_CASES = [
    pytest.param(w, c, id=i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[i]))
    if i in KNOWN_DIFFERENCES
    else pytest.param(w, c, id=i)
    for (w, c), i in zip(CASES, IDS, strict=True)
]


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


@pytest.mark.parametrize(("worker", "case"), MATCH_CASES)
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
