"""Frames between the supervisor (gateway process) and runtime worker processes.

Each frame is a 4-byte big-endian length followed by a msgpack map. Bodies travel
as msgpack ``bin``, so no base64 or copies beyond the pipe itself.
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

HEADER = struct.Struct(">I")
MAX_FRAME = 256 << 20  # a frame over this is a protocol error, not a body


def pack(message: dict[str, Any]) -> bytes:
    """Encode one message as a frame."""
    payload = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(payload)) + payload


def unpack(payload: bytes) -> dict[str, Any]:
    """Decode a frame's payload (without its header)."""
    message = msgpack.unpackb(payload, raw=False, use_list=True)
    if not isinstance(message, dict):
        raise ValueError("frame is not a map")
    return message
