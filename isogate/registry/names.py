"""Function names (DNS labels) and route patterns (``[host]/path[*]``)."""

from __future__ import annotations

import re

from isogate.registry.errors import InvalidName, InvalidRoute

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()+,;=:@%/-]*\*?")
#: Paths the gateway itself serves; no function may claim them.
RESERVED = ("/v1", "/fn", "/metrics", "/healthz", "/readyz", "/openapi.json")
MAX_ROUTE = 255
MAX_ROUTES = 20


def check_function_name(name: object) -> str:
    """Return ``name`` if it is a valid DNS label, else raise :class:`InvalidName`."""
    if not isinstance(name, str) or len(name) > 63 or not _LABEL.fullmatch(name):
        raise InvalidName(
            "function name must be 1-63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def normalize_route(pattern: object) -> str:
    """Validate a route pattern and return its canonical form (host lower-cased).

    Forms: ``/path``, ``/prefix/*``, ``host.example/path``, ``host.example/prefix/*``.
    """
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_ROUTE:
        raise InvalidRoute(f"route must be a string of 1-{MAX_ROUTE} characters")
    slash = pattern.find("/")
    if slash < 0:
        raise InvalidRoute(f"route {pattern!r} must contain a path starting with '/'")
    host, path = pattern[:slash].lower(), pattern[slash:]
    if host and not _HOST.fullmatch(host):
        raise InvalidRoute(f"route {pattern!r} has an invalid host")
    if not _PATH.fullmatch(path) or "//" in path:
        raise InvalidRoute(f"route {pattern!r} has an invalid path (only a trailing '*' allowed)")
    segments = path.split("/")
    if any(s in (".", "..") for s in segments):
        raise InvalidRoute(f"route {pattern!r} may not contain '.' or '..' segments")
    if path.endswith("*") and not path.endswith("/*"):
        raise InvalidRoute(f"route {pattern!r}: '*' must follow a '/'")
    bare = path.rstrip("*")
    for reserved in RESERVED:
        if bare.rstrip("/") == reserved or bare.startswith(reserved + "/"):
            raise InvalidRoute(f"route {pattern!r} overlaps the gateway's own path {reserved}")
    return host + path


def route_matches(pattern: str, host: str, path: str) -> bool:
    """Whether a canonical ``pattern`` matches a request's host (no port) and path."""
    slash = pattern.find("/")
    p_host, p_path = pattern[:slash], pattern[slash:]
    if p_host and p_host != host:
        return False
    if p_path.endswith("/*"):
        prefix = p_path[:-1]
        return path.startswith(prefix) or path == prefix[:-1]
    return path == p_path


def route_rank(pattern: str) -> tuple[int, int, int]:
    """Sort key: host-specific first, exact before wildcard, longer first."""
    slash = pattern.find("/")
    return (0 if slash > 0 else 1, 1 if pattern.endswith("*") else 0, -len(pattern))
