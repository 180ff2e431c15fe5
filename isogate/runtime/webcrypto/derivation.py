"""``deriveBits`` (ECDH, X25519, X448, PBKDF2, HKDF) and the key length ``deriveKey`` asks for."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .algorithms import AES, HASH_BLOCK_BITS, XDH, enforce, hash_of
from .errors import fail
from .keys import Key, KeyTable, check_key_use

#: workerd's bound on PBKDF2 work (one call may not run unbounded CPU in the host)
MAX_PBKDF2_ITERATIONS = 100_000


def derive_bits(
    n: dict[str, Any], key: Key, length: Any, table: KeyTable, usage: str = "deriveBits"
) -> bytes:
    """WebCrypto's deriveBits operation (``usage`` is ``deriveKey`` for deriveKey)."""
    name = n["name"]
    check_key_use(key, name, usage)
    if length is not None:
        length = enforce(length, 0, 2**32 - 1, "length")
    if name == "ECDH" or name in XDH:
        pub = table.get(n["public"])
        if pub.type != "public":
            raise fail("InvalidAccessError", "the public member must be a public key")
        if pub.algorithm["name"] != name:
            raise fail("InvalidAccessError", "the public key's algorithm does not match")
        if key.type != "private":
            raise fail("InvalidAccessError", "the base key must be a private key")
        if name == "ECDH":
            if pub.algorithm["namedCurve"] != key.algorithm["namedCurve"]:
                raise fail("InvalidAccessError", "the public key's curve does not match")
            secret: bytes = key.material.exchange(ec.ECDH(), pub.material)
        else:
            # RFC 7748 section 6: a small-order public key gives the all-zero secret, which
            # OpenSSL refuses (ValueError); checked again in case a build does not
            try:
                secret = key.material.exchange(pub.material)
            except ValueError:
                raise fail("OperationError", f"{name} produced an all-zero secret") from None
            if secret == bytes(len(secret)):
                raise fail("OperationError", f"{name} produced an all-zero secret")
        if length is None:
            return secret
        if length > len(secret) * 8:
            raise fail("OperationError", "length is larger than the derived secret")
        out = bytearray(secret[: (length + 7) // 8])
        if length % 8:
            out[-1] &= (0xFF << (8 - length % 8)) & 0xFF
        return bytes(out)
    if length is None or length % 8:
        raise fail("OperationError", "length must be a non-null multiple of 8")
    if length == 0:
        return b""
    if name == "PBKDF2":
        iterations = enforce(n["iterations"], 0, 2**32 - 1, "iterations")
        if iterations == 0:
            raise fail("OperationError", "iterations must not be zero")
        if iterations > MAX_PBKDF2_ITERATIONS:
            raise fail(
                "NotSupportedError",
                f"PBKDF2 iteration counts above {MAX_PBKDF2_ITERATIONS} are not supported",
            )
        kdf = PBKDF2HMAC(hash_of(n["hash"]), length // 8, n["salt"], iterations)
        return kdf.derive(key.material)
    try:
        return HKDF(hash_of(n["hash"]), length // 8, n["salt"], n["info"]).derive(key.material)
    except ValueError as exc:
        raise fail("OperationError", str(exc)) from None


def key_length(n: dict[str, Any]) -> int | None:
    """WebCrypto's "get key length" for a deriveKey target."""
    name = n["name"]
    if name in AES:
        length = enforce(n["length"], 0, 65535, "length")
        if length not in (128, 192, 256):
            raise fail("OperationError", "AES key length must be 128, 192 or 256 bits")
        return length
    if name == "HMAC":
        if "length" in n:
            length = enforce(n["length"], 0, 2**32 - 1, "length")
            if length == 0:
                raise fail("TypeError", "HMAC length must not be zero")
            return length
        return HASH_BLOCK_BITS[n["hash"]]
    return None
