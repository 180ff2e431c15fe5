"""A fetch's request as the prelude hands it over, and the host's check of it.

:class:`FetchSpec` is one fetch as plain data: the prelude has made the tenant's
arguments a normalised ``Request`` and sends its method, URL, headers, body and redirect
mode. :func:`check` reads that data again on the host's side before anything is sent:
an ``http``/``https`` URL with a host and without credentials, a method that is a token
(not ``CONNECT``, ``TRACE`` or ``TRACK``; the standard ones upper-cased), header names
that are tokens and values without NUL, CR or LF, no body with ``GET`` or ``HEAD``, a
known redirect mode. What fails is a tenant-safe ``TypeError``
(:class:`~isogate.runtime.fetch_response.FetchFailed`). Headers that are the
connection's business (``Host``, ``Content-Length``, hop-by-hop) are dropped: the
fetcher (runtime/fetcher.py) sets ``Host`` and ``Content-Length`` for each hop, and
reads each redirect's ``Location`` with :func:`parse_url`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from .fetch_response import LOST, FetchFailed, type_error

# The connection's business, not the tenant's: the fetcher sets Host and Content-Length.
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "upgrade",
        "trailer",
    }
)
_FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
_NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\x00\r\n]")


@dataclass(frozen=True, slots=True)
class FetchSpec:
    """One fetch as the tenant asked for it (already a normalised Request in the prelude)."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    redirect: str = "follow"  # "follow" | "manual" | "error"
    #: the start of the invocation's own request body, passed on untouched: the fetcher
    #: sends it, then the rest as it arrives from the gateway (a body whose source is a
    #: stream, sent chunked); ``body`` is then None
    upload: bytes | None = None


def check(spec: FetchSpec) -> tuple[httpx.URL, str, list[tuple[str, str]]]:
    """The URL, method and headers ``spec`` is sent with (its body goes as it is);
    raises :class:`~isogate.runtime.fetch_response.FetchFailed` for a request that
    cannot be sent."""
    if spec.redirect not in ("follow", "manual", "error"):
        raise type_error(f"fetch failed: invalid redirect mode {spec.redirect[:20]!r}")
    url = parse_url(spec.url)
    method = _clean_method(spec.method)
    headers = _clean_headers(spec.headers)
    if (spec.body is not None or spec.upload is not None) and method in ("GET", "HEAD"):
        raise type_error("Request with a GET or HEAD method cannot have a body.")
    return url, method, headers


def parse_url(text: str, base: httpx.URL | None = None) -> httpx.URL:
    """``text`` as a URL a fetch may go to (``base``: the URL a redirect came from)."""
    try:
        url = base.join(text) if base is not None else httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise type_error(f"fetch failed: invalid URL: {text[:200]}") from None
    if url.scheme not in ("http", "https"):
        if base is not None:  # a redirect elsewhere: workerd loses the connection
            raise FetchFailed("Error", LOST)
        raise type_error(f"Fetch API cannot load: {text[:2000]}")
    if not url.raw_host:
        raise type_error(f"fetch failed: invalid URL: {text[:200]}")
    if url.userinfo:
        raise type_error("fetch failed: a URL with credentials (user:password@) is not allowed")
    return url


def _clean_method(method: str) -> str:
    if not _TOKEN.match(method):
        raise type_error(f"fetch failed: invalid method {method[:40]!r}")
    upper = method.upper()
    if upper in _FORBIDDEN_METHODS:
        raise type_error(f"fetch failed: method {upper} is not allowed")
    return upper if upper in _NORMALIZED_METHODS else method


def _clean_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in headers:
        if not _TOKEN.match(name):
            raise type_error(f"fetch failed: invalid header name {name[:60]!r}")
        if _BAD_VALUE.search(value):
            raise type_error(f"fetch failed: invalid value of header {name!r}")
        if name.lower() not in _DROPPED_REQUEST_HEADERS:
            out.append((name, value))
    return out
