"""What a function sees of the client's request: URL and headers, shaped by the gateway.

* Credentials the gateway consumes never reach function code, public or keyed:
  ``X-API-Key`` always, and ``Authorization`` when it carries an ``isg_`` API key. A
  function that needs the caller's identity reads the gateway-set headers
  ``X-Isogate-Key-Id`` and ``X-Isogate-Tenant`` (keyed functions only).
* Headers the gateway sets are its own: every client-sent ``X-Isogate-*`` header and
  ``X-Forwarded-Prefix`` is removed first, so they cannot be spoofed.
* Mount prefix: a function called as ``/fn/NAME/rest?q`` sees ``/rest?q`` with
  ``X-Forwarded-Prefix: /fn/NAME``, as a Worker on its own domain would; one reached
  through its own route patterns sees the full path.
"""

from __future__ import annotations

from collections.abc import Iterable

from isogate.quota.keys import SECRET_PREFIX
from isogate.quota.models import ApiKey

#: Header prefix reserved for what the gateway tells functions.
GATEWAY_PREFIX = "x-isogate-"
#: lower-case, as every other header name a function receives (HTTP/2 and ASGI style)
KEY_ID_HEADER = "x-isogate-key-id"
TENANT_HEADER = "x-isogate-tenant"
FORWARDED_PREFIX = "x-forwarded-prefix"


def carries_api_key(name: str, value: str) -> bool:
    """Whether a request header holds an API key the gateway consumes."""
    name = name.lower()
    if name == "x-api-key":
        return True
    if name != "authorization":
        return False
    # "Bearer isg_…", any scheme spelling, or a bare "isg_…" with no scheme at all
    return any(part.lower().startswith(SECRET_PREFIX) for part in value.split())


def function_headers(
    raw: Iterable[tuple[bytes, bytes]], key: ApiKey | None, mount_prefix: str | None
) -> tuple[tuple[str, str], ...]:
    """The request headers handed to a function (see the module docstring)."""
    out: list[tuple[str, str]] = []
    for k, v in raw:
        name, value = k.decode("latin-1"), v.decode("latin-1")
        low = name.lower()
        if low.startswith(GATEWAY_PREFIX) or low == FORWARDED_PREFIX:
            continue
        if carries_api_key(low, value):
            continue
        out.append((name, value))
    if key is not None:
        out.append((KEY_ID_HEADER, key.id))
        out.append((TENANT_HEADER, key.tenant))
    if mount_prefix is not None:
        out.append((FORWARDED_PREFIX, mount_prefix))
    return tuple(out)


def unmounted_url(url: str, mount_prefix: str) -> str:
    """``url`` with ``mount_prefix`` cut from the start of its path (``/`` at least)."""
    scheme_end = url.find("//")
    start = url.find("/", scheme_end + 2 if scheme_end >= 0 else 0)
    if start < 0 or not url.startswith(mount_prefix, start):
        return url
    rest = url[start + len(mount_prefix) :]
    if not rest.startswith("/"):  # "" or "?query"
        rest = "/" + rest
    return url[:start] + rest


def scoped_set_cookie(value: str, mount_prefix: str) -> str:
    """A function's ``Set-Cookie`` on the shared origin, confined to its own mount.

    All functions share the gateway's origin, so a cookie is the function's only if its
    path is. The function's ``Path`` (as it sees paths: relative to the mount) is moved
    under ``mount_prefix`` (none or ``/`` → the prefix itself, which browsers match for
    ``/fn/NAME`` and ``/fn/NAME/…`` only), and ``Domain`` is dropped (host-only). A
    ``__Host-`` cookie, which must have ``Path=/``, is refused by the browser: that is
    the point, the origin's root is nobody's.
    """
    head, *attrs = value.split(";")
    path = "/"
    kept: list[str] = []
    for attr in attrs:
        name, _, val = attr.strip().partition("=")
        low = name.strip().lower()
        if low == "path":
            path = val.strip() if val.strip().startswith("/") else "/"
        elif low != "domain" and attr.strip():
            kept.append(attr.strip())
    full = mount_prefix if path == "/" else mount_prefix + path
    return "; ".join([head.strip(), *kept, f"Path={full}"])
