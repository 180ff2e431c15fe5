"""Frames between the supervisor (gateway process) and runtime worker processes.

Each frame is a 4-byte big-endian length followed by a msgpack map. Bodies travel
as msgpack ``bin``, so no base64. Every executor thread has a pipe pair of its own
(requests in, results out), so no thread hands messages to another on the hot path.
"""

from __future__ import annotations

import os
import select
import struct
from collections.abc import Iterator
from typing import Any

import msgpack

HEADER = struct.Struct(">I")
MAX_FRAME = 256 << 20  # a frame over this is a protocol error, not a body


class ProtocolError(Exception):
    """A peer sent something that is not a frame."""


def pack(message: dict[str, Any]) -> bytes:
    """Encode one message as a frame."""
    payload = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(payload)) + payload


def unpack(payload: bytes) -> dict[str, Any]:
    """Decode a frame's payload (without its header)."""
    message = msgpack.unpackb(payload, raw=False, use_list=True)
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a map")
    return message


class FrameDecoder:
    """Incremental decoder: feed bytes, iterate complete messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[dict[str, Any]]:
        buf = self._buf
        buf += data
        start = 0
        end = len(buf)
        while end - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buf, start)
            if size > MAX_FRAME:
                raise ProtocolError("frame too large")
            if end - start - HEADER.size < size:
                break
            body = bytes(buf[start + HEADER.size : start + HEADER.size + size])
            start += HEADER.size + size
            yield unpack(body)
        del buf[:start]


class FrameReader:
    """Blocking reader of frames from a file descriptor, with an optional timeout."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._decoder = FrameDecoder()
        self._ready: list[dict[str, Any]] = []
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def fileno(self) -> int:
        return self._fd

    def read_available(self) -> list[dict[str, Any]] | None:
        """Every complete message after one read (the fd must be readable); ``None`` at
        end of stream. May return an empty list (a partial frame)."""
        if self._ready:
            ready, self._ready = self._ready, []
            return ready
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            return None
        return list(self._decoder.feed(chunk))

    def read(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message; ``None`` at end of stream. Raises TimeoutError."""
        while not self._ready:
            if timeout is not None and not self._poll.poll(int(timeout * 1000)):
                raise TimeoutError
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                return None
            self._ready.extend(self._decoder.feed(chunk))
        return self._ready.pop(0)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
