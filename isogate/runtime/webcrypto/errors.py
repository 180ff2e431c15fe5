"""The WebCrypto error a host operation fails with.

A :class:`CryptoFailure` carries the DOMException (or ``TypeError``) name the prelude
rejects the tenant's promise with; every module of the package raises it through
:func:`fail`.
"""

from __future__ import annotations


class CryptoFailure(Exception):
    """A WebCrypto error: ``name`` is the DOMException name (or ``TypeError``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def fail(name: str, message: str) -> CryptoFailure:
    """The :class:`CryptoFailure` to raise: ``name`` as the prelude rejects with."""
    return CryptoFailure(name, message)
