"""Errors of functions, versions, routes and code blobs. The gateway maps them to HTTP."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of this package's errors; ``str(exc)`` is safe to show to the caller."""


class StoreUnavailable(RegistryError):
    """The metadata or blob store did not answer within its deadline."""


class InvalidName(RegistryError):
    """A function name breaks the DNS-label rules."""


class InvalidRoute(RegistryError):
    """A route pattern is malformed or reserved."""


class InvalidFunction(RegistryError):
    """Source, env or limits of a deploy are unacceptable."""


class FunctionNotFound(RegistryError):
    """No such function (or it belongs to another tenant, which is not told apart)."""


class VersionNotFound(RegistryError):
    """The function has no such version."""


class NameTaken(RegistryError):
    """The function name belongs to another tenant."""


class RouteConflict(RegistryError):
    """A route pattern can match the same requests as another tenant's pattern.

    ``extra`` (the patterns involved, never their owner) goes into the problem document.
    """

    def __init__(self, message: str, **extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class RouteForbidden(RegistryError):
    """The tenant may not claim this pattern: its hostname is not assigned to the tenant,
    or it has no host and the operator granted none."""


class RouteLimit(RegistryError):
    """The tenant would hold more route patterns than the operator allows."""


class HostTaken(RegistryError):
    """The hostname is already assigned to another tenant."""


class BlobMissing(RegistryError):
    """A code blob is absent or corrupt."""


class LimitExceeded(RegistryError):
    """A tenant's limit on functions or stored code would be exceeded by this deploy."""
