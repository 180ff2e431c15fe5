"""A CryptoKey's host side (:class:`Key`) and the per-sandbox tables that seal them.

A ``CryptoKey`` in the isolate holds a *sealed* copy of its key: the key's metadata and
material, encrypted and authenticated (AES-GCM, ``cryptography``) under a secret of its
sandbox's :class:`KeyTable` that never leaves the host. The prelude sends it back with
every operation; the table opens it, keeping recently used keys parsed in a bounded
cache. So a key is as alive as its ``CryptoKey`` (garbage collection decides nothing:
V8 clears the WeakRefs of dropped keys only in a major GC, which could come thousands of
keys late, and a table of live handles then refused keys to a tenant holding few), the
isolate sees no key material, and a sealed key means nothing in another sandbox (its
secret differs). Tables are found by :func:`table_for` and forgotten with the sandbox
(:func:`drop`). Also here, shared by every operation and every way of making a key:
:func:`check_key_use` (a key against the algorithm and usage of a call) and
:func:`alg_for` (the ``algorithm`` dictionary a key reports).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import weakref
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .algorithms import RSA
from .codec import from_wire, int_bytes, to_wire
from .errors import fail

#: opened keys one sandbox keeps parsed (a key past it is opened again when next used:
#: a cost, never an error)
CACHED_KEYS = 1024


@dataclass(slots=True)
class Key:
    """A CryptoKey's host side: its metadata and the key material."""

    type: str  # "secret", "public", "private"
    extractable: bool
    algorithm: dict[str, Any]  # as the tenant sees it (bytes for publicExponent)
    usages: list[str]
    material: Any  # bytes for secret keys, a cryptography key object otherwise


def _material_out(key: Key) -> list[str]:
    m = key.material
    if isinstance(m, bytes):
        return ["s", to_wire(m)]
    if key.type == "private":
        der = m.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return ["p", to_wire(der)]
    der = m.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ["u", to_wire(der)]


def _material_in(kind: str, wire: str) -> Any:
    data = from_wire(wire)
    if kind == "s":
        return data
    if kind == "p":
        # sealed by this table from a key it had checked: no need to validate it again
        return serialization.load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)
    return serialization.load_der_public_key(data)


@dataclass(slots=True)
class KeyTable:
    """The keys of one sandbox: what seals them, and the ones recently opened."""

    aead: AESGCM = field(default_factory=lambda: AESGCM(AESGCM.generate_key(256)))
    cache: LRUCache[str, Key] = field(default_factory=lambda: LRUCache(CACHED_KEYS))

    def add(self, key: Key) -> dict[str, Any]:
        """Seal ``key``: what its CryptoKey is made of (``h`` the sealed key, ``t`` type,
        ``x`` extractable, ``a`` algorithm, ``u`` usages), all on the wire."""
        alg = dict(key.algorithm)
        if "publicExponent" in alg:
            alg["publicExponent"] = to_wire(alg["publicExponent"])
        usages = list(key.usages)
        plain = json.dumps(
            [key.type, key.extractable, alg, usages, _material_out(key)], ensure_ascii=False
        ).encode()
        nonce = os.urandom(12)
        sealed = base64.b64encode(nonce + self.aead.encrypt(nonce, plain, None)).decode()
        self.cache[sealed] = key
        return {"h": sealed, "t": key.type, "x": key.extractable, "a": alg, "u": usages}

    def get(self, sealed: Any) -> Key:
        """The key ``sealed`` holds (InvalidAccessError if this table did not seal it)."""
        if type(sealed) is not str:
            raise fail("InvalidAccessError", "the key is not valid here")
        key = self.cache.get(sealed)
        if key is None:
            key = self.cache[sealed] = self._open(sealed)
        return key

    def _open(self, sealed: str) -> Key:
        try:
            raw = base64.b64decode(sealed, validate=True)
            plain = self.aead.decrypt(raw[:12], raw[12:], None)
        except (binascii.Error, ValueError, InvalidTag):
            raise fail("InvalidAccessError", "the key is not valid here") from None
        kind, extractable, alg, usages, (form, wire) = json.loads(plain)
        if "publicExponent" in alg:
            alg["publicExponent"] = from_wire(alg["publicExponent"])
        return Key(kind, extractable, alg, usages, _material_in(form, wire))


_tables: weakref.WeakKeyDictionary[Any, KeyTable] = weakref.WeakKeyDictionary()


def table_for(owner: Any) -> KeyTable:
    """The key table of ``owner`` (a sandbox); dropped with it."""
    table = _tables.get(owner)
    if table is None:
        table = _tables[owner] = KeyTable()
    return table


def drop(owner: Any) -> None:
    """Forget the table of ``owner`` (its sandbox is closing): its keys open nowhere."""
    _tables.pop(owner, None)


def check_key_use(key: Key, alg_name: str, usage: str) -> None:
    """InvalidAccessError unless ``key`` is of ``alg_name`` and allows ``usage``."""
    if key.algorithm["name"] != alg_name:
        raise fail(
            "InvalidAccessError", f"key algorithm {key.algorithm['name']} does not match {alg_name}"
        )
    if usage not in key.usages:
        raise fail("InvalidAccessError", f"key does not support the '{usage}' operation")


# ---- the algorithm a key reports --------------------------------------------------------


def _rsa_alg(name: str, pub: rsa.RSAPublicKey, hash_name: str) -> dict[str, Any]:
    e = pub.public_numbers().e
    return {
        "name": name,
        "modulusLength": pub.key_size,
        "publicExponent": int_bytes(e),
        "hash": {"name": hash_name},
    }


def public_of(material: Any) -> Any:
    """The public key of a key pair's material (a public key is its own)."""
    return material.public_key() if hasattr(material, "public_key") else material


def alg_for(name: str, n: dict[str, Any], material: Any) -> dict[str, Any]:
    """The ``algorithm`` dictionary a key of ``name`` made from ``material`` reports."""
    if name in ("ECDSA", "ECDH"):
        return {"name": name, "namedCurve": n["namedCurve"]}
    if name in RSA:
        return _rsa_alg(name, public_of(material), n["hash"])
    return {"name": name}
