"""The problem table is the one place where errors get their status, type and title."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest

import isogate.gateway
from isogate.gateway import errors as ge
from isogate.gateway.problems import TABLE, Problem, kind_of, to_problem
from isogate.quota.errors import Rejected
from isogate.state.errors import InvalidBinding

GATEWAY = Path(isogate.gateway.__file__).parent
TABLE_NAMES = {c.__name__ for c in TABLE}


def test_every_gateway_error_is_in_the_table() -> None:
    classes = [
        c
        for _, c in inspect.getmembers(ge, inspect.isclass)
        if issubclass(c, Problem) and c is not Problem
    ]
    assert len(classes) > 40
    for cls in classes:
        assert cls in TABLE, cls
    with pytest.raises(LookupError):
        kind_of(Problem)


def test_no_module_builds_a_problem_literal() -> None:
    """Only the table says which status, type and title an error has: nobody else calls
    ``Problem(...)`` or passes a ``kind``."""
    offenders = []
    for path in GATEWAY.rglob("*.py"):
        if path.name in ("problems.py", "errors.py") and path.parent == GATEWAY:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name == "Problem" or any(k.arg == "kind" for k in node.keywords):
                offenders.append(f"{path.relative_to(GATEWAY)}:{node.lineno}")
            if name in TABLE_NAMES and node.args and isinstance(node.args[0], ast.Constant):
                assert not isinstance(node.args[0].value, int), f"{path}:{node.lineno}"
    assert not offenders, offenders


def test_answers_are_as_before() -> None:
    r = ge.Unauthorized("log in", {"WWW-Authenticate": 'Bearer realm="isogate"'}).response()
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="isogate"'
    assert json.loads(r.body) == {
        "type": "https://isogate.dev/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "log in",
    }
    assert list(json.loads(r.body)) == ["type", "title", "status", "detail"]
    p = to_problem(InvalidBinding("CACHE", "no such namespace"))
    assert (p.status, p.slug, p.title, p.extra) == (
        400,
        "invalid-binding",
        "Invalid binding",
        {"binding": "CACHE"},
    )
    p = to_problem(Rejected("quota", "quota exhausted", 60, None))
    assert (p.status, p.slug, p.headers) == (429, "quota-exceeded", {"Retry-After": "60"})
    # a table default (a 401 of the quota package asks for a bearer token)
    from isogate.quota.errors import KeyUnknown

    r = to_problem(KeyUnknown("no key")).response()
    assert r.headers["www-authenticate"] == "Bearer"
