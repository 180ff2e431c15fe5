"""KV calls of functions, performed in the gateway process (the worker has no database).

The prelude's ``env.NAME`` object (a KV binding) queues a host operation ``kv`` whose
JSON names the binding, the method and its arguments; the executor forwards it to the
supervisor (:class:`~isogate.runtime.messages.KvCall`), which calls :func:`kv_host`'s
function with the calling function's ref. The binding is looked up in that ref (the
version's bindings, owned by its tenant), so a function can reach only its own
tenant's namespaces. Values travel as latin-1 strings (one char per byte).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from isogate.registry.errors import LimitExceeded, StoreUnavailable
from isogate.runtime.types import FunctionRef
from isogate.state.errors import InvalidKv, KvQuotaExceeded, NamespaceNotFound
from isogate.state.kv import SqlKvStore

log = logging.getLogger(__name__)


def _error(name: str, message: str) -> str:
    return json.dumps({"e": {"name": name, "message": message}})


def _value(v: Any) -> str:
    return '{"v":' + json.dumps(v, ensure_ascii=False) + "}"


def _number(v: Any, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        raise InvalidKv(f"{what} must be a number")
    return float(v)


def kv_host(store: SqlKvStore) -> Callable[[FunctionRef, str], Awaitable[str]]:
    """The runtime's ``kv_host``: performs one KV operation of a function."""

    async def perform(ref: FunctionRef, args_json: str) -> str:
        try:
            args = json.loads(args_json)
            binding, method = str(args["b"]), str(args["m"])
        except (ValueError, KeyError, TypeError):
            return _error("TypeError", "malformed KV operation")
        target = dict(ref.kv_bindings).get(binding)
        if target is None:
            return _error("Error", f"no KV binding {binding[:64]}")
        try:
            ns = await store.namespace(ref.tenant, target)
            if method == "get":
                entry = await store.get(ref.tenant, ns.id, str(args["k"]))
                if entry is None:
                    return _value({"value": None, "metadata": None})
                return _value({"value": entry.value.decode("latin-1"), "metadata": entry.metadata})
            if method == "put":
                raw = args.get("v")
                if not isinstance(raw, str):
                    raise InvalidKv("a value must be a string, ArrayBuffer or ArrayBufferView")
                meta_text = args.get("meta")
                metadata = json.loads(meta_text) if isinstance(meta_text, str) else None
                await store.put(
                    ref.tenant,
                    ns.id,
                    str(args["k"]),
                    raw.encode("latin-1"),
                    expiration=_number(args.get("exp"), "expiration"),
                    expiration_ttl=_number(args.get("ttl"), "expirationTtl"),
                    metadata=metadata,
                )
                return _value(None)
            if method == "delete":
                await store.delete(ref.tenant, ns.id, str(args["k"]))
                return _value(None)
            if method == "list":
                limit = args.get("limit")
                listing = await store.list(
                    ref.tenant,
                    ns.id,
                    str(args.get("prefix") or ""),
                    int(limit) if isinstance(limit, int | float) and limit == limit else 1000,
                    str(args["cursor"]) if args.get("cursor") else None,
                )
                out: dict[str, Any] = {"keys": listing.keys, "list_complete": listing.list_complete}
                if listing.cursor:
                    out["cursor"] = listing.cursor
                return _value(out)
            return _error("TypeError", f"unknown KV method {method[:32]}")
        except InvalidKv as exc:
            return _error("TypeError", str(exc))
        except NamespaceNotFound:
            return _error("Error", f"KV namespace of binding {binding} no longer exists")
        except (KvQuotaExceeded, LimitExceeded) as exc:
            return _error("Error", str(exc))
        except (StoreUnavailable, OSError, TimeoutError):
            return _error("Error", "KV is unavailable, try again")
        except (KeyError, ValueError, UnicodeEncodeError):
            return _error("TypeError", "malformed KV operation")

    return perform
