"""How bytes travel: Latin-1 text on the wire, base64url and big-endian integers in JWKs.

The prelude hands byte strings over as Latin-1 text (one character a byte) and takes
results back the same way; JWK members are unpadded base64url, their integers big-endian.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .errors import fail


def from_wire(v: Any, what: str = "data") -> bytes:
    """The bytes of a BufferSource the prelude sent as Latin-1 text (else TypeError)."""
    if type(v) is not str:
        raise fail("TypeError", f"{what} is not a BufferSource")
    try:
        return v.encode("latin-1")
    except UnicodeEncodeError:
        raise fail("TypeError", f"{what} is not a BufferSource") from None


def to_wire(b: bytes) -> str:
    """Bytes as the Latin-1 text the prelude turns back into an ArrayBuffer."""
    return b.decode("latin-1")


def b64u_decode(s: Any, what: str) -> bytes:
    """A JWK member ``what``: unpadded base64url (else DataError)."""
    if type(s) is not str:
        raise fail("DataError", f"JWK member {what} is not a string")
    if "=" in s or "+" in s or "/" in s:
        raise fail("DataError", f"JWK member {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise fail("DataError", f"JWK member {what} is not base64url") from None


def b64u(b: bytes) -> str:
    """Unpadded base64url, as JWK members are written."""
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_b64u(s: Any, what: str) -> int:
    """A JWK member ``what`` as a big-endian unsigned integer."""
    return int.from_bytes(b64u_decode(s, what), "big")


def int_bytes(n: int, size: int | None = None) -> bytes:
    """Big-endian bytes of ``n``: ``size`` of them, else as few as hold it (at least one)."""
    if size is None:
        size = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(size, "big")
