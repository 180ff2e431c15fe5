"""Request and response bodies of the HTTP API, each declared once as a pydantic model.

The handlers parse requests with the request models (:class:`Body`) and build their JSON
answers from the response models (:class:`Shape`); :mod:`isogate.gateway.openapi` derives
the document's ``components/schemas`` from the same classes (:data:`SCHEMAS`), so a field
a handler answers is a field the document declares. Response models refuse unknown
fields, and their schemas say ``additionalProperties: false``.

One module per resource: :mod:`.tenants`, :mod:`.keys`, :mod:`.functions`,
:mod:`.secrets`, :mod:`.kv`, :mod:`.schedules`, :mod:`.invocations`, :mod:`.admin`, :mod:`.ops`.
"""

from __future__ import annotations

from pydantic import BaseModel

from isogate.gateway.shapes import (
    admin,
    functions,
    invocations,
    keys,
    kv,
    ops,
    schedules,
    secrets,
    tenants,
)
from isogate.gateway.shapes.base import Body, Shape

#: Every model named in the OpenAPI document: request bodies (validation schema) and
#: response bodies (serialization schema), each under its class name.
REQUESTS: tuple[type[BaseModel], ...] = (
    tenants.Credentials,
    keys.KeyCreate,
    keys.KeyRenew,
    functions.FunctionDeploy,
    functions.Rollback,
    secrets.SecretValue,
    kv.KvNamespaceCreate,
    admin.HostAssign,
)
RESPONSES: tuple[type[Shape], ...] = (
    tenants.Tenant,
    tenants.Token,
    keys.Lease,
    keys.LeaseWithSecret,
    keys.LeaseList,
    functions.Deployed,
    functions.FunctionInfo,
    functions.Version,
    functions.FunctionDetail,
    functions.FunctionList,
    functions.Invocation,
    functions.InvocationList,
    schedules.ScheduleList,
    secrets.Secret,
    secrets.SecretList,
    kv.KvNamespace,
    kv.KvNamespaceList,
    kv.KvKeyList,
    invocations.AsyncAccepted,
    invocations.AsyncInvocation,
    ops.Status,
    admin.RouteHolders,
    admin.HostList,
    admin.HostAssigned,
    admin.HostWithdrawn,
    admin.HostlessGrantList,
    admin.HostlessGranted,
    admin.HostlessWithdrawn,
)

__all__ = ["REQUESTS", "RESPONSES", "Body", "Shape"]
