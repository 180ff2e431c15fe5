"""``encrypt`` and ``decrypt``: AES-CTR, AES-CBC, AES-GCM, RSA-OAEP, and AES-KW for wrapping."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import keywrap, padding
from cryptography.hazmat.primitives.asymmetric import padding as apadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .algorithms import enforce, hash_of
from .errors import fail
from .keys import Key, check_key_use


def _aes_ctr(key: bytes, counter: bytes, length: int, data: bytes) -> bytes:
    if len(counter) != 16:
        raise fail("OperationError", "AES-CTR counter must be 16 bytes")
    if length == 0 or length > 128:
        raise fail("OperationError", "AES-CTR length must be 1..128")
    blocks = (len(data) + 15) // 16
    c = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    if blocks > (1 << length):
        raise fail("OperationError", "AES-CTR counter would repeat")
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
    tag = enforce(n.get("tagLength", 128), 0, 255, "tagLength")
    if tag not in (32, 64, 96, 104, 112, 120, 128):
        raise fail("OperationError", "invalid AES-GCM tagLength")
    return tag // 8


def _ctr(n: dict[str, Any], m: bytes, data: bytes) -> bytes:
    """AES-CTR either way (the same keystream XOR)."""
    return _aes_ctr(m, n["counter"], enforce(n["length"], 0, 255, "length"), data)


def _cbc(n: dict[str, Any], m: bytes) -> Cipher[modes.CBC]:
    """The AES-CBC cipher of ``n``'s iv, which must be one block."""
    if len(n["iv"]) != 16:
        raise fail("OperationError", "AES-CBC iv must be 16 bytes")
    return Cipher(algorithms.AES(m), modes.CBC(n["iv"]))


def _oaep(n: dict[str, Any], key: Key) -> apadding.OAEP:
    h = key.algorithm["hash"]["name"]
    return apadding.OAEP(apadding.MGF1(hash_of(h)), hash_of(h), n.get("label") or None)


def encrypt(n: dict[str, Any], key: Key, data: bytes, usage: str = "encrypt") -> bytes:
    """WebCrypto's encrypt operation (``usage`` is ``wrapKey`` when wrapping)."""
    name = n["name"]
    check_key_use(key, name, usage)
    m = key.material
    if name == "AES-CTR":
        return _ctr(n, m, data)
    if name == "AES-CBC":
        enc = _cbc(n, m).encryptor()
        padder = padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        return enc.update(padded) + enc.finalize()
    if name == "AES-GCM":
        tag = _gcm_tag(n)
        iv = n["iv"]
        if not iv:
            raise fail("OperationError", "AES-GCM iv must not be empty")
        try:
            enc = Cipher(algorithms.AES(m), modes.GCM(iv)).encryptor()
        except ValueError as exc:
            raise fail("OperationError", str(exc)) from None
        if n.get("additionalData"):
            enc.authenticate_additional_data(n["additionalData"])
        out = enc.update(data) + enc.finalize()
        return out + enc.tag[:tag]
    if name == "RSA-OAEP":
        if key.type != "public":
            raise fail("InvalidAccessError", "encrypting needs a public key")
        try:
            sealed: bytes = m.encrypt(data, _oaep(n, key))
            return sealed
        except ValueError as exc:
            raise fail("OperationError", str(exc)) from None
    # AES-KW (wrapKey only)
    if len(data) % 8 or len(data) < 16:
        raise fail("OperationError", "AES-KW data must be a multiple of 8 bytes")
    return keywrap.aes_key_wrap(m, data)


def decrypt(n: dict[str, Any], key: Key, data: bytes, usage: str = "decrypt") -> bytes:
    """WebCrypto's decrypt operation (``usage`` is ``unwrapKey`` when unwrapping)."""
    name = n["name"]
    check_key_use(key, name, usage)
    m = key.material
    if name == "AES-CTR":
        return _ctr(n, m, data)
    if name == "AES-CBC":
        cbc = _cbc(n, m)
        if not data or len(data) % 16:
            raise fail("OperationError", "AES-CBC data is not a whole number of blocks")
        dec = cbc.decryptor()
        padded = dec.update(data) + dec.finalize()
        try:
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise fail("OperationError", "AES-CBC padding is invalid") from None
    if name == "AES-GCM":
        tag = _gcm_tag(n)
        iv = n["iv"]
        if len(data) < tag:
            raise fail("OperationError", "AES-GCM data is shorter than the tag")
        if not iv:
            raise fail("OperationError", "AES-GCM iv must not be empty")
        try:
            dec = Cipher(
                algorithms.AES(m), modes.GCM(iv, data[len(data) - tag :], min_tag_length=4)
            ).decryptor()
            if n.get("additionalData"):
                dec.authenticate_additional_data(n["additionalData"])
            return dec.update(data[: len(data) - tag]) + dec.finalize()
        except (InvalidTag, ValueError):
            raise fail("OperationError", "AES-GCM decryption failed") from None
    if name == "RSA-OAEP":
        if key.type != "private":
            raise fail("InvalidAccessError", "decrypting needs a private key")
        try:
            plain: bytes = m.decrypt(data, _oaep(n, key))
            return plain
        except ValueError:
            raise fail("OperationError", "RSA-OAEP decryption failed") from None
    try:
        return keywrap.aes_key_unwrap(m, data)
    except (keywrap.InvalidUnwrap, ValueError):
        raise fail("OperationError", "AES-KW unwrap failed") from None
