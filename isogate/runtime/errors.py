"""Errors the runtime raises to its caller (tenant misbehaviour is a result, not an error)."""


class RuntimeFailure(Exception):
    """Base class of runtime errors."""


class RuntimeStartError(RuntimeFailure):
    """The runtime cannot start or has no worker to serve with."""


class BodyUnreadable(Exception):
    """A request body the function reads cannot be read on; the message is the
    function's (its read rejects with a ``TypeError`` saying it)."""
