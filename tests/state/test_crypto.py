"""Envelope encryption of secrets: round trip, authentication of owner and key id,
re-wrapping under a new master key, keyring parsing (errors never echo key material)."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from isogate.state.crypto import Keyring, KeyringError, new_key_entry, parse_keyring


def test_seal_open_and_owner_binding() -> None:
    ring = Keyring(parse_keyring(new_key_entry()))
    sealed = ring.seal(b"hunter2", b"acme/fn/TOKEN")
    assert b"hunter2" not in sealed.ciphertext + sealed.wrapped_key
    assert ring.open(sealed, b"acme/fn/TOKEN") == b"hunter2"
    with pytest.raises(KeyringError):
        ring.open(sealed, b"evil/fn/TOKEN")  # a row moved to another owner does not open
    flipped = bytearray(sealed.ciphertext)
    flipped[-1] ^= 1
    with pytest.raises(KeyringError):
        ring.open(dataclasses.replace(sealed, ciphertext=bytes(flipped)), b"acme/fn/TOKEN")


def test_rewrap_under_new_master_key() -> None:
    old = parse_keyring(new_key_entry())
    new = parse_keyring(new_key_entry())
    sealed = Keyring(old).seal(b"v", b"ctx")
    rotated = Keyring(new + old)
    fresh = rotated.rewrap(sealed, b"ctx")
    assert fresh.key_id == new[0][0] and fresh.ciphertext == sealed.ciphertext
    assert Keyring(new).open(fresh, b"ctx") == b"v"  # the old key is no longer needed
    with pytest.raises(KeyringError, match="lacks"):
        Keyring(new).open(sealed, b"ctx")
    # a key id is authenticated: relabelling a wrapped key does not open it
    with pytest.raises(KeyringError):
        rotated.open(dataclasses.replace(sealed, key_id=new[0][0]), b"ctx")


def test_reload_finds_a_key_added_later() -> None:
    first = parse_keyring(new_key_entry())
    later = parse_keyring(new_key_entry()) + first
    sealed = Keyring(later).seal(b"v", b"ctx")
    assert Keyring(first, reload=lambda: later).open(sealed, b"ctx") == b"v"


_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no key"),
        ("nocolon", "ID:BASE64"),
        ("k1:@@@@", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        (f"dup:{_KEY},dup:{_KEY}", "twice"),
    ],
)
def test_keyring_errors(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as info:
        parse_keyring(text)
    assert "@@@@" not in str(info.value) and _KEY not in str(info.value)
