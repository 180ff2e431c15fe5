"""Errors the HTTP edge raises itself: requests it cannot read or accept, credentials at
the door, the operator's API, and calls whose outcome is not the function's answer.

Each is a :class:`~isogate.gateway.problems.Problem`: its status, type URI and title come
from the one table in :mod:`isogate.gateway.problems` (by class), never from the place
that raises it. ``detail`` is safe to show; ``headers`` go on the answer (they override
the table's defaults); keyword ``extra`` members go into the problem document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from starlette.responses import Response

PROBLEM_BASE = "https://isogate.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemKind(NamedTuple):
    """What the table says of an error class: status, type (``PROBLEM_BASE`` + slug),
    title, and headers every such answer carries unless the error gives its own."""

    status: int
    slug: str
    title: str
    headers: Mapping[str, str] = {}


class Problem(Exception):
    """An error answered as an RFC 9457 problem document.

    Subclasses (below) are the gateway's own errors; their kind comes from the table in
    :mod:`isogate.gateway.problems`. :func:`~isogate.gateway.problems.to_problem` makes
    one of any other exception, with the kind the table gives its class.
    """

    def __init__(
        self,
        detail: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        kind: ProblemKind | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra
        self._kind = kind

    @property
    def kind(self) -> ProblemKind:
        """Status, slug and title of this problem (the table's entry for its class)."""
        if self._kind is None:
            from isogate.gateway.problems import kind_of  # the table imports this module

            self._kind = kind_of(type(self))
        return self._kind

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.kind.status

    @property
    def slug(self) -> str:
        """The last segment of the type URI."""
        return self.kind.slug

    @property
    def title(self) -> str:
        """The short, fixed summary of the kind."""
        return self.kind.title

    def response(self, instance: str | None = None) -> Response:
        """The problem as a response."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return Response(
            json.dumps(body, ensure_ascii=False),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers={**self.kind.headers, **self.headers},
        )


# 400


class BadRequest(Problem):
    """The request's framing is broken (Content-Length, Transfer-Encoding)."""


class ClientDisconnected(Problem):
    """The caller left before its request was read."""


class MalformedJson(Problem):
    """A JSON body that does not parse."""


class UnreadableBody(Problem):
    """A multipart body that cannot be read as a form."""


class InvalidEncoding(Problem):
    """Text that is not UTF-8 (or holds NUL)."""


class InvalidCode(Problem):
    """Source that does not compile (``line``, ``column`` in extra)."""


# 401, 403, 404


class Unauthorized(Problem):
    """Missing or wrong credentials (each caller passes its own ``WWW-Authenticate``)."""


class RegistrationClosed(Problem):
    """Registration needs the admin token."""


class AdminDisabled(Problem):
    """No admin token is configured."""


class AdminOnly(Problem):
    """A tenant's token on the operator's API."""


class NotFound(Problem):
    """No such resource (or the caller may not know of it)."""


class TenantNotFound(Problem):
    """No such tenant (operator's API)."""


class RouteNotFound(Problem):
    """Nobody holds the route pattern (operator's API)."""


# 408, 413, 415, 422, 431


class RequestTimeout(Problem):
    """The request body did not arrive in time."""


class BodyTooLarge(Problem):
    """The request body is over its limit."""


class ModuleTooLarge(Problem):
    """One module of a module set is over its limit (``module`` in extra)."""


class UnsupportedMediaType(Problem):
    """A body of a media type the operation does not take."""


class InvalidRequest(Problem):
    """A body or parameter that does not validate (``errors`` in extra, sometimes)."""


class InvalidFunctionRequest(Problem):
    """A deploy's code or options the edge refuses before the registry sees them."""


class InvalidModule(Problem):
    """A module of a module set is unacceptable (``module`` in extra)."""


class CodeCrashed(Problem):
    """The code threw while it loaded at deploy."""


class HeadersTooLarge(Problem):
    """Request header fields over the limits."""


# 429


class AuthRateLimited(Problem):
    """Too many (failed) authentication attempts from one address."""


class DeployRateLimited(Problem):
    """Too many deploys of one tenant per minute."""


class TooManyDeploys(Problem):
    """Too many deploys of one tenant checked at once."""


class CrashBudgetSpent(Problem):
    """The tenant's functions crashed the runtime too often."""


class AsyncQueueFull(Problem):
    """Too many unfinished asynchronous invocations of the tenant."""


class TenantBusy(Problem):
    """Too many of the tenant's calls wait for an executor."""


# 5xx: the call's outcome, the gateway's own state


class FunctionFailed(Problem):
    """The function threw."""


class FunctionUnsettled(Problem):
    """The function's promise never settled."""


class FunctionLoadFailed(Problem):
    """The function's code could not load."""


class InternalError(Problem):
    """A bug: nothing of it is shown."""


class AsyncDisabled(Problem):
    """Asynchronous invocations are off."""


class RuntimeCrashed(Problem):
    """The runtime died while it ran the call."""


class RuntimeFailed(Problem):
    """The runtime failed or did not answer, or the function's answer was unusable."""


class ResponseTooLarge(Problem):
    """The function's response is over its limit."""


class Overloaded(Problem):
    """No executor is free."""


class Quarantined(Problem):
    """The function (version, code, tenant) crashed its runtime too often."""


class CodeUnavailable(Problem):
    """The function's code could not be fetched."""


class CpuLimit(Problem):
    """The function used more CPU time than allowed."""


class NotReady(Problem):
    """The replica is not ready (``failing`` in extra, sometimes)."""


class ResponseBuffersFull(Problem):
    """Too many response bytes wait for clients that do not read."""


class RuntimeUnavailable(Problem):
    """No runtime worker can take the call now (one is restarting)."""


class SecretsUnreadable(Problem):
    """The function's secrets cannot be read now."""


class StoreUnreachable(Problem):
    """The metadata store does not answer."""


class UpstreamTimeout(Problem):
    """A dependency timed out."""


class TimeLimit(Problem):
    """The function ran too long."""
