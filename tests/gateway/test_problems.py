"""Unit tests of the one place errors become HTTP problems."""

from __future__ import annotations

import json

from isogate.gateway.problems import to_problem
from isogate.runtime.errors import RuntimeStartError


def test_runtime_without_workers_is_a_503_problem_not_a_500() -> None:
    problem = to_problem(RuntimeStartError("the runtime worker died while checking the code"))
    body = json.loads(problem.response().body)
    assert problem.status == 503
    assert body["type"].endswith("/runtime-unavailable")
    assert body["status"] == 503
    assert "died" in body["detail"]


def test_unknown_error_is_a_bare_500_without_details() -> None:
    body = json.loads(to_problem(ValueError("secret internals")).response().body)
    assert body["status"] == 500
    assert "secret" not in json.dumps(body)
