"""Quarantine of functions that crash runtime workers (the supervisor's memory of crashes).

Who is to blame for a death follows blame.py; this holds the consequences: strikes per
function version within ``quarantine_window_seconds``, the versions (and their code) put
in quarantine after ``quarantine_crashes`` strikes, tenants whose crash budget
(``tenant_crash_budget``) is spent, and the suspects of ambiguous crashes, which run
alone on a worker until they are cleared or struck.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from isogate.config.runtime import RuntimeSettings

from .blame import Attribution, Verdict
from .types import FunctionRef

log = logging.getLogger("isogate.runtime")


class Quarantine:
    """Strikes, quarantined versions and code, blocked tenants, crash suspects."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.strikes: dict[str, deque[float]] = {}
        self.quarantined: set[str] = set()
        #: (tenant, sha256) of code that was quarantined -> until when (monotonic): a
        #: redeploy of the same code does not lift it before the window ends
        self.bad_code: dict[tuple[str, str], float] = {}
        #: strikes of each tenant's functions, and tenants whose crash budget is spent
        #: (-> until when, monotonic): a tenant cannot escape quarantine by redeploying
        self.tenant_strikes: dict[str, deque[float]] = {}
        self.blocked: dict[str, float] = {}
        #: in flight during an ambiguous crash: run alone until cleared or struck
        self.suspects: set[str] = set()
        self.attribution = Attribution(settings.quarantine_window_seconds)

    def judge(
        self, reason: str, started: set[str], pid: int, refs: dict[str, FunctionRef], now: float
    ) -> Verdict:
        """A worker died (``reason``) running ``started``: strike whom blame.py blames,
        suspect whom it suspects."""
        verdict = self.attribution.judge(reason, started, pid, now)
        for key in verdict.strike:
            self.strike(refs[key], now)
        self.suspects.update(verdict.suspects)
        return verdict

    def strike(self, ref: FunctionRef, now: float) -> None:
        key = ref.key
        window = self.settings.quarantine_window_seconds
        self.suspects.discard(key)
        strikes = self.strikes.setdefault(key, deque())
        strikes.append(now)
        while strikes and now - strikes[0] > window:
            strikes.popleft()
        if len(strikes) >= self.settings.quarantine_crashes:
            self.quarantined.add(key)
            self.bad_code[(ref.tenant, ref.sha256)] = now + window
            log.error("function %s quarantined after %d crashes", key, len(strikes))
        spent = self.tenant_strikes.setdefault(ref.tenant, deque())
        spent.append(now)
        while spent and now - spent[0] > window:
            spent.popleft()
        if len(spent) >= self.settings.tenant_crash_budget:
            self.blocked[ref.tenant] = now + window
            log.error(
                "tenant %s spent its crash budget (%d crashes); blocked for %.0f s",
                ref.tenant,
                len(spent),
                window,
            )

    def tenant_blocked(self, tenant: str) -> float:
        """Seconds until ``tenant`` may call and deploy again (0: not blocked)."""
        until = self.blocked.get(tenant)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self.blocked[tenant]
            return 0.0
        return left

    def refused(self, ref: FunctionRef) -> str | None:
        """Why ``ref`` may not run (quarantine of its version, its code, its tenant)."""
        if ref.key in self.quarantined:
            return "this function version crashed the runtime repeatedly; redeploy it"
        if self.bad_code:
            until = self.bad_code.get((ref.tenant, ref.sha256))
            if until is not None:
                if until > time.monotonic():
                    return "this code crashed the runtime repeatedly; deploy a fix"
                del self.bad_code[(ref.tenant, ref.sha256)]
        if self.blocked and self.tenant_blocked(ref.tenant):
            return "this tenant's functions crashed the runtime too often; retry later"
        return None

    def forget(self, prefix: str) -> None:
        """Lift the quarantine of the versions whose keys start with ``prefix`` (a
        redeploy), not of their code nor their tenant's spent crash budget."""
        self.quarantined.difference_update([k for k in self.quarantined if k.startswith(prefix)])
        self.suspects.difference_update([k for k in self.suspects if k.startswith(prefix)])
        for key in [k for k in self.strikes if k.startswith(prefix)]:
            del self.strikes[key]
        self.attribution.forget(prefix)
