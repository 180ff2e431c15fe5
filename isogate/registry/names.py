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
#: The operator's paths on every host (ACME challenges, security.txt, ...): no function
#: may claim them, and no pattern (``host/*`` included) ever routes a request there.
OPERATOR_PREFIX = "/.well-known"
#: Host-less patterns that would answer the operator's own root.
OPERATOR_ROOT = ("/", "/*")
MAX_ROUTE = 255
MAX_ROUTES = 20


def check_host(host: object) -> str:
    """Return a hostname lower-cased if valid (DNS labels, no port), else raise."""
    if not isinstance(host, str) or not 0 < len(host) <= 253:
        raise InvalidRoute("hostname must be 1-253 characters")
    host = host.lower()
    if not _HOST.fullmatch(host):
        raise InvalidRoute(f"{host[:60]!r} is not a valid hostname (DNS labels, no port)")
    return host


def check_function_name(name: object) -> str:
    """Return ``name`` if it is a valid DNS label, else raise :class:`InvalidName`."""
    if not isinstance(name, str) or len(name) > 63 or not _LABEL.fullmatch(name):
        raise InvalidName(
            "function name must be 1-63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def normalize_route(pattern: object, operator: bool = False) -> str:
    """Validate a route pattern and return its canonical form (host lower-cased).

    Forms: ``/path``, ``/prefix/*``, ``host.example/path``, ``host.example/prefix/*``.
    ``operator``: accept the operator's reserved paths too (for looking patterns up).
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
    if operator:
        return host + path
    if is_operator_path(bare):
        raise InvalidRoute(f"route {pattern!r}: {OPERATOR_PREFIX}/ is reserved for the operator")
    if not host and path in OPERATOR_ROOT:
        raise InvalidRoute(f"route {pattern!r}: the root is reserved for the operator")
    return host + path


def is_operator_path(path: str) -> bool:
    """Whether a request path (or a pattern's path) lies under ``/.well-known``."""
    return path == OPERATOR_PREFIX or path.startswith(OPERATOR_PREFIX + "/")


def split_route(pattern: str) -> tuple[str, str]:
    """A canonical pattern's (host, path); the host is ``""`` for host-less patterns."""
    slash = pattern.find("/")
    return pattern[:slash], pattern[slash:]


def _path_matches(p_path: str, path: str) -> bool:
    if p_path.endswith("/*"):
        prefix = p_path[:-1]
        return path.startswith(prefix) or path == prefix[:-1]
    return path == p_path


def routes_overlap(a: str, b: str) -> bool:
    """Whether two canonical patterns can match one same request (host and path).

    Host-less patterns match every host; ``/a/*`` matches ``/a`` and everything under
    ``/a/``; so two wildcards overlap when one prefix contains the other.
    """
    a_host, a_path = split_route(a)
    b_host, b_path = split_route(b)
    if a_host and b_host and a_host != b_host:
        return False
    a_wild, b_wild = a_path.endswith("/*"), b_path.endswith("/*")
    if a_wild and b_wild:
        x, y = a_path[:-1], b_path[:-1]
        return x.startswith(y) or y.startswith(x)
    if a_wild:
        return _path_matches(a_path, b_path)
    return _path_matches(b_path, a_path)


def route_matches(pattern: str, host: str, path: str) -> bool:
    """Whether a canonical ``pattern`` matches a request's host (no port) and path."""
    p_host, p_path = split_route(pattern)
    if p_host and p_host != host:
        return False
    return _path_matches(p_path, path)


def route_rank(pattern: str) -> tuple[int, int, int]:
    """Sort key: host-specific first, exact before wildcard, longer first."""
    slash = pattern.find("/")
    return (0 if slash > 0 else 1, 1 if pattern.endswith("*") else 0, -len(pattern))
