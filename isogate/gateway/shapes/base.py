"""Base classes and field types shared by the shapes of every resource."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

#: A JSON number answered as it was computed: an ``int`` stays ``3``, never ``3.0``.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
#: An RFC 3339 UTC timestamp (see :func:`isogate.gateway.views.iso`).
Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
NullableTime = Annotated[
    str | None, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})
]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted() -> Any:
    """A field that is left out of the answer when not given (never ``null``): its
    schema is its type, and it is not required."""
    return Field(default=None, json_schema_extra=_no_default)


class Body(BaseModel):
    """A request body: unknown fields refused, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Shape(BaseModel):
    """A response body: only declared fields, in declaration order."""

    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """The answer as JSON data: every field given (``None`` as ``null``); fields
        made with :func:`omitted` and not given are left out."""
        return self.model_dump(mode="json", exclude_unset=True)

    def render(self) -> str:
        """The answer's JSON text, as the API has always written it."""
        return json.dumps(self.dump(), ensure_ascii=False)
