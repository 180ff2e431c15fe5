"""Which algorithms WebCrypto knows, and the rules every call is checked against.

The registered algorithms of each operation with the members they require or allow
(:func:`normalize`, WebCrypto's "normalize an algorithm"), the hashes and curves they
name, WebIDL's ``[EnforceRange]`` conversion (:func:`enforce`) and the usages each kind
of key may have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, x448, x25519

from .codec import from_wire
from .errors import fail

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA-1": hashes.SHA1,
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}
HASH_BLOCK_BITS = {"SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024}
CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
CURVE_BYTES = {"P-256": 32, "P-384": 48, "P-521": 66}
AES = ("AES-CTR", "AES-CBC", "AES-GCM", "AES-KW")
RSA = ("RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP")
#: the CFRG curves (Secure Curves; "OKP" keys in JWK): each algorithm's ``cryptography``
#: private and public key classes. Every curve's keys import, export and generate the same
#: way, so the steps look their classes up here instead of naming each curve.
OKP: dict[str, tuple[type[Any], type[Any]]] = {
    "Ed25519": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    "Ed448": (ed448.Ed448PrivateKey, ed448.Ed448PublicKey),
    "X25519": (x25519.X25519PrivateKey, x25519.X25519PublicKey),
    "X448": (x448.X448PrivateKey, x448.X448PublicKey),
}
EDDSA = ("Ed25519", "Ed448")  # the OKP algorithms that sign
XDH = ("X25519", "X448")  # the OKP algorithms that agree on keys

# the algorithms each operation knows (WebCrypto's registered algorithms)
OPS: dict[str, tuple[str, ...]] = {
    "digest": tuple(HASHES),
    "sign": ("HMAC", "ECDSA", *EDDSA, "RSASSA-PKCS1-v1_5", "RSA-PSS"),
    "verify": ("HMAC", "ECDSA", *EDDSA, "RSASSA-PKCS1-v1_5", "RSA-PSS"),
    "encrypt": ("AES-CTR", "AES-CBC", "AES-GCM", "RSA-OAEP"),
    "decrypt": ("AES-CTR", "AES-CBC", "AES-GCM", "RSA-OAEP"),
    "generateKey": ("HMAC", *AES, "ECDSA", "ECDH", *OKP, *RSA),
    "importKey": ("HMAC", *AES, "ECDSA", "ECDH", *OKP, *RSA, "PBKDF2", "HKDF"),
    "deriveBits": ("ECDH", *XDH, "PBKDF2", "HKDF"),
    "get key length": ("HMAC", *AES, "PBKDF2", "HKDF"),
    "wrapKey": ("AES-KW",),
    "unwrapKey": ("AES-KW",),
}
# the members each (operation, algorithm) requires, with their WebIDL kind
REQUIRED: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("sign", "ECDSA"): (("hash", "hash"),),
    ("verify", "ECDSA"): (("hash", "hash"),),
    ("sign", "RSA-PSS"): (("saltLength", "long"),),
    ("verify", "RSA-PSS"): (("saltLength", "long"),),
    ("encrypt", "AES-CTR"): (("counter", "bytes"), ("length", "octet")),
    ("decrypt", "AES-CTR"): (("counter", "bytes"), ("length", "octet")),
    ("encrypt", "AES-CBC"): (("iv", "bytes"),),
    ("decrypt", "AES-CBC"): (("iv", "bytes"),),
    ("encrypt", "AES-GCM"): (("iv", "bytes"),),
    ("decrypt", "AES-GCM"): (("iv", "bytes"),),
    ("generateKey", "HMAC"): (("hash", "hash"),),
    ("importKey", "HMAC"): (("hash", "hash"),),
    ("get key length", "HMAC"): (("hash", "hash"),),
    **{("generateKey", a): (("length", "short"),) for a in AES},
    **{("get key length", a): (("length", "short"),) for a in AES},
    ("generateKey", "ECDSA"): (("namedCurve", "string"),),
    ("generateKey", "ECDH"): (("namedCurve", "string"),),
    ("importKey", "ECDSA"): (("namedCurve", "string"),),
    ("importKey", "ECDH"): (("namedCurve", "string"),),
    ("deriveBits", "ECDH"): (("public", "key"),),
    **{("deriveBits", a): (("public", "key"),) for a in XDH},
    **{
        ("generateKey", a): (
            ("modulusLength", "long"),
            ("publicExponent", "bytes"),
            ("hash", "hash"),
        )
        for a in RSA
    },
    **{("importKey", a): (("hash", "hash"),) for a in RSA},
    ("deriveBits", "PBKDF2"): (("salt", "bytes"), ("iterations", "long"), ("hash", "hash")),
    ("deriveBits", "HKDF"): (("hash", "hash"), ("salt", "bytes"), ("info", "bytes")),
}
OPTIONAL: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("generateKey", "HMAC"): (("length", "long"),),
    ("importKey", "HMAC"): (("length", "long"),),
    ("get key length", "HMAC"): (("length", "long"),),
    ("encrypt", "AES-GCM"): (("additionalData", "bytes"), ("tagLength", "octet")),
    ("decrypt", "AES-GCM"): (("additionalData", "bytes"), ("tagLength", "octet")),
    ("encrypt", "RSA-OAEP"): (("label", "bytes"),),
    ("decrypt", "RSA-OAEP"): (("label", "bytes"),),
    ("sign", "Ed448"): (("context", "bytes"),),  # Ed448Params (Secure Curves)
    ("verify", "Ed448"): (("context", "bytes"),),
}
_ALIASES = {name.upper(): name for names in OPS.values() for name in names}


def normalize(op: str, alg: Any) -> dict[str, Any]:
    """WebCrypto's "normalize an algorithm" over the plain data the prelude read."""
    if type(alg) is not dict or type(alg.get("name")) is not str:
        raise fail("TypeError", "Algorithm: name is missing or not a string")
    name = _ALIASES.get(alg["name"].upper())
    if name is None or name not in OPS[op]:
        raise fail("NotSupportedError", f"Unrecognized or unimplemented algorithm: {alg['name']}")
    out: dict[str, Any] = {"name": name}
    for member, kind in REQUIRED.get((op, name), ()):
        if alg.get(member) is None:
            raise fail("TypeError", f"{name}: required member {member} is missing")
        out[member] = _member(alg[member], kind, member)
    for member, kind in OPTIONAL.get((op, name), ()):
        if alg.get(member) is not None:
            out[member] = _member(alg[member], kind, member)
    return out


def _member(v: Any, kind: str, member: str) -> Any:
    if kind == "hash":
        return normalize("digest", {"name": v} if type(v) is str else v)["name"]
    if kind == "bytes":
        return from_wire(v, member)
    if kind == "string":
        if type(v) is not str:
            raise fail("TypeError", f"{member} is not a string")
        return v
    if kind == "key":  # a sealed CryptoKey handle; anything else was no CryptoKey
        if type(v) is not str:
            raise fail("TypeError", f"{member} is not of type 'CryptoKey'")
        return v
    if type(v) not in (int, float):
        raise fail("TypeError", f"{member} is not a number")
    return v


def enforce(v: Any, lo: int, hi: int, member: str) -> int:
    """[EnforceRange] integer conversion (the prelude sent a number)."""
    if type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf")):
        raise fail("TypeError", f"{member} is not a finite number")
    n = int(v)  # truncation toward zero, as ToIntegerOrInfinity
    if n < lo or n > hi:
        raise fail("TypeError", f"{member} is out of range")
    return n


# ---- usages --------------------------------------------------------------------------

SECRET_USAGES = {
    "HMAC": {"sign", "verify"},
    "AES-CTR": {"encrypt", "decrypt", "wrapKey", "unwrapKey"},
    "AES-CBC": {"encrypt", "decrypt", "wrapKey", "unwrapKey"},
    "AES-GCM": {"encrypt", "decrypt", "wrapKey", "unwrapKey"},
    "AES-KW": {"wrapKey", "unwrapKey"},
    "PBKDF2": {"deriveKey", "deriveBits"},
    "HKDF": {"deriveKey", "deriveBits"},
}
PAIR_USAGES = {  # (public, private)
    "ECDSA": ({"verify"}, {"sign"}),
    **{a: ({"verify"}, {"sign"}) for a in EDDSA},
    "RSASSA-PKCS1-v1_5": ({"verify"}, {"sign"}),
    "RSA-PSS": ({"verify"}, {"sign"}),
    "RSA-OAEP": ({"encrypt", "wrapKey"}, {"decrypt", "unwrapKey"}),
    "ECDH": (set(), {"deriveKey", "deriveBits"}),
    **{a: (set(), {"deriveKey", "deriveBits"}) for a in XDH},
}
#: every KeyUsage, in the enum's order; the last four (the Modern Algorithms draft's, for
#: KEMs) no algorithm here allows, so asking for them is a SyntaxError
ORDER = (
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "deriveKey",
    "deriveBits",
    "wrapKey",
    "unwrapKey",
    "encapsulateKey",
    "encapsulateBits",
    "decapsulateKey",
    "decapsulateBits",
)


def read_usages(v: Any) -> list[str]:
    """The keyUsages argument checked and deduplicated."""
    if type(v) is not list or any(u not in ORDER for u in v):
        raise fail("TypeError", "keyUsages contains an unknown usage")
    # deduplicated, in the order WebCrypto lists the recognised usages (as workerd)
    return [u for u in ORDER if u in v]


def check_usages(usages: list[str], allowed: set[str]) -> None:
    """SyntaxError unless every usage is one the key may have."""
    for u in usages:
        if u not in allowed:
            raise fail("SyntaxError", f"Cannot create a key with usage {u}")


def hash_of(name: str) -> hashes.HashAlgorithm:
    """A fresh ``cryptography`` hash for a normalised hash name."""
    return HASHES[name]()
