"""A PostgreSQL that is shutting down or starting up is an outage (503), not a bug (500)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from isogate.backends.database import is_outage
from isogate.gateway.problems import to_problem


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("the database system is shutting down")
        self.sqlstate = self.pgcode = sqlstate


@pytest.mark.parametrize("state", ["57P03", "57P01", "08006", "08001"])
def test_shutdown_and_connection_states_are_outages(state: str) -> None:
    err = sa_exc.DBAPIError("connect", None, _Orig(state))
    assert is_outage(err)
    problem = to_problem(err)
    assert (problem.status, problem.slug) == (503, "store-unavailable")


def test_other_database_errors_stay_bugs() -> None:
    err = sa_exc.DBAPIError("select", None, _Orig("42P01"))  # undefined table
    assert not is_outage(err)
    assert to_problem(err).status == 500


def test_asyncpg_exception_carries_sqlstate() -> None:
    assert asyncpg.exceptions.CannotConnectNowError.sqlstate == "57P03"
