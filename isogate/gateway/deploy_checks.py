"""How many deploy checks each tenant may have running at once (issue 24).

A check loads the tenant's code in a check process (isogate.runtime.validation); the
processes are few and shared by all tenants, so one tenant firing deploys in parallel
would keep everyone else's deploys waiting. Beyond its share a tenant gets 429 at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from isogate.gateway.problems import Problem


class DeployChecks:
    """Counts each tenant's deploy checks in progress in this gateway process."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}

    @contextmanager
    def hold(self, tenant: str, limit: int) -> Iterator[None]:
        """One check of ``tenant``; raises a 429 problem when ``limit`` are running."""
        running = self._running.get(tenant, 0)
        if running >= limit:
            raise Problem(
                429,
                "too-many-deploys",
                "Too many deploys at once",
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
