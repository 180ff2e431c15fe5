"""Quarantine of functions that crash workers (runtime/quarantine.py), as logic."""

from __future__ import annotations

import time

from isogate.config.runtime import RuntimeSettings
from isogate.runtime.quarantine import Quarantine
from isogate.runtime.types import FunctionRef


def ref(name: str = "f", version: int = 1, tenant: str = "t") -> FunctionRef:
    return FunctionRef(name=name, version=version, tenant=tenant, sha256="ab" * 32)


def test_strikes_within_the_window_quarantine_the_version_and_its_code() -> None:
    q = Quarantine(RuntimeSettings(quarantine_crashes=2, tenant_crash_budget=10))
    now = time.monotonic()
    q.strike(ref(), now)
    assert q.refused(ref()) is None
    q.strike(ref(), now + 1)
    assert "redeploy" in (q.refused(ref()) or "")
    # a redeploy lifts the version's quarantine, not its code's
    q.forget("f@")
    assert "deploy a fix" in (q.refused(ref(version=2)) or "")


def test_strikes_outside_the_window_do_not_add_up() -> None:
    settings = RuntimeSettings(quarantine_crashes=2, quarantine_window_seconds=10)
    q = Quarantine(settings)
    q.strike(ref(), 100.0)
    q.strike(ref(), 200.0)
    assert ref().key not in q.quarantined


def test_a_spent_crash_budget_blocks_the_tenant_only() -> None:
    q = Quarantine(RuntimeSettings(quarantine_crashes=100, tenant_crash_budget=2))
    now = time.monotonic()
    q.strike(ref("a"), now)
    q.strike(ref("b"), now)
    assert q.tenant_blocked("t") > 0
    assert "too often" in (q.refused(ref("c")) or "")
    assert q.refused(ref("c", tenant="u")) is None


def test_a_struck_suspect_is_no_longer_a_suspect() -> None:
    q = Quarantine(RuntimeSettings())
    q.suspects.add(ref().key)
    q.strike(ref(), 1.0)
    assert ref().key not in q.suspects
