"""Errors the runtime raises to its caller (tenant misbehaviour is a result, not an error)."""


class RuntimeError_(Exception):
    """Base class of runtime errors."""


class RuntimeStartError(RuntimeError_):
    """The runtime cannot start or has no worker to serve with."""
