"""Frames between the supervisor (gateway process) and runtime worker processes.

Each frame is a 4-byte big-endian length followed by a msgpack payload: a typed
message of messages.py (an array, its ``op`` tag first) between the supervisor and a
worker; a map between the gateway and a deploy-check process (validation.py). Bodies
travel as msgpack ``bin``, so no base64. Every executor thread has a pipe pair of its own
(requests in, results out), so no thread hands messages to another on the hot path.
"""

from __future__ import annotations

import os
import select
import struct
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import msgspec

from . import messages

HEADER = struct.Struct(">I")
MAX_FRAME = 256 << 20  # a frame over this is a protocol error, not a body


class ProtocolError(Exception):
    """A peer sent something that is not a frame."""


def pack(message: dict[str, Any]) -> bytes:
    """Encode one map as a frame (deploy checks)."""
    payload: bytes = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(payload)) + payload


def unpack(payload: bytes) -> dict[str, Any]:
    """Decode a map frame's payload (without its header)."""
    message = msgpack.unpackb(payload, raw=False, use_list=True)
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a map")
    return message


def frame(message: messages.Message) -> bytes:
    """Encode one typed message as a frame."""
    payload = messages.encode(message)
    return HEADER.pack(len(payload)) + payload


def typed(decoder: msgspec.msgpack.Decoder[Any]) -> Callable[[bytes], Any]:
    """A payload decoder for one direction's messages; anything else is a ProtocolError."""

    def decode(payload: bytes) -> Any:
        try:
            return decoder.decode(payload)
        except msgspec.DecodeError as exc:
            raise ProtocolError(str(exc)) from None

    return decode


#: payload decoders of each direction
decode_to_executor = typed(messages.to_executor)
decode_from_worker = typed(messages.from_worker)


class FrameDecoder:
    """Incremental decoder: feed bytes, iterate complete messages.

    A frame whose payload does not decode raises ProtocolError, unless ``skip`` is
    given: it is then told, and the frame is passed over (the frames around it are
    kept)."""

    def __init__(
        self,
        decode: Callable[[bytes], Any] = unpack,
        skip: Callable[[ProtocolError], None] | None = None,
    ) -> None:
        self._buf = bytearray()
        self._decode = decode
        self._skip = skip

    def feed(self, data: bytes) -> Iterator[Any]:
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
            if self._skip is None:
                yield self._decode(body)
                continue
            try:
                message = self._decode(body)
            except ProtocolError as exc:
                self._skip(exc)
                continue
            yield message
        del buf[:start]


class FrameReader:
    """Blocking reader of frames from a file descriptor, with an optional timeout."""

    def __init__(
        self,
        fd: int,
        decode: Callable[[bytes], Any] = unpack,
        skip: Callable[[ProtocolError], None] | None = None,
    ) -> None:
        self._fd = fd
        self._decoder = FrameDecoder(decode, skip)
        self._ready: list[Any] = []
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def fileno(self) -> int:
        return self._fd

    def read_available(self) -> list[Any] | None:
        """Every complete message after one read (the fd must be readable); ``None`` at
        end of stream. May return an empty list (a partial frame)."""
        if self._ready:
            ready, self._ready = self._ready, []
            return ready
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            return None
        return list(self._decoder.feed(chunk))

    def read(self, timeout: float | None = None) -> Any:
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
