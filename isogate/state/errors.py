"""Errors of the tenant state stores (KV, secrets, bindings, the asynchronous queue).

``str(exc)`` is safe to show to the caller (never a secret's value); the gateway maps
each class to a problem (:mod:`isogate.gateway.problems`).
"""

from __future__ import annotations


class KvError(Exception):
    """Base of KV errors."""


class NamespaceNotFound(KvError):
    """No such namespace of this tenant."""


class NamespaceExists(KvError):
    """The tenant already has a namespace with this name."""


class KvKeyNotFound(KvError):
    """No such key (or it expired)."""


class InvalidKv(KvError):
    """A key, value, metadata, expiration or cursor the store refuses."""


class KvQuotaExceeded(KvError):
    """The tenant's KV operations of the day are used up."""


class SecretNotFound(LookupError):
    """No such secret on an owned function."""


class InvalidSecret(ValueError):
    """A name or value the store refuses (the message never holds the value)."""


class SecretsUnavailable(RuntimeError):
    """Secrets cannot be used: no master key configured, or one a secret needs is missing."""


class InvalidBinding(ValueError):
    """A binding refused at deploy; ``binding`` names it."""

    def __init__(self, binding: str, message: str) -> None:
        super().__init__(message)
        self.binding = binding
        self.extra = {"binding": binding}  # into the problem document


class InvalidCron(ValueError):
    """A cron expression refused at deploy; ``cron`` is the expression."""

    def __init__(self, cron: str, message: str) -> None:
        super().__init__(message)
        self.cron = cron
        self.extra = {"cron": cron}  # into the problem document


class QueueFull(Exception):
    """The tenant already has as many unfinished asynchronous invocations as allowed."""
