"""``crypto.subtle`` on the host (issue 20): WebCrypto operations over ``cryptography``.

The prelude (``js/50-crypto.js``) hands each call over as plain data: a method name,
the algorithm's members read into a plain object, byte strings as Latin-1 text and keys
sealed by the host. Key material never enters the isolate: each sandbox (context) has
its own :class:`KeyTable` sealing its keys, so a key means nothing in another tenant's
sandbox. The executor runs :func:`run` in its own thread, counting the CPU time against
the invocation's limit (DESIGN.md, "Host operations").

Errors are WebCrypto's: a :class:`CryptoFailure` carries the DOMException (or
``TypeError``) name the prelude rejects the tenant's promise with.

The modules, each answering one question:

* ``dispatch`` — what one call does: :func:`call` (a method over plain data) and
  :func:`run` (the executor's entry point);
* ``keys`` — what a key is and how it travels: :class:`Key`, the per-sandbox
  :class:`KeyTable` that seals and opens keys (:func:`table_for`, :func:`drop`);
* ``algorithms`` — which algorithms, members and usages WebCrypto allows
  (``normalize``), the rules every operation checks first;
* ``key_import``, ``key_export``, ``key_generation`` (with ``jwk``'s shared rules) —
  how a key is made or given out;
* ``signatures``, ``ciphers``, ``derivation`` — the operations on keys;
* ``codec`` — how bytes travel (Latin-1 wire text, base64url, big-endian integers);
* ``errors`` — :class:`CryptoFailure`.
"""

from __future__ import annotations

from .derivation import MAX_PBKDF2_ITERATIONS
from .dispatch import call, run
from .errors import CryptoFailure
from .key_generation import MAX_RSA_BITS
from .keys import CACHED_KEYS, Key, KeyTable, drop, table_for

__all__ = [
    "CACHED_KEYS",
    "MAX_PBKDF2_ITERATIONS",
    "MAX_RSA_BITS",
    "CryptoFailure",
    "Key",
    "KeyTable",
    "call",
    "drop",
    "run",
    "table_for",
]
