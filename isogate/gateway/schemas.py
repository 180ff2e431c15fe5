"""Request bodies of the control plane, by their historical module name (they are
declared in :mod:`isogate.gateway.shapes`, one module per resource)."""

from __future__ import annotations

from isogate.gateway.shapes.functions import FunctionDeploy, Rollback
from isogate.gateway.shapes.keys import KeyCreate, KeyRenew, QuotaIn, RateLimitIn, ScopeStr
from isogate.gateway.shapes.tenants import Credentials, NameStr

__all__ = [
    "Credentials",
    "FunctionDeploy",
    "KeyCreate",
    "KeyRenew",
    "NameStr",
    "QuotaIn",
    "RateLimitIn",
    "Rollback",
    "ScopeStr",
]
