"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

from isogate.gateway.shapes.base import Shape, omitted


class Status(Shape):
    """Liveness or readiness; ``degraded`` names the parts that are down but not fatal."""

    status: str
    degraded: list[str] = omitted()
