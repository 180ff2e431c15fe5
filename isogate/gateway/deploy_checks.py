"""Per-tenant bounds on deploys in this gateway process (issue 24).

A check loads the tenant's code in a check process (isogate.runtime.validation); the
processes are few and shared by all tenants, so one tenant firing deploys in parallel
would keep everyone else's deploys waiting. Beyond its share a tenant gets 429 at once,
and so it does beyond its deploys per minute.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from isogate.gateway.errors import DeployRateLimited, TooManyDeploys


class DeployChecks:
    """Counts each tenant's deploy checks in progress in this gateway process."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = {}  # tenant -> its deploys in the window

    def count(self, tenant: str, per_minute: int, now: float | None = None) -> None:
        """Count one deploy of ``tenant``; a 429 problem beyond ``per_minute`` in the
        last 60 seconds (0: no cap)."""
        if not per_minute:
            return
        now = time.monotonic() if now is None else now
        recent = self._recent.setdefault(tenant, deque())
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= per_minute:
            retry = max(1, math.ceil(60.0 - (now - recent[0])))
            raise DeployRateLimited(
                f"at most {per_minute} deploys per minute; retry in {retry} s",
                {"Retry-After": str(retry)},
            )
        recent.append(now)
        if len(self._recent) > 10_000:  # forget tenants idle for a minute
            for t in [t for t, q in self._recent.items() if not q or now - q[-1] >= 60.0]:
                del self._recent[t]

    @contextmanager
    def hold(self, tenant: str, limit: int) -> Iterator[None]:
        """One check of ``tenant``; raises a 429 problem when ``limit`` are running."""
        running = self._running.get(tenant, 0)
        if running >= limit:
            raise TooManyDeploys(
                f"at most {limit} deploy(s) of one tenant are checked at once; retry when "
                "the others are done",
                {"Retry-After": "1"},
            )
        self._running[tenant] = running + 1
        try:
            yield
        finally:
            left = self._running[tenant] - 1
            if left:
                self._running[tenant] = left
            else:
                del self._running[tenant]
