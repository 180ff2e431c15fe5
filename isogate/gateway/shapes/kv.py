"""KV namespaces and their key listings: ``/v1/kv``."""

from __future__ import annotations

from typing import Any

from isogate.gateway.shapes.base import Body, Number, Shape, omitted


class KvNamespaceCreate(Body):
    """``POST /v1/kv``."""

    name: str


class KvNamespace(Shape):
    """A namespace of the tenant (``created_at``: UNIX seconds)."""

    name: str
    created_at: Number


class KvNamespaceList(Shape):
    """The tenant's namespaces and its KV operations today against the daily quota."""

    namespaces: list[KvNamespace]
    ops_today: int
    ops_per_day: int


class KvKey(Shape):
    """One key of a listing; ``expiration`` and ``metadata`` only when it has them."""

    name: str
    expiration: int = omitted()
    metadata: Any = omitted()


class KvKeyList(Shape):
    """A page of keys; ``cursor`` only when the listing is not complete."""

    keys: list[KvKey]
    list_complete: bool
    cursor: str = omitted()
