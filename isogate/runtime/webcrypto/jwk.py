"""JSON Web Key rules shared by import and export: ``alg`` names and member checks."""

from __future__ import annotations

from typing import Any

from .errors import fail

JWK_ALG = {
    ("HMAC", "SHA-1"): "HS1",
    ("HMAC", "SHA-256"): "HS256",
    ("HMAC", "SHA-384"): "HS384",
    ("HMAC", "SHA-512"): "HS512",
    ("RSASSA-PKCS1-v1_5", "SHA-1"): "RS1",
    ("RSASSA-PKCS1-v1_5", "SHA-256"): "RS256",
    ("RSASSA-PKCS1-v1_5", "SHA-384"): "RS384",
    ("RSASSA-PKCS1-v1_5", "SHA-512"): "RS512",
    ("RSA-PSS", "SHA-1"): "PS1",
    ("RSA-PSS", "SHA-256"): "PS256",
    ("RSA-PSS", "SHA-384"): "PS384",
    ("RSA-PSS", "SHA-512"): "PS512",
    ("RSA-OAEP", "SHA-1"): "RSA-OAEP",
    ("RSA-OAEP", "SHA-256"): "RSA-OAEP-256",
    ("RSA-OAEP", "SHA-384"): "RSA-OAEP-384",
    ("RSA-OAEP", "SHA-512"): "RSA-OAEP-512",
}
AES_JWK = {"AES-CTR": "CTR", "AES-CBC": "CBC", "AES-GCM": "GCM", "AES-KW": "KW"}
#: the ``alg`` an exported OKP key of a signing curve carries (X25519/X448 keys have none).
#: Ed25519's is "EdDSA", as workerd exports it (tests/conformance compares byte for byte);
#: Ed448, which workerd lacks, has the Secure Curves draft's (and WPT's) own name.
OKP_JWK_ALG = {"Ed25519": "EdDSA", "Ed448": "Ed448"}


def check_jwk(jwk: dict[str, Any], kty: str, usages: list[str], extractable: bool) -> None:
    """The checks every JWK import makes: ``kty``, ``use``, ``key_ops`` and ``ext``."""
    if jwk.get("kty") != kty:
        raise fail("DataError", f"JWK kty must be {kty}")
    use = jwk.get("use")
    if use is not None and usages and use != ("enc" if _is_enc(usages) else "sig"):
        raise fail("DataError", "JWK use does not match the usages")
    ops = jwk.get("key_ops")
    if ops is not None:
        if type(ops) is not list or len(set(ops)) != len(ops):
            raise fail("DataError", "JWK key_ops is invalid")
        if any(u not in ops for u in usages):
            raise fail("DataError", "JWK key_ops does not allow the usages")
    if jwk.get("ext") is False and extractable:
        raise fail("DataError", "JWK is not extractable")


def _is_enc(usages: list[str]) -> bool:
    # key agreement is "enc" too: ECDH, X25519 and X448 import require it (WebCrypto and
    # Secure Curves: "if use is present and not equal to 'enc'")
    return any(
        u in ("encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits")
        for u in usages
    )
