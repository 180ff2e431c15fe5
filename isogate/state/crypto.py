"""Envelope encryption of secrets (AES-256-GCM from ``cryptography``).

Each secret value is encrypted under a fresh data key (DEK); the DEK is encrypted
("wrapped") under the master key, whose id is stored with the row. Rotating the master
key re-wraps the DEKs only; values are never re-encrypted and never leave this module
in clear except to the runtime.

The master keyring comes from ``secrets_master_key`` (env ``ISOGATE_SECRETS_MASTER_KEY``):
comma-separated ``ID:BASE64`` entries of 32-byte keys, the first one current (new and
re-wrapped secrets), the others kept to read secrets not yet re-wrapped. Unset on the
embedded default (SQLite in ``data_dir``): a key is generated once into
``data_dir/secrets_master_key`` (mode 0600), next to the database it protects.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: the setting, as operators write it, for error messages
SETTING = "secrets_master_key (env ISOGATE_SECRETS_MASTER_KEY)"

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_NONCE = 12


class KeyringError(ValueError):
    """The master keyring is malformed or lacks a key a secret was wrapped with."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """One encrypted secret as stored: master key id, wrapped DEK, ciphertext."""

    key_id: str
    wrapped_key: bytes
    ciphertext: bytes


def parse_keyring(text: str, where: str = SETTING) -> list[tuple[str, bytes]]:
    """``ID:BASE64[,ID:BASE64…]`` → [(id, 32-byte key)], current first; ValueError naming
    ``where`` (never the key material) when malformed."""
    keys: list[tuple[str, bytes]] = []
    for n, entry in enumerate(p.strip() for p in text.split(",")):
        if not entry:
            continue
        key_id, sep, material = entry.partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise KeyringError(
                f"{where}: entry {n + 1} must be ID:BASE64 with ID of 1-32 letters, digits, "
                "'_', '.', '-'"
            )
        try:
            raw = base64.b64decode(material.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"{where}: key {key_id!r} is not valid base64") from None
        if len(raw) != 32:
            raise KeyringError(f"{where}: key {key_id!r} must be 32 bytes (it is {len(raw)})")
        if any(k == key_id for k, _ in keys):
            raise KeyringError(f"{where}: key id {key_id!r} appears twice")
        keys.append((key_id, raw))
    if not keys:
        raise KeyringError(f"{where}: no key")
    return keys


def format_key(key_id: str, key: bytes) -> str:
    """One keyring entry, as :func:`parse_keyring` reads it."""
    return f"{key_id}:{base64.b64encode(key).decode()}"


def new_key_entry() -> str:
    """A fresh ``ID:BASE64`` entry (random id and key)."""
    return format_key("k" + secrets.token_hex(4), AESGCM.generate_key(bit_length=256))


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_key_file(path: Path) -> list[tuple[str, bytes]]:
    """The keyring in ``path``, generated (0600) if the file does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        _write_private(path, new_key_entry(), exclusive=True)
    return parse_keyring(path.read_text().strip(), where=str(path))


def save_key_file(path: Path, keys: list[tuple[str, bytes]]) -> None:
    """Replace ``path`` atomically with ``keys`` (written 0600 beside it, then renamed)."""
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    _write_private(tmp, ",".join(format_key(i, k) for i, k in keys), exclusive=True)
    os.replace(tmp, path)


class Keyring:
    """Master keys by id; seals with the current one, opens with whichever wrapped it."""

    def __init__(
        self,
        keys: list[tuple[str, bytes]],
        reload: Callable[[], list[tuple[str, bytes]]] | None = None,
    ) -> None:
        if not keys:
            raise KeyringError(f"{SETTING}: no key")
        self.current_id = keys[0][0]
        self._keys = {i: AESGCM(k) for i, k in keys}
        #: re-reads the generated key file when a secret names a key this process has
        #: not seen (``isogate secrets rotate-master`` ran beside a running gateway)
        self._reload = reload

    @property
    def ids(self) -> list[str]:
        """Every key id, current first."""
        return list(self._keys)

    def _master(self, key_id: str) -> AESGCM:
        if key_id not in self._keys and self._reload is not None:
            with contextlib.suppress(OSError, KeyringError):
                for i, k in self._reload():
                    self._keys.setdefault(i, AESGCM(k))
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyringError(
                f"a secret is wrapped with master key {key_id!r}, which {SETTING} lacks"
            ) from None

    def seal(self, value: bytes, context: bytes) -> Sealed:
        """Encrypt ``value`` under a new DEK; ``context`` (who owns it) is authenticated."""
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        ciphertext = nonce + AESGCM(dek).encrypt(nonce, value, context)
        return Sealed(self.current_id, self._wrap(self.current_id, dek, context), ciphertext)

    def open(self, sealed: Sealed, context: bytes) -> bytes:
        """Decrypt; :class:`KeyringError` if a key is missing or anything was altered."""
        dek = self._unwrap(sealed, context)
        nonce, body = sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:]
        try:
            return AESGCM(dek).decrypt(nonce, body, context)
        except InvalidTag:
            raise KeyringError("a secret failed authentication (altered or misplaced)") from None

    def rewrap(self, sealed: Sealed, context: bytes) -> Sealed:
        """The same ciphertext with its DEK wrapped under the current master key."""
        dek = self._unwrap(sealed, context)
        return Sealed(self.current_id, self._wrap(self.current_id, dek, context), sealed.ciphertext)

    def _wrap(self, key_id: str, dek: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._master(key_id).encrypt(nonce, dek, key_id.encode() + b"\0" + context)

    def _unwrap(self, sealed: Sealed, context: bytes) -> bytes:
        master = self._master(sealed.key_id)
        nonce, body = sealed.wrapped_key[:_NONCE], sealed.wrapped_key[_NONCE:]
        try:
            return master.decrypt(nonce, body, sealed.key_id.encode() + b"\0" + context)
        except InvalidTag:
            raise KeyringError("a secret's data key failed authentication") from None
