"""``importKey``: a :class:`~.keys.Key` from raw, SPKI, PKCS #8 or JWK data.

Also the path of ``deriveKey`` (the derived bits imported as raw) and ``unwrapKey``.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .algorithms import (
    CURVE_BYTES,
    CURVES,
    OKP,
    PAIR_USAGES,
    RSA,
    SECRET_USAGES,
    check_usages,
    enforce,
)
from .codec import b64u_decode, from_wire, int_b64u
from .errors import fail
from .jwk import AES_JWK, JWK_ALG, OKP_JWK_ALG, check_jwk
from .keys import Key, alg_for


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
            raise fail("DataError", "key data does not match the algorithm or curve")
    elif name in RSA:
        kind = rsa.RSAPrivateKey if private else rsa.RSAPublicKey
        if not isinstance(material, kind):
            raise fail("DataError", "key data is not an RSA key")
    elif name in OKP:
        kind = OKP[name][0 if private else 1]
        if not isinstance(material, kind):
            raise fail("DataError", f"key data is not an {name} key")


def import_key(fmt: str, data: Any, n: dict[str, Any], extractable: bool, usages: list[str]) -> Key:
    """WebCrypto's importKey steps for the normalised algorithm ``n``."""
    name = n["name"]
    if fmt not in ("raw", "jwk", "pkcs8", "spki"):
        raise fail("TypeError", f"unknown key format {fmt}")
    if fmt == "jwk":
        if type(data) is not dict:
            raise fail("TypeError", "key data must be a JsonWebKey")
    elif type(data) is not str:
        raise fail("TypeError", "key data must be a BufferSource")
    if name in SECRET_USAGES:
        check_usages(usages, SECRET_USAGES[name])
        return _import_secret(fmt, data, n, extractable, usages)
    pub_allowed, priv_allowed = PAIR_USAGES[name]
    if name in ("ECDSA", "ECDH") and n["namedCurve"] not in CURVES:
        raise fail("NotSupportedError", f"curve {n['namedCurve']} is not supported")
    material: Any
    if fmt == "raw":
        if name in RSA:
            raise fail("NotSupportedError", f"{name} keys cannot be imported as raw")
        check_usages(usages, pub_allowed)
        raw = from_wire(data)
        try:
            if name in ("ECDSA", "ECDH"):
                material = ec.EllipticCurvePublicKey.from_encoded_point(
                    CURVES[n["namedCurve"]](), raw
                )
            else:  # the key's length is checked by the class (DataError if wrong)
                material = OKP[name][1].from_public_bytes(raw)
        except ValueError:
            raise fail("DataError", "invalid raw public key") from None
        return Key("public", extractable, alg_for(name, n, material), usages, material)
    if fmt == "spki":
        check_usages(usages, pub_allowed)
        try:
            material = serialization.load_der_public_key(from_wire(data))
        except (ValueError, TypeError, Exception):
            raise fail("DataError", "invalid SPKI key data") from None
        _check_material(name, n, material, private=False)
        return Key("public", extractable, alg_for(name, n, material), usages, material)
    if fmt == "pkcs8":
        check_usages(usages, priv_allowed)
        try:
            material = serialization.load_der_private_key(from_wire(data), None)
        except (ValueError, TypeError, Exception):
            raise fail("DataError", "invalid PKCS #8 key data") from None
        _check_material(name, n, material, private=True)
        key = Key("private", extractable, alg_for(name, n, material), usages, material)
        if not usages:
            raise fail("SyntaxError", "usages cannot be empty for a private key")
        return key
    # jwk
    private = "d" in data
    check_usages(usages, priv_allowed if private else pub_allowed)
    if name in ("ECDSA", "ECDH"):
        check_jwk(data, "EC", usages, extractable)
        if data.get("crv") != n["namedCurve"]:
            raise fail("DataError", "JWK crv does not match namedCurve")
        if (
            name == "ECDSA"
            and data.get("alg") is not None
            and data["alg"]
            != {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[n["namedCurve"]]
        ):
            raise fail("DataError", "JWK alg does not match the curve")
        curve = CURVES[n["namedCurve"]]()
        size = CURVE_BYTES[n["namedCurve"]]
        xb, yb = b64u_decode(data.get("x"), "x"), b64u_decode(data.get("y"), "y")
        if len(xb) != size or len(yb) != size:
            raise fail("DataError", "JWK x or y has the wrong length")
        try:
            pubn = ec.EllipticCurvePublicNumbers(
                int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), curve
            )
            if private:
                db = b64u_decode(data["d"], "d")
                if len(db) != size:
                    raise fail("DataError", "JWK d has the wrong length")
                material = ec.EllipticCurvePrivateNumbers(
                    int.from_bytes(db, "big"), pubn
                ).private_key()
            else:
                material = pubn.public_key()
        except ValueError:
            raise fail("DataError", "invalid EC JWK") from None
    elif name in OKP:
        check_jwk(data, "OKP", usages, extractable)
        if data.get("crv") != name:
            raise fail("DataError", f"JWK crv must be {name}")
        # a signing curve's alg is its own name or the older "EdDSA"; X25519/X448 have none
        if name in OKP_JWK_ALG and data.get("alg") not in (None, "EdDSA", name):
            raise fail("DataError", f"JWK alg must be {name} or EdDSA")
        xb = b64u_decode(data.get("x"), "x")
        priv_cls, pub_cls = OKP[name]
        try:
            if private:
                material = priv_cls.from_private_bytes(b64u_decode(data["d"], "d"))
                if material.public_key().public_bytes_raw() != xb:
                    raise fail("DataError", "JWK x does not match d")
            else:
                material = pub_cls.from_public_bytes(xb)
        except ValueError:
            raise fail("DataError", f"invalid {name} JWK") from None
    else:  # RSA
        check_jwk(data, "RSA", usages, extractable)
        alg = data.get("alg")
        if alg is not None and alg != JWK_ALG[(name, n["hash"])]:
            raise fail("DataError", "JWK alg does not match the algorithm")
        try:
            rsa_pub = rsa.RSAPublicNumbers(
                int_b64u(data.get("e"), "e"), int_b64u(data.get("n"), "n")
            )
            if private:
                if "oth" in data:
                    raise fail("NotSupportedError", "multi-prime RSA keys are not supported")
                fields = [int_b64u(data.get(k), k) for k in ("d", "p", "q", "dp", "dq", "qi")]
                d, p, q, dp, dq, qi = fields
                material = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa_pub).private_key()
            else:
                material = rsa_pub.public_key()
        except ValueError:
            raise fail("DataError", "invalid RSA JWK") from None
    if private and not usages:
        raise fail("SyntaxError", "usages cannot be empty for a private key")
    return Key(
        "private" if private else "public",
        extractable,
        alg_for(name, n, material),
        usages,
        material,
    )


def _import_secret(
    fmt: str, data: Any, n: dict[str, Any], extractable: bool, usages: list[str]
) -> Key:
    name = n["name"]
    if name in ("PBKDF2", "HKDF"):
        if fmt != "raw":
            raise fail("NotSupportedError", f"{name} keys can only be imported as raw")
        if extractable:
            raise fail("SyntaxError", f"{name} keys cannot be extractable")
        raw = from_wire(data)
        if not usages:
            raise fail("SyntaxError", "usages cannot be empty")
        return Key("secret", False, {"name": name}, usages, raw)
    if fmt in ("pkcs8", "spki"):
        raise fail("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    if fmt == "raw":
        raw = from_wire(data)
    else:
        check_jwk(data, "oct", usages, extractable)
        raw = b64u_decode(data.get("k"), "k")
    if name == "HMAC":
        if (
            fmt == "jwk"
            and data.get("alg") is not None
            and data["alg"] != JWK_ALG[("HMAC", n["hash"])]
        ):
            raise fail("DataError", "JWK alg does not match the hash")
        bits = len(raw) * 8
        if bits == 0:
            raise fail("DataError", "HMAC key data must not be empty")
        length = bits
        if "length" in n:
            length = enforce(n["length"], 0, 2**32 - 1, "length")
            if length > bits or length <= bits - 8:
                raise fail("DataError", "HMAC length does not match the key data")
        alg = {"name": "HMAC", "hash": {"name": n["hash"]}, "length": length}
    else:
        if len(raw) not in (16, 24, 32):
            raise fail("DataError", "AES key data must be 128, 192 or 256 bits")
        if (
            fmt == "jwk"
            and data.get("alg") is not None
            and data["alg"] != f"A{len(raw) * 8}{AES_JWK[name]}"
        ):
            raise fail("DataError", "JWK alg does not match the key")
        alg = {"name": name, "length": len(raw) * 8}
    if not usages:
        raise fail("SyntaxError", "usages cannot be empty")
    return Key("secret", extractable, alg, usages, raw)
