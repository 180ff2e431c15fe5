"""The operator's route controls under ``/v1/admin``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from isogate.gateway.shapes.base import Shape, Time


class HostAssign(BaseModel):
    """Body of ``PUT /v1/admin/hosts/{host}``."""

    # not strict, as it always was (the other bodies are :class:`Body`)
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=63)


class RouteHolder(Shape):
    """A claimed pattern and who holds it."""

    pattern: str
    tenant: str
    function: str


class RouteHolders(Shape):
    """Who holds a pattern, or any pattern matching some of the same requests."""

    pattern: str
    holders: list[RouteHolder]


class HostAssignment(Shape):
    """A hostname assigned to a tenant."""

    host: str
    tenant: str
    assigned_at: Time


class HostList(Shape):
    """Hostname assignments."""

    hosts: list[HostAssignment]


class HostAssigned(Shape):
    """A hostname now assigned."""

    host: str
    tenant: str


class HostWithdrawn(Shape):
    """A withdrawn hostname and how many functions lost routes on it."""

    host: str
    functions_affected: int


class HostlessGrant(Shape):
    """A tenant allowed host-less patterns."""

    tenant: str
    granted_at: Time


class HostlessGrantList(Shape):
    """Tenants allowed host-less patterns."""

    grants: list[HostlessGrant]


class HostlessGranted(Shape):
    """A tenant now allowed host-less patterns."""

    tenant: str


class HostlessWithdrawn(Shape):
    """A withdrawn grant and how many functions lost host-less routes."""

    tenant: str
    functions_affected: int
