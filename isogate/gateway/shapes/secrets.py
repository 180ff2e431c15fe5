"""Function secrets: ``/v1/functions/{name}/secrets``."""

from __future__ import annotations

from isogate.gateway.shapes.base import Body, Number, Shape


class SecretValue(Body):
    """``PUT /v1/functions/{name}/secrets/{secret}`` as JSON (or the raw value as text)."""

    value: str


class Secret(Shape):
    """A secret's name and update time (UNIX seconds); never its value."""

    name: str
    updated_at: Number


class SecretList(Shape):
    """The secrets of a function."""

    secrets: list[Secret]
