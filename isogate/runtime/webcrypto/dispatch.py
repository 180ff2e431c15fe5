"""One ``crypto.subtle`` call from the prelude's plain data to its answer.

:func:`call` reads the method and its arguments and runs the steps of each method over
the other modules; :func:`run` is the executor's entry point: the sandbox's table, the
handles the prelude freed, and every failure turned into the rejection it delivers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .algorithms import normalize, read_usages
from .ciphers import decrypt, encrypt
from .codec import from_wire, to_wire
from .derivation import derive_bits, key_length
from .errors import CryptoFailure, fail
from .key_export import export_key
from .key_generation import generate_key
from .key_import import import_key
from .keys import KeyTable, check_key_use, table_for
from .signatures import sign, verify


def _out(v: Any) -> Any:
    return {"b": to_wire(v)} if isinstance(v, bytes) else {"j": v}


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
        digest = hashlib.new(n["name"].replace("-", "").lower(), from_wire(a.get("d")))
        return {"b": to_wire(digest.digest())}
    if method in ("sign", "verify", "encrypt", "decrypt"):
        n = normalize(method, a.get("alg"))
        key = table.get(a.get("k"))
        data = from_wire(a.get("d"))
        if method == "sign":
            return _out(sign(n, key, data))
        if method == "verify":
            return {"j": verify(n, key, from_wire(a.get("s")), data)}
        if method == "encrypt":
            return _out(encrypt(n, key, data))
        return _out(decrypt(n, key, data))
    if method == "generateKey":
        n = normalize("generateKey", a.get("alg"))
        usages = read_usages(a.get("u"))
        made = generate_key(n, bool(a.get("x")), usages)
        if isinstance(made, tuple):
            return {"j": {"pair": [table.add(made[0]), table.add(made[1])]}}
        return {"j": {"key": table.add(made)}}
    if method == "importKey":
        n = normalize("importKey", a.get("alg"))
        usages = read_usages(a.get("u"))
        key = import_key(a.get("f", ""), a.get("d"), n, bool(a.get("x")), usages)
        return {"j": {"key": table.add(key)}}
    if method == "exportKey":
        return _out(export_key(a.get("f", ""), table.get(a.get("k"))))
    if method == "deriveBits":
        n = normalize("deriveBits", a.get("alg"))
        return _out(derive_bits(n, table.get(a.get("k")), a.get("l"), table))
    if method == "deriveKey":
        n = normalize("deriveBits", a.get("alg"))
        target = normalize("importKey", a.get("t"))
        length_alg = normalize("get key length", a.get("t"))
        usages = read_usages(a.get("u"))
        base = table.get(a.get("k"))
        check_key_use(base, n["name"], "deriveKey")
        length = key_length(length_alg)
        bits = derive_bits(n, base, length, table, usage="deriveKey")
        key = import_key("raw", to_wire(bits), target, bool(a.get("x")), usages)
        return {"j": {"key": table.add(key)}}
    if method == "wrapKey":
        n = _normalize_either(("wrapKey", "encrypt"), a.get("alg"))
        wrapping = table.get(a.get("w"))
        check_key_use(wrapping, n["name"], "wrapKey")
        key = table.get(a.get("k"))
        fmt = a.get("f", "")
        exported = export_key(fmt, key)
        data = json.dumps(exported).encode() if fmt == "jwk" else exported
        return _out(encrypt(n, wrapping, data, usage="wrapKey"))
    if method == "unwrapKey":
        n = _normalize_either(("unwrapKey", "decrypt"), a.get("alg"))
        target = normalize("importKey", a.get("t"))
        usages = read_usages(a.get("u"))
        unwrapping = table.get(a.get("w"))
        check_key_use(unwrapping, n["name"], "unwrapKey")
        fmt = a.get("f", "")
        plain = decrypt(n, unwrapping, from_wire(a.get("d")), usage="unwrapKey")
        unwrapped: Any = to_wire(plain)
        if fmt == "jwk":
            try:
                unwrapped = json.loads(plain.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise fail("DataError", "the unwrapped key is not a JWK") from None
            if type(unwrapped) is not dict:
                raise fail("DataError", "the unwrapped key is not a JWK")
        key = import_key(fmt, unwrapped, target, bool(a.get("x")), usages)
        return {"j": {"key": table.add(key)}}
    raise fail("NotSupportedError", f"unknown crypto.subtle method {method}")


def run(owner: Any, args: Any) -> str:
    """Perform one operation for sandbox ``owner``; the delivery payload (JSON text)."""
    table = table_for(owner)
    try:
        if type(args) is not dict:
            raise fail("TypeError", "malformed crypto operation")
        result: Any = call(table, args)
    except CryptoFailure as exc:
        result = {"x": [exc.name, exc.message]}
    except Exception as exc:  # the executor thread is shared by tenants
        # malformed input the checks above did not name, or a refusal of the library's
        # (e.g. UnsupportedAlgorithm): an OperationError for this call, never a crash
        result = {"x": ["OperationError", type(exc).__name__]}
    return json.dumps({"v": result}, ensure_ascii=False)
