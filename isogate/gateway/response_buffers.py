"""Function responses held in gateway memory until their clients take them (issue 24).

A function's answer arrives whole from the runtime (up to ``max_response_body``) and
stays in memory until the client has read it. A client that never reads pinned it for
good: 48 such connections took the gateway from 90 MB to 850 MB. So every response body
is reserved here before it is sent, against a cap per client connection and a cap in
total, and released when it has gone out or its sending was given up (the write timeout
in :mod:`isogate.gateway.invoke`). A reservation that does not fit is refused: the caller
answers 503 at once instead of holding the body.
"""

from __future__ import annotations

from collections.abc import Hashable


class ResponseBuffers:
    """Byte budget of response bodies waiting for their clients."""

    def __init__(self, total_bytes: int, per_connection_bytes: int) -> None:
        self.total_bytes = total_bytes
        self.per_connection_bytes = per_connection_bytes
        self.held = 0
        self._by_connection: dict[Hashable, int] = {}

    def reserve(self, connection: Hashable, size: int) -> Lease | None:
        """A lease on ``size`` bytes for ``connection``, or ``None`` when a cap is full."""
        mine = self._by_connection.get(connection, 0)
        if self.held + size > self.total_bytes or mine + size > self.per_connection_bytes:
            return None
        self.held += size
        self._by_connection[connection] = mine + size
        return Lease(self, connection, size)

    def _release(self, connection: Hashable, size: int) -> None:
        self.held -= size
        left = self._by_connection.get(connection, 0) - size
        if left > 0:
            self._by_connection[connection] = left
        else:
            self._by_connection.pop(connection, None)


class Lease:
    """Bytes reserved for one response; :meth:`release` is idempotent."""

    __slots__ = ("_buffers", "_connection", "_size")

    def __init__(self, buffers: ResponseBuffers, connection: Hashable, size: int) -> None:
        self._buffers: ResponseBuffers | None = buffers
        self._connection = connection
        self._size = size

    def release(self) -> None:
        """Give the bytes back (once)."""
        if self._buffers is not None:
            self._buffers._release(self._connection, self._size)
            self._buffers = None
