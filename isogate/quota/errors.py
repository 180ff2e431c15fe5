"""Errors of tenants, credentials, API-key leases and quotas. The gateway maps them to HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from isogate.quota.models import Decision


class QuotaError(Exception):
    """Base of this package's errors; ``str(exc)`` is safe to show to the caller."""


class StoreUnavailable(QuotaError):
    """The metadata store did not answer within its deadline."""


class InvalidName(QuotaError):
    """A tenant name breaks the DNS-label rules."""


class InvalidInput(QuotaError):
    """A request field is out of range (ttl, limits, scopes)."""


class TenantExists(QuotaError):
    """The tenant name is taken."""


class InvalidCredentials(QuotaError):
    """Unknown tenant or wrong password (deliberately not told apart)."""


class PasswordHashBusy(QuotaError):
    """The password hashing pool is full: retry shortly (503)."""


class KeyNotFound(QuotaError):
    """No such key for this tenant (or at all)."""


class KeyUnknown(QuotaError):
    """The presented API key matches no lease (or none was presented)."""


class KeyExpired(QuotaError):
    """The lease has ended; renew it or create a new key."""


class KeyRevoked(QuotaError):
    """The key was revoked by its owner."""


class KeyOutOfScope(QuotaError):
    """The key may not invoke this function."""


class Rejected(QuotaError):
    """A limit refused the request; nothing was consumed.

    ``reason`` is one of ``rate_limit``, ``quota``, ``uses``; ``retry_after`` is in seconds
    (``None`` when waiting will never help, e.g. uses exhausted).
    """

    def __init__(
        self, reason: str, message: str, retry_after: int | None, decision: Decision | None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after
        self.decision = decision
