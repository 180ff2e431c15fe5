"""What the SQL store tests of this folder share: a settable clock and a migrated
metadata database (SQLite, or PostgreSQL when the session has one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings


class Clock:
    """A clock the test moves by setting ``now`` (seconds), handed to a store."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def engine(tmp_path: Path, database_url: str | None) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(Settings(data_dir=tmp_path, database_url=database_url))
    await migrate(eng)
    yield eng
    await eng.dispose()
