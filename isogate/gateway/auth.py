"""Control-plane authentication: HS256 login tokens (PyJWT) and the admin token.

The algorithm is pinned (``algorithms=["HS256"]``) and ``exp``, ``iat``, ``sub`` are
required, so ``alg: none`` and algorithm confusion are refused. In embedded mode the
signing key is generated once and kept in ``<data_dir>/jwt_secret`` (mode 0600).
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from starlette.requests import Request

from isogate.caches import TTL
from isogate.config import Settings
from isogate.gateway.errors import Unauthorized
from isogate.gateway.problems import Problem

ALGORITHM = "HS256"
ISSUER = "isogate"


def load_jwt_secret(settings: Settings) -> bytes:
    """The signing key: from settings, else from (or newly created in) the data dir."""
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
        if len(secret) < 32:
            raise ValueError("jwt_secret (ISOGATE_JWT_SECRET) must be at least 32 bytes")
        return secret
    path: Path = settings.jwt_secret_path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_text().strip()
        if len(data) < 32:
            raise ValueError(f"{path} holds no usable key; delete it to generate one") from None
        return data.encode()
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    return value.encode()


class TokenIssuer:
    """Issues and verifies tenants' control-plane tokens."""

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: int,
        known_ttl_seconds: float = 30.0,
        known_entries: int = 100_000,
    ) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        #: tenants seen to exist (a deleted tenant's token works at most this long more)
        self._known: TTL[str, bool] = TTL(
            "tenants", known_entries, known_ttl_seconds, time.monotonic
        )

    async def tenant_exists(self, tenant: str, store: Any) -> bool:
        """Whether ``tenant`` exists (positive answers cached a few seconds)."""
        if self._known.lookup(tenant, False):
            return True
        if not await store.exists(tenant):
            self._known.pop(tenant, None)
            return False
        self._known[tenant] = True
        return True

    def issue(self, tenant: str) -> str:
        """A signed token for ``tenant``."""
        now = int(time.time())
        claims = {"sub": tenant, "iat": now, "exp": now + self.ttl_seconds, "iss": ISSUER}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The tenant named by a valid token, else a 401 problem."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the token has expired; log in again") from None
        except jwt.PyJWTError:
            raise _unauthorized("invalid token") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _unauthorized("invalid token")
        for claim in ("exp", "iat", "nbf"):  # NumericDate is a JSON number (RFC 7519)
            value = claims.get(claim, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _unauthorized("invalid token")
        if claims["exp"] - time.time() > self.ttl_seconds + 60:  # longer than we ever issue
            raise _unauthorized("invalid token")
        return sub


def _unauthorized(detail: str) -> Problem:
    return Unauthorized(detail, {"WWW-Authenticate": 'Bearer realm="isogate"'})


def bearer(request: Request) -> str | None:
    """The bearer credential of the request, if any."""
    value = request.headers.get("authorization", "")
    scheme, _, cred = value.partition(" ")
    if scheme.lower() != "bearer" or not cred.strip():
        return None
    return cred.strip()


async def require_tenant(request: Request) -> str:
    """The tenant of the request's login token; 401 problem if absent or invalid, or if
    the tenant does not exist (a token signed for an unknown or deleted tenant)."""
    token = bearer(request)
    if token is None:
        raise _unauthorized("log in and send 'Authorization: Bearer <token>'")
    services = request.app.state.services
    issuer: TokenIssuer = services.tokens
    tenant = issuer.verify(token)
    if not await issuer.tenant_exists(tenant, services.tenants):
        raise _unauthorized("invalid token")
    return tenant


def is_admin(request: Request, settings: Settings) -> bool:
    """Whether the request carries the configured admin token."""
    if settings.admin_token is None:
        return False
    token = bearer(request)
    if token is None:
        return False
    return hmac.compare_digest(token.encode(), settings.admin_token.get_secret_value().encode())
