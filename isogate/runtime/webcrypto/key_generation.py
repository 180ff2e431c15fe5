"""``generateKey``: a fresh secret key or key pair, with WebCrypto's usage rules."""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .algorithms import (
    CURVES,
    HASH_BLOCK_BITS,
    OKP,
    PAIR_USAGES,
    SECRET_USAGES,
    check_usages,
    enforce,
)
from .errors import fail
from .keys import Key, alg_for

#: RSA key generation runs uninterruptibly in the executor thread (8192 bits can take
#: seconds of CPU while the thread's other invocations wait): bounded like PBKDF2
MAX_RSA_BITS = 4096


def generate_key(n: dict[str, Any], extractable: bool, usages: list[str]) -> Key | tuple[Key, Key]:
    """WebCrypto's generateKey steps: a secret key, or a (public, private) pair."""
    name = n["name"]
    if name in SECRET_USAGES:
        check_usages(usages, SECRET_USAGES[name])
        if name == "HMAC":
            if "length" in n:
                length = enforce(n["length"], 0, 2**32 - 1, "length")
                if length == 0:
                    raise fail("OperationError", "HMAC key length must not be zero")
            else:
                length = HASH_BLOCK_BITS[n["hash"]]
            raw = bytearray(os.urandom((length + 7) // 8))
            if length % 8:
                raw[-1] &= (0xFF << (8 - length % 8)) & 0xFF
            alg = {"name": "HMAC", "hash": {"name": n["hash"]}, "length": length}
            material = bytes(raw)
        else:
            length = enforce(n["length"], 0, 65535, "length")
            if length not in (128, 192, 256):
                raise fail("OperationError", "AES key length must be 128, 192 or 256 bits")
            alg = {"name": name, "length": length}
            material = os.urandom(length // 8)
        if not usages:
            raise fail("SyntaxError", "usages cannot be empty")
        return Key("secret", extractable, alg, usages, material)
    pub_allowed, priv_allowed = PAIR_USAGES[name]
    check_usages(usages, pub_allowed | priv_allowed)
    pub_usages = [u for u in usages if u in pub_allowed]
    priv_usages = [u for u in usages if u in priv_allowed]
    # (an RSA key is not generated only to be refused: same answer, no CPU spent)
    empty_private = not priv_usages
    private: Any  # ec, rsa or OKP: the OKP table holds four curves' classes, loosely typed
    if name in ("ECDSA", "ECDH"):
        if n["namedCurve"] not in CURVES:
            raise fail("NotSupportedError", f"curve {n['namedCurve']} is not supported")
        private = ec.generate_private_key(CURVES[n["namedCurve"]]())
    elif name in OKP:
        private = OKP[name][0].generate()
    else:
        bits = enforce(n["modulusLength"], 0, 2**32 - 1, "modulusLength")
        e = int.from_bytes(n["publicExponent"], "big")
        if e not in (3, 65537):
            raise fail("OperationError", "publicExponent must be 3 or 65537")
        if bits < 256 or bits > MAX_RSA_BITS or bits % 8:
            raise fail("OperationError", f"modulusLength must be 256..{MAX_RSA_BITS}")
        if empty_private:
            raise fail("SyntaxError", "usages cannot be empty for a private key")
        try:
            private = rsa.generate_private_key(e, bits)
        except ValueError as exc:
            raise fail("OperationError", str(exc)) from None
    alg = alg_for(name, n, private)
    if empty_private:
        raise fail("SyntaxError", "usages cannot be empty for a private key")
    return (
        Key("public", True, alg, pub_usages, private.public_key()),
        Key("private", extractable, alg, priv_usages, private),
    )
