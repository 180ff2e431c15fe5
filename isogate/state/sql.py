"""What every store of this package shares: a connection to the metadata database under
the store's deadline (``db_timeout_seconds``), failing as :class:`StoreUnavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from isogate.registry.errors import StoreUnavailable


class SqlStore:
    """Base of the SQL-backed stores: ``_conn(write)`` opens a transaction (``write``) or
    a plain connection, and gives up after ``timeout`` seconds."""

    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout

    @asynccontextmanager
    async def _conn(self, write: bool) -> AsyncIterator[AsyncConnection]:
        try:
            async with asyncio.timeout(self._timeout):
                ctx = self._engine.begin() if write else self._engine.connect()
                async with ctx as conn:
                    yield conn
        except TimeoutError:
            raise StoreUnavailable("metadata store timed out") from None
