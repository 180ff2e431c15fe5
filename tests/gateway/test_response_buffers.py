"""The byte budget of responses held for their clients (caps per connection and total)."""

from __future__ import annotations

from isogate.gateway.response_buffers import ResponseBuffers


def test_caps_per_connection_and_total() -> None:
    buffers = ResponseBuffers(total_bytes=100, per_connection_bytes=60)
    a1 = buffers.reserve(("a", 1), 50)
    assert a1 is not None
    assert buffers.reserve(("a", 1), 20) is None  # 70 > 60 for this connection
    b = buffers.reserve(("b", 2), 50)
    assert b is not None and buffers.held == 100
    assert buffers.reserve(("c", 3), 1) is None  # the total is full
    a1.release()
    a1.release()  # idempotent: released once
    assert buffers.held == 50
    assert buffers.reserve(("a", 1), 60) is None  # 110 > 100 in total
    a2 = buffers.reserve(("a", 1), 50)
    assert a2 is not None and buffers.held == 100
    a2.release()
    b.release()
    assert buffers.held == 0 and buffers._by_connection == {}
