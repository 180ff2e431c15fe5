"""``exportKey``: a :class:`~.keys.Key` as raw, SPKI, PKCS #8 or JWK data.

Also the first step of ``wrapKey``. Only extractable keys leave this way.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization

from .algorithms import CURVE_BYTES, OKP, RSA
from .codec import b64u, int_bytes
from .errors import fail
from .jwk import AES_JWK, JWK_ALG, OKP_JWK_ALG
from .keys import Key, public_of


def export_key(fmt: str, key: Key) -> Any:
    """WebCrypto's exportKey steps: bytes, or a JWK dict (members in workerd's order)."""
    name = key.algorithm["name"]
    if fmt not in ("raw", "jwk", "pkcs8", "spki"):
        raise fail("TypeError", f"unknown key format {fmt}")
    if not key.extractable:  # checked first, as workerd does
        raise fail("InvalidAccessError", "key is not extractable")
    if name in ("PBKDF2", "HKDF"):
        raise fail("NotSupportedError", f"{name} keys cannot be exported")
    m = key.material
    jwk: dict[str, Any] = {}
    if key.type == "secret":
        if fmt == "raw":
            return m
        if fmt != "jwk":
            raise fail("NotSupportedError", f"secret keys cannot be exported as {fmt}")
        if name == "HMAC":
            alg = JWK_ALG[("HMAC", key.algorithm["hash"]["name"])]
        else:
            alg = f"A{len(m) * 8}{AES_JWK[name]}"
        return {
            "kty": "oct",
            "key_ops": list(key.usages),
            "alg": alg,
            "ext": key.extractable,
            "k": b64u(m),
        }
    if fmt == "raw":
        if key.type != "public" or name in RSA:
            raise fail("InvalidAccessError", "only public EC/OKP keys export as raw")
        if name in ("ECDSA", "ECDH"):
            return m.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return m.public_bytes_raw()
    if fmt == "spki":
        if key.type != "public":
            raise fail("InvalidAccessError", "only public keys export as spki")
        return m.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if fmt == "pkcs8":
        if key.type != "private":
            raise fail("InvalidAccessError", "only private keys export as pkcs8")
        return m.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    # jwk
    if name in ("ECDSA", "ECDH"):
        crv = key.algorithm["namedCurve"]
        size = CURVE_BYTES[crv]
        pubn = public_of(m).public_numbers()
        jwk = {
            "kty": "EC",
            "key_ops": list(key.usages),
            "ext": key.extractable,
            "crv": crv,
            "x": b64u(int_bytes(pubn.x, size)),
            "y": b64u(int_bytes(pubn.y, size)),
        }
        if key.type == "private":
            jwk["d"] = b64u(int_bytes(m.private_numbers().private_value, size))
    elif name in OKP:
        jwk = {"kty": "OKP", "key_ops": list(key.usages)}
        if name in OKP_JWK_ALG:
            jwk["alg"] = OKP_JWK_ALG[name]
        jwk.update(ext=key.extractable, crv=name, x=b64u(public_of(m).public_bytes_raw()))
        if key.type == "private":
            jwk["d"] = b64u(m.private_bytes_raw())
    else:
        pubn = public_of(m).public_numbers()
        jwk = {
            "kty": "RSA",
            "key_ops": list(key.usages),
            "alg": JWK_ALG[(name, key.algorithm["hash"]["name"])],
            "ext": key.extractable,
            "n": b64u(int_bytes(pubn.n)),
            "e": b64u(int_bytes(pubn.e)),
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
                jwk[k] = b64u(int_bytes(v))
    return jwk
