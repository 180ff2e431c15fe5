"""``POST /v1/tenants`` and ``POST /v1/auth/token``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from isogate.gateway.shapes.base import Body, Shape, Time

NameStr = Annotated[str, StringConstraints(min_length=1, max_length=63)]


class Credentials(Body):
    """``POST /v1/tenants`` and ``POST /v1/auth/token``."""

    name: NameStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Tenant(Shape):
    """A registered tenant."""

    name: str
    created_at: Time


class Token(Shape):
    """A short-lived bearer token."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
