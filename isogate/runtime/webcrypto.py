"""``crypto.subtle`` on the host (issue 20): WebCrypto operations over ``cryptography``.

The prelude (``js/50-crypto.js``) hands each call over as plain data: a method name,
the algorithm's members read into a plain object, byte strings as Latin-1 text and keys
as opaque handles. Keys never leave the host: each sandbox (context) has its own
bounded :class:`KeyTable`, so a handle means nothing in another tenant's sandbox. The
executor runs :func:`run` in its own thread, counting the CPU time against the
invocation's limit (DESIGN.md, "Host operations").

Errors are WebCrypto's: a :class:`CryptoFailure` carries the DOMException (or
``TypeError``) name the prelude rejects the tenant's promise with.

Why one module of ~1,150 lines: it is one table of algorithms (WebCrypto's
``normalize``/usages rules, then import, export, generate, sign, verify, encrypt,
decrypt and derive over each algorithm), and every operation consults the same
algorithm and usage rules and the same per-sandbox :class:`KeyTable`; split by operation
it would scatter each algorithm's rules over several files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as _hmac
import json
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as apadding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

#: keys one sandbox may hold at once (handles are freed when the prelude's
#: FinalizationRegistry reports a CryptoKey collected, and with the sandbox)
MAX_KEYS = 4096
#: workerd's bound on PBKDF2 work (one call may not run unbounded CPU in the host)
MAX_PBKDF2_ITERATIONS = 100_000
#: RSA key generation runs uninterruptibly in the executor thread (8192 bits can take
#: seconds of CPU while the thread's other invocations wait): bounded like PBKDF2
MAX_RSA_BITS = 4096


class CryptoFailure(Exception):
    """A WebCrypto error: ``name`` is the DOMException name (or ``TypeError``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _fail(name: str, message: str) -> CryptoFailure:
    return CryptoFailure(name, message)


@dataclass(slots=True)
class Key:
    """A CryptoKey's host side: its metadata and the key material."""

    type: str  # "secret", "public", "private"
    extractable: bool
    algorithm: dict[str, Any]  # as the tenant sees it (bytes for publicExponent)
    usages: list[str]
    material: Any  # bytes for secret keys, a cryptography key object otherwise


@dataclass(slots=True)
class KeyTable:
    """The keys of one sandbox, by handle."""

    keys: dict[int, Key] = field(default_factory=dict)
    next: int = 1

    def add(self, key: Key) -> int:
        if len(self.keys) >= MAX_KEYS:
            raise _fail("OperationError", f"too many CryptoKeys alive (limit {MAX_KEYS})")
        handle = self.next
        self.next += 1
        self.keys[handle] = key
        return handle

    def get(self, handle: Any) -> Key:
        key = self.keys.get(handle) if type(handle) is int else None
        if key is None:
            raise _fail("InvalidAccessError", "the key is not valid here")
        return key


_tables: weakref.WeakKeyDictionary[Any, KeyTable] = weakref.WeakKeyDictionary()


def table_for(owner: Any) -> KeyTable:
    """The key table of ``owner`` (a sandbox); dropped with it."""
    table = _tables.get(owner)
    if table is None:
        table = _tables[owner] = KeyTable()
    return table


def drop(owner: Any) -> None:
    """Forget every key of ``owner`` (its sandbox is closing)."""
    _tables.pop(owner, None)


# ---- wire helpers --------------------------------------------------------------------


def _bytes(v: Any, what: str = "data") -> bytes:
    if type(v) is not str:
        raise _fail("TypeError", f"{what} is not a BufferSource")
    try:
        return v.encode("latin-1")
    except UnicodeEncodeError:
        raise _fail("TypeError", f"{what} is not a BufferSource") from None


def _wire(b: bytes) -> str:
    return b.decode("latin-1")


def _b64u_decode(s: Any, what: str) -> bytes:
    if type(s) is not str:
        raise _fail("DataError", f"JWK member {what} is not a string")
    if "=" in s or "+" in s or "/" in s:
        raise _fail("DataError", f"JWK member {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise _fail("DataError", f"JWK member {what} is not base64url") from None


def _b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _int_b64u(s: Any, what: str) -> int:
    return int.from_bytes(_b64u_decode(s, what), "big")


def _int_bytes(n: int, size: int | None = None) -> bytes:
    if size is None:
        size = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(size, "big")


# ---- algorithm normalisation --------------------------------------------------------

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

# the algorithms each operation knows (WebCrypto's registered algorithms)
OPS: dict[str, tuple[str, ...]] = {
    "digest": tuple(HASHES),
    "sign": ("HMAC", "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5", "RSA-PSS"),
    "verify": ("HMAC", "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5", "RSA-PSS"),
    "encrypt": ("AES-CTR", "AES-CBC", "AES-GCM", "RSA-OAEP"),
    "decrypt": ("AES-CTR", "AES-CBC", "AES-GCM", "RSA-OAEP"),
    "generateKey": ("HMAC", *AES, "ECDSA", "ECDH", "Ed25519", "X25519", *RSA),
    "importKey": ("HMAC", *AES, "ECDSA", "ECDH", "Ed25519", "X25519", *RSA, "PBKDF2", "HKDF"),
    "deriveBits": ("ECDH", "X25519", "PBKDF2", "HKDF"),
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
    ("deriveBits", "X25519"): (("public", "key"),),
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
}
_ALIASES = {name.upper(): name for names in OPS.values() for name in names}


def normalize(op: str, alg: Any) -> dict[str, Any]:
    """WebCrypto's "normalize an algorithm" over the plain data the prelude read."""
    if type(alg) is not dict or type(alg.get("name")) is not str:
        raise _fail("TypeError", "Algorithm: name is missing or not a string")
    name = _ALIASES.get(alg["name"].upper())
    if name is None or name not in OPS[op]:
        raise _fail("NotSupportedError", f"Unrecognized or unimplemented algorithm: {alg['name']}")
    out: dict[str, Any] = {"name": name}
    for member, kind in REQUIRED.get((op, name), ()):
        if alg.get(member) is None:
            raise _fail("TypeError", f"{name}: required member {member} is missing")
        out[member] = _member(alg[member], kind, member)
    for member, kind in OPTIONAL.get((op, name), ()):
        if alg.get(member) is not None:
            out[member] = _member(alg[member], kind, member)
    return out


def _member(v: Any, kind: str, member: str) -> Any:
    if kind == "hash":
        return normalize("digest", {"name": v} if type(v) is str else v)["name"]
    if kind == "bytes":
        return _bytes(v, member)
    if kind == "string":
        if type(v) is not str:
            raise _fail("TypeError", f"{member} is not a string")
        return v
    if kind == "key":
        return v
    if type(v) not in (int, float):
        raise _fail("TypeError", f"{member} is not a number")
    return v


def _enforce(v: Any, lo: int, hi: int, member: str) -> int:
    """[EnforceRange] integer conversion (the prelude sent a number)."""
    if type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf")):
        raise _fail("TypeError", f"{member} is not a finite number")
    n = int(v)  # truncation toward zero, as ToIntegerOrInfinity
    if n < lo or n > hi:
        raise _fail("TypeError", f"{member} is out of range")
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
    "Ed25519": ({"verify"}, {"sign"}),
    "RSASSA-PKCS1-v1_5": ({"verify"}, {"sign"}),
    "RSA-PSS": ({"verify"}, {"sign"}),
    "RSA-OAEP": ({"encrypt", "wrapKey"}, {"decrypt", "unwrapKey"}),
    "ECDH": (set(), {"deriveKey", "deriveBits"}),
    "X25519": (set(), {"deriveKey", "deriveBits"}),
}
ORDER = ("encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey")


def _usages(v: Any) -> list[str]:
    if type(v) is not list or any(u not in ORDER for u in v):
        raise _fail("TypeError", "keyUsages contains an unknown usage")
    # deduplicated, in the order WebCrypto lists the recognised usages (as workerd)
    return [u for u in ORDER if u in v]


def _check_usages(usages: list[str], allowed: set[str]) -> None:
    for u in usages:
        if u not in allowed:
            raise _fail("SyntaxError", f"Cannot create a key with usage {u}")


def _need(key: Key, alg_name: str, usage: str) -> None:
    if key.algorithm["name"] != alg_name:
        raise _fail(
            "InvalidAccessError", f"key algorithm {key.algorithm['name']} does not match {alg_name}"
        )
    if usage not in key.usages:
        raise _fail("InvalidAccessError", f"key does not support the '{usage}' operation")


# ---- key construction ------------------------------------------------------------------


def _rsa_alg(name: str, pub: rsa.RSAPublicKey, hash_name: str) -> dict[str, Any]:
    e = pub.public_numbers().e
    return {
        "name": name,
        "modulusLength": pub.key_size,
        "publicExponent": _int_bytes(e),
        "hash": {"name": hash_name},
    }


def _pub_of(material: Any) -> Any:
    return material.public_key() if hasattr(material, "public_key") else material


def _alg_for(name: str, n: dict[str, Any], material: Any) -> dict[str, Any]:
    if name in ("ECDSA", "ECDH"):
        return {"name": name, "namedCurve": n["namedCurve"]}
    if name in RSA:
        return _rsa_alg(name, _pub_of(material), n["hash"])
    return {"name": name}


def _curve_name(key: Any) -> str | None:
    for name, curve in CURVES.items():
        if key.curve.name == curve().name:
            return name
    return None


def _check_material(name: str, n: dict[str, Any], material: Any, private: bool) -> None:
    """The imported key is of the algorithm's kind (else DataError)."""
    kind: type[object]
    if name in ("ECDSA", "ECDH"):
        kind = ec.EllipticCurvePrivateKey if private else ec.EllipticCurvePublicKey
        if not isinstance(material, kind) or _curve_name(material) != n["namedCurve"]:
            raise _fail("DataError", "key data does not match the algorithm or curve")
    elif name in RSA:
        kind = rsa.RSAPrivateKey if private else rsa.RSAPublicKey
        if not isinstance(material, kind):
            raise _fail("DataError", "key data is not an RSA key")
    elif name == "Ed25519":
        kind = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
        if not isinstance(material, kind):
            raise _fail("DataError", "key data is not an Ed25519 key")
    elif name == "X25519":
        kind = x25519.X25519PrivateKey if private else x25519.X25519PublicKey
        if not isinstance(material, kind):
            raise _fail("DataError", "key data is not an X25519 key")


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


def _jwk_common(jwk: dict[str, Any], kty: str, usages: list[str], extractable: bool) -> None:
    if jwk.get("kty") != kty:
        raise _fail("DataError", f"JWK kty must be {kty}")
    use = jwk.get("use")
    if use is not None and usages and use != ("enc" if _is_enc(usages) else "sig"):
        raise _fail("DataError", "JWK use does not match the usages")
    ops = jwk.get("key_ops")
    if ops is not None:
        if type(ops) is not list or len(set(ops)) != len(ops):
            raise _fail("DataError", "JWK key_ops is invalid")
        if any(u not in ops for u in usages):
            raise _fail("DataError", "JWK key_ops does not allow the usages")
    if jwk.get("ext") is False and extractable:
        raise _fail("DataError", "JWK is not extractable")


def _is_enc(usages: list[str]) -> bool:
    return any(u in ("encrypt", "decrypt", "wrapKey", "unwrapKey") for u in usages)


def import_key(fmt: str, data: Any, n: dict[str, Any], extractable: bool, usages: list[str]) -> Key:
    """WebCrypto's importKey steps for the normalised algorithm ``n``."""
    name = n["name"]
    if fmt not in ("raw", "jwk", "pkcs8", "spki"):
        raise _fail("TypeError", f"unknown key format {fmt}")
    if fmt == "jwk":
        if type(data) is not dict:
            raise _fail("TypeError", "key data must be a JsonWebKey")
    elif type(data) is not str:
        raise _fail("TypeError", "key data must be a BufferSource")
    if name in SECRET_USAGES:
        _check_usages(usages, SECRET_USAGES[name])
        return _import_secret(fmt, data, n, extractable, usages)
    pub_allowed, priv_allowed = PAIR_USAGES[name]
    if name in ("ECDSA", "ECDH") and n["namedCurve"] not in CURVES:
        raise _fail("NotSupportedError", f"curve {n['namedCurve']} is not supported")
    material: Any
    if fmt == "raw":
        if name in RSA:
            raise _fail("NotSupportedError", f"{name} keys cannot be imported as raw")
        _check_usages(usages, pub_allowed)
        raw = _bytes(data)
        try:
            if name in ("ECDSA", "ECDH"):
                material = ec.EllipticCurvePublicKey.from_encoded_point(
                    CURVES[n["namedCurve"]](), raw
                )
            elif name == "Ed25519":
                material = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            else:
                material = x25519.X25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise _fail("DataError", "invalid raw public key") from None
        return Key("public", extractable, _alg_for(name, n, material), usages, material)
    if fmt == "spki":
        _check_usages(usages, pub_allowed)
        try:
            material = serialization.load_der_public_key(_bytes(data))
        except (ValueError, TypeError, Exception):
            raise _fail("DataError", "invalid SPKI key data") from None
        _check_material(name, n, material, private=False)
        return Key("public", extractable, _alg_for(name, n, material), usages, material)
    if fmt == "pkcs8":
        _check_usages(usages, priv_allowed)
        try:
            material = serialization.load_der_private_key(_bytes(data), None)
        except (ValueError, TypeError, Exception):
            raise _fail("DataError", "invalid PKCS #8 key data") from None
        _check_material(name, n, material, private=True)
        key = Key("private", extractable, _alg_for(name, n, material), usages, material)
        if not usages:
            raise _fail("SyntaxError", "usages cannot be empty for a private key")
        return key
    # jwk
    private = "d" in data
    _check_usages(usages, priv_allowed if private else pub_allowed)
    if name in ("ECDSA", "ECDH"):
        _jwk_common(data, "EC", usages, extractable)
        if data.get("crv") != n["namedCurve"]:
            raise _fail("DataError", "JWK crv does not match namedCurve")
        if (
            name == "ECDSA"
            and data.get("alg") is not None
            and data["alg"]
            != {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[n["namedCurve"]]
        ):
            raise _fail("DataError", "JWK alg does not match the curve")
        curve = CURVES[n["namedCurve"]]()
        size = CURVE_BYTES[n["namedCurve"]]
        xb, yb = _b64u_decode(data.get("x"), "x"), _b64u_decode(data.get("y"), "y")
        if len(xb) != size or len(yb) != size:
            raise _fail("DataError", "JWK x or y has the wrong length")
        try:
            pubn = ec.EllipticCurvePublicNumbers(
                int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), curve
            )
            if private:
                db = _b64u_decode(data["d"], "d")
                if len(db) != size:
                    raise _fail("DataError", "JWK d has the wrong length")
                material = ec.EllipticCurvePrivateNumbers(
                    int.from_bytes(db, "big"), pubn
                ).private_key()
            else:
                material = pubn.public_key()
        except ValueError:
            raise _fail("DataError", "invalid EC JWK") from None
    elif name in ("Ed25519", "X25519"):
        _jwk_common(data, "OKP", usages, extractable)
        if data.get("crv") != name:
            raise _fail("DataError", f"JWK crv must be {name}")
        if name == "Ed25519" and data.get("alg") not in (None, "EdDSA", "Ed25519"):
            raise _fail("DataError", "JWK alg must be EdDSA")
        xb = _b64u_decode(data.get("x"), "x")
        mod = ed25519 if name == "Ed25519" else x25519
        priv_cls = getattr(mod, f"{name}PrivateKey")
        pub_cls = getattr(mod, f"{name}PublicKey")
        try:
            if private:
                material = priv_cls.from_private_bytes(_b64u_decode(data["d"], "d"))
                if material.public_key().public_bytes_raw() != xb:
                    raise _fail("DataError", "JWK x does not match d")
            else:
                material = pub_cls.from_public_bytes(xb)
        except ValueError:
            raise _fail("DataError", f"invalid {name} JWK") from None
    else:  # RSA
        _jwk_common(data, "RSA", usages, extractable)
        alg = data.get("alg")
        if alg is not None and alg != JWK_ALG[(name, n["hash"])]:
            raise _fail("DataError", "JWK alg does not match the algorithm")
        try:
            rsa_pub = rsa.RSAPublicNumbers(
                _int_b64u(data.get("e"), "e"), _int_b64u(data.get("n"), "n")
            )
            if private:
                if "oth" in data:
                    raise _fail("NotSupportedError", "multi-prime RSA keys are not supported")
                fields = [_int_b64u(data.get(k), k) for k in ("d", "p", "q", "dp", "dq", "qi")]
                d, p, q, dp, dq, qi = fields
                material = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa_pub).private_key()
            else:
                material = rsa_pub.public_key()
        except ValueError:
            raise _fail("DataError", "invalid RSA JWK") from None
    if private and not usages:
        raise _fail("SyntaxError", "usages cannot be empty for a private key")
    return Key(
        "private" if private else "public",
        extractable,
        _alg_for(name, n, material),
        usages,
        material,
    )


def _import_secret(
    fmt: str, data: Any, n: dict[str, Any], extractable: bool, usages: list[str]
) -> Key:
    name = n["name"]
    if name in ("PBKDF2", "HKDF"):
        if fmt != "raw":
            raise _fail("NotSupportedError", f"{name} keys can only be imported as raw")
        if extractable:
            raise _fail("SyntaxError", f"{name} keys cannot be extractable")
        raw = _bytes(data)
        if not usages:
            raise _fail("SyntaxError", "usages cannot be empty")
        return Key("secret", False, {"name": name}, usages, raw)
    if fmt in ("pkcs8", "spki"):
        raise _fail("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    if fmt == "raw":
        raw = _bytes(data)
    else:
        _jwk_common(data, "oct", usages, extractable)
        raw = _b64u_decode(data.get("k"), "k")
    if name == "HMAC":
        if (
            fmt == "jwk"
            and data.get("alg") is not None
            and data["alg"] != JWK_ALG[("HMAC", n["hash"])]
        ):
            raise _fail("DataError", "JWK alg does not match the hash")
        bits = len(raw) * 8
        if bits == 0:
            raise _fail("DataError", "HMAC key data must not be empty")
        length = bits
        if "length" in n:
            length = _enforce(n["length"], 0, 2**32 - 1, "length")
            if length > bits or length <= bits - 8:
                raise _fail("DataError", "HMAC length does not match the key data")
        alg = {"name": "HMAC", "hash": {"name": n["hash"]}, "length": length}
    else:
        if len(raw) not in (16, 24, 32):
            raise _fail("DataError", "AES key data must be 128, 192 or 256 bits")
        if (
            fmt == "jwk"
            and data.get("alg") is not None
            and data["alg"] != f"A{len(raw) * 8}{AES_JWK[name]}"
        ):
            raise _fail("DataError", "JWK alg does not match the key")
        alg = {"name": name, "length": len(raw) * 8}
    if not usages:
        raise _fail("SyntaxError", "usages cannot be empty")
    return Key("secret", extractable, alg, usages, raw)


def export_key(fmt: str, key: Key) -> Any:
    """WebCrypto's exportKey steps: bytes, or a JWK dict (members in workerd's order)."""
    name = key.algorithm["name"]
    if fmt not in ("raw", "jwk", "pkcs8", "spki"):
        raise _fail("TypeError", f"unknown key format {fmt}")
    if not key.extractable:  # checked first, as workerd does
        raise _fail("InvalidAccessError", "key is not extractable")
    if name in ("PBKDF2", "HKDF"):
        raise _fail("NotSupportedError", f"{name} keys cannot be exported")
    m = key.material
    jwk: dict[str, Any] = {}
    if key.type == "secret":
        if fmt == "raw":
            return m
        if fmt != "jwk":
            raise _fail("NotSupportedError", f"secret keys cannot be exported as {fmt}")
        if name == "HMAC":
            alg = JWK_ALG[("HMAC", key.algorithm["hash"]["name"])]
        else:
            alg = f"A{len(m) * 8}{AES_JWK[name]}"
        return {
            "kty": "oct",
            "key_ops": list(key.usages),
            "alg": alg,
            "ext": key.extractable,
            "k": _b64u(m),
        }
    if fmt == "raw":
        if key.type != "public" or name in RSA:
            raise _fail("InvalidAccessError", "only public EC/OKP keys export as raw")
        if name in ("ECDSA", "ECDH"):
            return m.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return m.public_bytes_raw()
    if fmt == "spki":
        if key.type != "public":
            raise _fail("InvalidAccessError", "only public keys export as spki")
        return m.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if fmt == "pkcs8":
        if key.type != "private":
            raise _fail("InvalidAccessError", "only private keys export as pkcs8")
        return m.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    # jwk
    if name in ("ECDSA", "ECDH"):
        crv = key.algorithm["namedCurve"]
        size = CURVE_BYTES[crv]
        pubn = _pub_of(m).public_numbers()
        jwk = {
            "kty": "EC",
            "key_ops": list(key.usages),
            "ext": key.extractable,
            "crv": crv,
            "x": _b64u(_int_bytes(pubn.x, size)),
            "y": _b64u(_int_bytes(pubn.y, size)),
        }
        if key.type == "private":
            jwk["d"] = _b64u(_int_bytes(m.private_numbers().private_value, size))
    elif name in ("Ed25519", "X25519"):
        jwk = {"kty": "OKP", "key_ops": list(key.usages)}
        if name == "Ed25519":
            jwk["alg"] = "EdDSA"
        jwk.update(ext=key.extractable, crv=name, x=_b64u(_pub_of(m).public_bytes_raw()))
        if key.type == "private":
            jwk["d"] = _b64u(m.private_bytes_raw())
    else:
        pubn = _pub_of(m).public_numbers()
        jwk = {
            "kty": "RSA",
            "key_ops": list(key.usages),
            "alg": JWK_ALG[(name, key.algorithm["hash"]["name"])],
            "ext": key.extractable,
            "n": _b64u(_int_bytes(pubn.n)),
            "e": _b64u(_int_bytes(pubn.e)),
        }
        if key.type == "private":
            pn = m.private_numbers()
            for k, v in (
                ("d", pn.d),
                ("p", pn.p),
                ("q", pn.q),
                ("dp", pn.dmp1),
                ("dq", pn.dmq1),
                ("qi", pn.iqmp),
            ):
                jwk[k] = _b64u(_int_bytes(v))
    return jwk


def generate_key(n: dict[str, Any], extractable: bool, usages: list[str]) -> Key | tuple[Key, Key]:
    name = n["name"]
    if name in SECRET_USAGES:
        _check_usages(usages, SECRET_USAGES[name])
        if name == "HMAC":
            if "length" in n:
                length = _enforce(n["length"], 0, 2**32 - 1, "length")
                if length == 0:
                    raise _fail("OperationError", "HMAC key length must not be zero")
            else:
                length = HASH_BLOCK_BITS[n["hash"]]
            raw = bytearray(os.urandom((length + 7) // 8))
            if length % 8:
                raw[-1] &= (0xFF << (8 - length % 8)) & 0xFF
            alg = {"name": "HMAC", "hash": {"name": n["hash"]}, "length": length}
            material = bytes(raw)
        else:
            length = _enforce(n["length"], 0, 65535, "length")
            if length not in (128, 192, 256):
                raise _fail("OperationError", "AES key length must be 128, 192 or 256 bits")
            alg = {"name": name, "length": length}
            material = os.urandom(length // 8)
        if not usages:
            raise _fail("SyntaxError", "usages cannot be empty")
        return Key("secret", extractable, alg, usages, material)
    pub_allowed, priv_allowed = PAIR_USAGES[name]
    _check_usages(usages, pub_allowed | priv_allowed)
    pub_usages = [u for u in usages if u in pub_allowed]
    priv_usages = [u for u in usages if u in priv_allowed]
    # (an RSA key is not generated only to be refused: same answer, no CPU spent)
    empty_private = not priv_usages
    private: (
        ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | rsa.RSAPrivateKey
    )
    if name in ("ECDSA", "ECDH"):
        if n["namedCurve"] not in CURVES:
            raise _fail("NotSupportedError", f"curve {n['namedCurve']} is not supported")
        private = ec.generate_private_key(CURVES[n["namedCurve"]]())
    elif name == "Ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif name == "X25519":
        private = x25519.X25519PrivateKey.generate()
    else:
        bits = _enforce(n["modulusLength"], 0, 2**32 - 1, "modulusLength")
        e = int.from_bytes(n["publicExponent"], "big")
        if e not in (3, 65537):
            raise _fail("OperationError", "publicExponent must be 3 or 65537")
        if bits < 256 or bits > MAX_RSA_BITS or bits % 8:
            raise _fail("OperationError", f"modulusLength must be 256..{MAX_RSA_BITS}")
        if empty_private:
            raise _fail("SyntaxError", "usages cannot be empty for a private key")
        try:
            private = rsa.generate_private_key(e, bits)
        except ValueError as exc:
            raise _fail("OperationError", str(exc)) from None
    alg = _alg_for(name, n, private)
    if empty_private:
        raise _fail("SyntaxError", "usages cannot be empty for a private key")
    return (
        Key("public", True, alg, pub_usages, private.public_key()),
        Key("private", extractable, alg, priv_usages, private),
    )


# ---- operations ---------------------------------------------------------------------------


def _hash(name: str) -> hashes.HashAlgorithm:
    return HASHES[name]()


def _ec_sig_size(key: Key) -> int:
    return CURVE_BYTES[key.algorithm["namedCurve"]]


def _pss(n: dict[str, Any], hash_name: str) -> apadding.PSS:
    salt = _enforce(n["saltLength"], 0, 2**32 - 1, "saltLength")
    return apadding.PSS(apadding.MGF1(_hash(hash_name)), salt)


def sign(n: dict[str, Any], key: Key, data: bytes) -> bytes:
    name = n["name"]
    _need(key, name, "sign")
    m = key.material
    if name == "HMAC":
        return _hmac.new(m, data, key.algorithm["hash"]["name"].replace("-", "").lower()).digest()
    if key.type != "private":
        raise _fail("InvalidAccessError", "signing needs a private key")
    if name == "ECDSA":
        der = m.sign(data, ec.ECDSA(_hash(n["hash"])))
        r, s = decode_dss_signature(der)
        size = _ec_sig_size(key)
        return _int_bytes(r, size) + _int_bytes(s, size)
    if name == "Ed25519":
        sig: bytes = m.sign(data)
        return sig
    h = _hash(key.algorithm["hash"]["name"])
    try:
        if name == "RSA-PSS":
            sig = m.sign(data, _pss(n, key.algorithm["hash"]["name"]), h)
            return sig
        sig = m.sign(data, apadding.PKCS1v15(), h)
        return sig
    except ValueError as exc:
        raise _fail("OperationError", str(exc)) from None


def verify(n: dict[str, Any], key: Key, sig: bytes, data: bytes) -> bool:
    name = n["name"]
    _need(key, name, "verify")
    m = key.material
    if name == "HMAC":
        mac = _hmac.new(m, data, key.algorithm["hash"]["name"].replace("-", "").lower()).digest()
        return _hmac.compare_digest(mac, sig)
    if key.type != "public":
        raise _fail("InvalidAccessError", "verifying needs a public key")
    try:
        if name == "ECDSA":
            size = _ec_sig_size(key)
            if len(sig) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
            )
            m.verify(der, data, ec.ECDSA(_hash(n["hash"])))
        elif name == "Ed25519":
            m.verify(sig, data)
        elif name == "RSA-PSS":
            m.verify(
                sig,
                data,
                _pss(n, key.algorithm["hash"]["name"]),
                _hash(key.algorithm["hash"]["name"]),
            )
        else:
            m.verify(sig, data, apadding.PKCS1v15(), _hash(key.algorithm["hash"]["name"]))
    except (InvalidSignature, ValueError):
        return False
    return True


def _aes_ctr(key: bytes, counter: bytes, length: int, data: bytes) -> bytes:
    if len(counter) != 16:
        raise _fail("OperationError", "AES-CTR counter must be 16 bytes")
    if length == 0 or length > 128:
        raise _fail("OperationError", "AES-CTR length must be 1..128")
    blocks = (len(data) + 15) // 16
    c = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    if blocks > (1 << length):
        raise _fail("OperationError", "AES-CTR counter would repeat")
    before_wrap = (1 << length) - (c & mask)
    first = data[: before_wrap * 16]
    enc = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    out = enc.update(first) + enc.finalize()
    rest = data[before_wrap * 16 :]
    if rest:
        wrapped = (c & ~mask).to_bytes(16, "big")
        enc = Cipher(algorithms.AES(key), modes.CTR(wrapped)).encryptor()
        out += enc.update(rest) + enc.finalize()
    return out


def _gcm_tag(n: dict[str, Any]) -> int:
    tag = _enforce(n.get("tagLength", 128), 0, 255, "tagLength")
    if tag not in (32, 64, 96, 104, 112, 120, 128):
        raise _fail("OperationError", "invalid AES-GCM tagLength")
    return tag // 8


def _oaep(n: dict[str, Any], key: Key) -> apadding.OAEP:
    h = key.algorithm["hash"]["name"]
    return apadding.OAEP(apadding.MGF1(_hash(h)), _hash(h), n.get("label") or None)


def encrypt(n: dict[str, Any], key: Key, data: bytes, usage: str = "encrypt") -> bytes:
    name = n["name"]
    _need(key, name, usage)
    m = key.material
    if name == "AES-CTR":
        return _aes_ctr(m, n["counter"], _enforce(n["length"], 0, 255, "length"), data)
    if name == "AES-CBC":
        if len(n["iv"]) != 16:
            raise _fail("OperationError", "AES-CBC iv must be 16 bytes")
        padder = padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        enc = Cipher(algorithms.AES(m), modes.CBC(n["iv"])).encryptor()
        return enc.update(padded) + enc.finalize()
    if name == "AES-GCM":
        tag = _gcm_tag(n)
        iv = n["iv"]
        if not iv:
            raise _fail("OperationError", "AES-GCM iv must not be empty")
        try:
            enc = Cipher(algorithms.AES(m), modes.GCM(iv)).encryptor()
        except ValueError as exc:
            raise _fail("OperationError", str(exc)) from None
        if n.get("additionalData"):
            enc.authenticate_additional_data(n["additionalData"])
        out = enc.update(data) + enc.finalize()
        return out + enc.tag[:tag]
    if name == "RSA-OAEP":
        if key.type != "public":
            raise _fail("InvalidAccessError", "encrypting needs a public key")
        try:
            sealed: bytes = m.encrypt(data, _oaep(n, key))
            return sealed
        except ValueError as exc:
            raise _fail("OperationError", str(exc)) from None
    # AES-KW (wrapKey only)
    if len(data) % 8 or len(data) < 16:
        raise _fail("OperationError", "AES-KW data must be a multiple of 8 bytes")
    return keywrap.aes_key_wrap(m, data)


def decrypt(n: dict[str, Any], key: Key, data: bytes, usage: str = "decrypt") -> bytes:
    name = n["name"]
    _need(key, name, usage)
    m = key.material
    if name == "AES-CTR":
        return _aes_ctr(m, n["counter"], _enforce(n["length"], 0, 255, "length"), data)
    if name == "AES-CBC":
        if len(n["iv"]) != 16:
            raise _fail("OperationError", "AES-CBC iv must be 16 bytes")
        if not data or len(data) % 16:
            raise _fail("OperationError", "AES-CBC data is not a whole number of blocks")
        dec = Cipher(algorithms.AES(m), modes.CBC(n["iv"])).decryptor()
        padded = dec.update(data) + dec.finalize()
        try:
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise _fail("OperationError", "AES-CBC padding is invalid") from None
    if name == "AES-GCM":
        tag = _gcm_tag(n)
        iv = n["iv"]
        if len(data) < tag:
            raise _fail("OperationError", "AES-GCM data is shorter than the tag")
        if not iv:
            raise _fail("OperationError", "AES-GCM iv must not be empty")
        try:
            dec = Cipher(
                algorithms.AES(m), modes.GCM(iv, data[len(data) - tag :], min_tag_length=4)
            ).decryptor()
            if n.get("additionalData"):
                dec.authenticate_additional_data(n["additionalData"])
            return dec.update(data[: len(data) - tag]) + dec.finalize()
        except (InvalidTag, ValueError):
            raise _fail("OperationError", "AES-GCM decryption failed") from None
    if name == "RSA-OAEP":
        if key.type != "private":
            raise _fail("InvalidAccessError", "decrypting needs a private key")
        try:
            plain: bytes = m.decrypt(data, _oaep(n, key))
            return plain
        except ValueError:
            raise _fail("OperationError", "RSA-OAEP decryption failed") from None
    try:
        return keywrap.aes_key_unwrap(m, data)
    except (keywrap.InvalidUnwrap, ValueError):
        raise _fail("OperationError", "AES-KW unwrap failed") from None


def derive_bits(
    n: dict[str, Any], key: Key, length: Any, table: KeyTable, usage: str = "deriveBits"
) -> bytes:
    name = n["name"]
    _need(key, name, usage)
    if length is not None:
        length = _enforce(length, 0, 2**32 - 1, "length")
    if name in ("ECDH", "X25519"):
        pub = table.get(n["public"])
        if pub.type != "public":
            raise _fail("InvalidAccessError", "the public member must be a public key")
        if pub.algorithm["name"] != name:
            raise _fail("InvalidAccessError", "the public key's algorithm does not match")
        if key.type != "private":
            raise _fail("InvalidAccessError", "the base key must be a private key")
        if name == "ECDH":
            if pub.algorithm["namedCurve"] != key.algorithm["namedCurve"]:
                raise _fail("InvalidAccessError", "the public key's curve does not match")
            secret: bytes = key.material.exchange(ec.ECDH(), pub.material)
        else:
            try:
                secret = key.material.exchange(pub.material)
            except ValueError:
                raise _fail("OperationError", "X25519 produced an all-zero secret") from None
            if secret == bytes(len(secret)):
                raise _fail("OperationError", "X25519 produced an all-zero secret")
        if length is None:
            return secret
        if length > len(secret) * 8:
            raise _fail("OperationError", "length is larger than the derived secret")
        out = bytearray(secret[: (length + 7) // 8])
        if length % 8:
            out[-1] &= (0xFF << (8 - length % 8)) & 0xFF
        return bytes(out)
    if length is None or length % 8:
        raise _fail("OperationError", "length must be a non-null multiple of 8")
    if length == 0:
        return b""
    if name == "PBKDF2":
        iterations = _enforce(n["iterations"], 0, 2**32 - 1, "iterations")
        if iterations == 0:
            raise _fail("OperationError", "iterations must not be zero")
        if iterations > MAX_PBKDF2_ITERATIONS:
            raise _fail(
                "NotSupportedError",
                f"PBKDF2 iteration counts above {MAX_PBKDF2_ITERATIONS} are not supported",
            )
        return PBKDF2HMAC(_hash(n["hash"]), length // 8, n["salt"], iterations).derive(key.material)
    try:
        return HKDF(_hash(n["hash"]), length // 8, n["salt"], n["info"]).derive(key.material)
    except ValueError as exc:
        raise _fail("OperationError", str(exc)) from None


def key_length(n: dict[str, Any]) -> int | None:
    """WebCrypto's "get key length" for a deriveKey target."""
    name = n["name"]
    if name in AES:
        length = _enforce(n["length"], 0, 65535, "length")
        if length not in (128, 192, 256):
            raise _fail("OperationError", "AES key length must be 128, 192 or 256 bits")
        return length
    if name == "HMAC":
        if "length" in n:
            length = _enforce(n["length"], 0, 2**32 - 1, "length")
            if length == 0:
                raise _fail("TypeError", "HMAC length must not be zero")
            return length
        return HASH_BLOCK_BITS[n["hash"]]
    return None


# ---- the dispatcher ---------------------------------------------------------------------


def _key_info(table: KeyTable, key: Key) -> dict[str, Any]:
    alg = dict(key.algorithm)
    if "publicExponent" in alg:
        alg["publicExponent"] = _wire(alg["publicExponent"])
    return {
        "h": table.add(key),
        "t": key.type,
        "x": key.extractable,
        "a": alg,
        "u": list(key.usages),
    }


def _out(v: Any) -> Any:
    return {"b": _wire(v)} if isinstance(v, bytes) else {"j": v}


def _normalize_either(ops: tuple[str, str], alg: Any) -> dict[str, Any]:
    try:
        return normalize(ops[0], alg)
    except CryptoFailure as exc:
        if exc.name != "NotSupportedError":
            raise
        return normalize(ops[1], alg)


def call(table: KeyTable, a: dict[str, Any]) -> Any:
    """One ``crypto.subtle`` method on plain data; its result as plain data."""
    method = a.get("m")
    if method == "digest":
        n = normalize("digest", a.get("alg"))
        digest = hashlib.new(n["name"].replace("-", "").lower(), _bytes(a.get("d")))
        return {"b": _wire(digest.digest())}
    if method in ("sign", "verify", "encrypt", "decrypt"):
        n = normalize(method, a.get("alg"))
        key = table.get(a.get("k"))
        data = _bytes(a.get("d"))
        if method == "sign":
            return _out(sign(n, key, data))
        if method == "verify":
            return {"j": verify(n, key, _bytes(a.get("s")), data)}
        if method == "encrypt":
            return _out(encrypt(n, key, data))
        return _out(decrypt(n, key, data))
    if method == "generateKey":
        n = normalize("generateKey", a.get("alg"))
        usages = _usages(a.get("u"))
        made = generate_key(n, bool(a.get("x")), usages)
        if isinstance(made, tuple):
            return {"j": {"pair": [_key_info(table, made[0]), _key_info(table, made[1])]}}
        return {"j": {"key": _key_info(table, made)}}
    if method == "importKey":
        n = normalize("importKey", a.get("alg"))
        usages = _usages(a.get("u"))
        return {
            "j": {
                "key": _key_info(
                    table, import_key(a.get("f", ""), a.get("d"), n, bool(a.get("x")), usages)
                )
            }
        }
    if method == "exportKey":
        return _out(export_key(a.get("f", ""), table.get(a.get("k"))))
    if method == "deriveBits":
        n = normalize("deriveBits", a.get("alg"))
        return _out(derive_bits(n, table.get(a.get("k")), a.get("l"), table))
    if method == "deriveKey":
        n = normalize("deriveBits", a.get("alg"))
        target = normalize("importKey", a.get("t"))
        length_alg = normalize("get key length", a.get("t"))
        usages = _usages(a.get("u"))
        base = table.get(a.get("k"))
        _need(base, n["name"], "deriveKey")
        length = key_length(length_alg)
        bits = derive_bits(n, base, length, table, usage="deriveKey")
        key = import_key("raw", _wire(bits), target, bool(a.get("x")), usages)
        return {"j": {"key": _key_info(table, key)}}
    if method == "wrapKey":
        n = _normalize_either(("wrapKey", "encrypt"), a.get("alg"))
        wrapping = table.get(a.get("w"))
        _need(wrapping, n["name"], "wrapKey")
        key = table.get(a.get("k"))
        fmt = a.get("f", "")
        exported = export_key(fmt, key)
        data = json.dumps(exported).encode() if fmt == "jwk" else exported
        return _out(encrypt(n, wrapping, data, usage="wrapKey"))
    if method == "unwrapKey":
        n = _normalize_either(("unwrapKey", "decrypt"), a.get("alg"))
        target = normalize("importKey", a.get("t"))
        usages = _usages(a.get("u"))
        unwrapping = table.get(a.get("w"))
        _need(unwrapping, n["name"], "unwrapKey")
        fmt = a.get("f", "")
        plain = decrypt(n, unwrapping, _bytes(a.get("d")), usage="unwrapKey")
        unwrapped: Any = _wire(plain)
        if fmt == "jwk":
            try:
                unwrapped = json.loads(plain.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise _fail("DataError", "the unwrapped key is not a JWK") from None
            if type(unwrapped) is not dict:
                raise _fail("DataError", "the unwrapped key is not a JWK")
        key = import_key(fmt, unwrapped, target, bool(a.get("x")), usages)
        return {"j": {"key": _key_info(table, key)}}
    raise _fail("NotSupportedError", f"unknown crypto.subtle method {method}")


def run(owner: Any, args: Any) -> str:
    """Perform one operation for sandbox ``owner``; the delivery payload (JSON text)."""
    table = table_for(owner)
    try:
        if type(args) is not dict:
            raise _fail("TypeError", "malformed crypto operation")
        for handle in args.get("free") or ():
            if type(handle) is int:
                table.keys.pop(handle, None)
        if args.get("m") == "free":
            result: Any = {"j": None}
        else:
            result = call(table, args)
    except CryptoFailure as exc:
        result = {"x": [exc.name, exc.message]}
    except Exception as exc:  # the executor thread is shared by tenants
        # malformed input the checks above did not name, or a refusal of the library's
        # (e.g. UnsupportedAlgorithm): an OperationError for this call, never a crash
        result = {"x": ["OperationError", type(exc).__name__]}
    return json.dumps({"v": result}, ensure_ascii=False)
