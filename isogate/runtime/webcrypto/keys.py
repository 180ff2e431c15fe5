"""A CryptoKey's host side (:class:`Key`) and the per-sandbox tables that hold them.

Keys never leave the host: each sandbox has its own bounded :class:`KeyTable`, found by
:func:`table_for` and forgotten with the sandbox (:func:`drop`), so a handle means
nothing in another sandbox. Also here, shared by every operation and every way of making
a key: :func:`check_key_use` (a key against the algorithm and usage of a call) and
:func:`alg_for` (the ``algorithm`` dictionary a key reports).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from .algorithms import RSA
from .codec import int_bytes
from .errors import fail

#: keys one sandbox may hold at once (handles are freed when the prelude's
#: FinalizationRegistry reports a CryptoKey collected, and with the sandbox)
MAX_KEYS = 4096


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
        """Hold ``key``; its new handle (OperationError once the table is full)."""
        if len(self.keys) >= MAX_KEYS:
            raise fail("OperationError", f"too many CryptoKeys alive (limit {MAX_KEYS})")
        handle = self.next
        self.next += 1
        self.keys[handle] = key
        return handle

    def get(self, handle: Any) -> Key:
        """The key of ``handle`` in this table (InvalidAccessError if none)."""
        key = self.keys.get(handle) if type(handle) is int else None
        if key is None:
            raise fail("InvalidAccessError", "the key is not valid here")
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
