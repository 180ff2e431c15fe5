"""Per-tenant deploy limits in the store (issue 24, item 10), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
from isogate.registry.blobs import LocalBlobStore
from isogate.registry.errors import LimitExceeded
from isogate.registry.functions import DeployLimits, SqlFunctionStore


@pytest.fixture
async def store(tmp_path: Path, database_url: str | None) -> AsyncIterator[SqlFunctionStore]:
    engine: AsyncEngine = create_engine(
        Settings(data_dir=tmp_path, database_url=database_url)  # type: ignore[call-arg]
    )
    await migrate(engine)
    try:
        yield SqlFunctionStore(engine, LocalBlobStore(tmp_path / "b", 5), 5)
    finally:
        await engine.dispose()


async def test_limits_refuse_and_prune(store: SqlFunctionStore) -> None:
    limits = DeployLimits(functions=2, versions=2, stored_bytes=100)
    await store.deploy("a", "f1", b"x" * 10, {}, None, [], False, limits)
    await store.deploy("a", "f2", b"x" * 10, {}, None, [], False, limits)
    with pytest.raises(LimitExceeded):
        await store.deploy("a", "f3", b"x" * 10, {}, None, [], False, limits)
    assert [f.name for f in await store.list("a")] == ["f1", "f2"]
    # another tenant has its own count
    await store.deploy("b", "g1", b"x" * 90, {}, None, [], False, limits)
    for n in range(2, 5):
        await store.deploy("a", "f1", b"y" * 10 + bytes([n]), {}, None, [], False, limits)
    assert [v.version for v in await store.versions("a", "f1")] in ([3, 4], [4, 3])
    assert (await store.get("a", "f1")).current_version == 4
    with pytest.raises(LimitExceeded):  # 11 + 11 + 10 + 80 > 100
        await store.deploy("a", "f2", b"z" * 80, {}, None, [], False, limits)
    assert [v.version for v in await store.versions("a", "f2")] == [1]
