"""``sign`` and ``verify``: HMAC, ECDSA, Ed25519, Ed448, RSASSA-PKCS1-v1_5 and RSA-PSS."""

from __future__ import annotations

import hmac as _hmac
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding as apadding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .algorithms import CURVE_BYTES, EDDSA, enforce, hash_of
from .codec import int_bytes
from .errors import fail
from .keys import Key, check_key_use


def _ec_sig_size(key: Key) -> int:
    return CURVE_BYTES[key.algorithm["namedCurve"]]


def _check_context(n: dict[str, Any]) -> None:
    """Ed448Params' ``context`` (Secure Curves): at most 255 bytes (else OperationError).

    ``cryptography`` signs and verifies Ed448 with an empty context only (RFC 8032's
    context is not in its API), so a non-empty one is NotSupportedError (Node.js's
    WebCrypto answers the same): a signature without it would not verify elsewhere.
    """
    context = n.get("context", b"")
    if len(context) > 255:
        raise fail("OperationError", "the Ed448 context is longer than 255 bytes")
    if context:
        raise fail("NotSupportedError", "a non-empty Ed448 context is not supported")


def _pss(n: dict[str, Any], hash_name: str) -> apadding.PSS:
    salt = enforce(n["saltLength"], 0, 2**32 - 1, "saltLength")
    return apadding.PSS(apadding.MGF1(hash_of(hash_name)), salt)


def sign(n: dict[str, Any], key: Key, data: bytes) -> bytes:
    """WebCrypto's sign operation (ECDSA signatures as r || s, as WebCrypto has them)."""
    name = n["name"]
    check_key_use(key, name, "sign")
    m = key.material
    if name == "HMAC":
        return _hmac.new(m, data, key.algorithm["hash"]["name"].replace("-", "").lower()).digest()
    if key.type != "private":
        raise fail("InvalidAccessError", "signing needs a private key")
    if name == "ECDSA":
        der = m.sign(data, ec.ECDSA(hash_of(n["hash"])))
        r, s = decode_dss_signature(der)
        size = _ec_sig_size(key)
        return int_bytes(r, size) + int_bytes(s, size)
    if name in EDDSA:
        _check_context(n)
        sig: bytes = m.sign(data)
        return sig
    h = hash_of(key.algorithm["hash"]["name"])
    try:
        if name == "RSA-PSS":
            sig = m.sign(data, _pss(n, key.algorithm["hash"]["name"]), h)
            return sig
        sig = m.sign(data, apadding.PKCS1v15(), h)
        return sig
    except ValueError as exc:
        raise fail("OperationError", str(exc)) from None


def verify(n: dict[str, Any], key: Key, sig: bytes, data: bytes) -> bool:
    """WebCrypto's verify operation: whether ``sig`` signs ``data``."""
    name = n["name"]
    check_key_use(key, name, "verify")
    m = key.material
    if name == "HMAC":
        mac = _hmac.new(m, data, key.algorithm["hash"]["name"].replace("-", "").lower()).digest()
        return _hmac.compare_digest(mac, sig)
    if key.type != "public":
        raise fail("InvalidAccessError", "verifying needs a public key")
    if name in EDDSA:
        _check_context(n)
    try:
        if name == "ECDSA":
            size = _ec_sig_size(key)
            if len(sig) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
            )
            m.verify(der, data, ec.ECDSA(hash_of(n["hash"])))
        elif name in EDDSA:
            m.verify(sig, data)
        elif name == "RSA-PSS":
            m.verify(
                sig,
                data,
                _pss(n, key.algorithm["hash"]["name"]),
                hash_of(key.algorithm["hash"]["name"]),
            )
        else:
            m.verify(sig, data, apadding.PKCS1v15(), hash_of(key.algorithm["hash"]["name"]))
    except (InvalidSignature, ValueError):
        return False
    return True
