"""Outbound ``fetch`` of tenant functions, performed by a worker process on its I/O loop.

:func:`fetch` takes a request as plain data (a ``FetchSpec``, checked by
runtime/fetch_request.py) and answers plain data (runtime/fetch_response.py): a
``FetchResult``, whose body fetch_response.py reads, or a ``FetchFailure``. This module
holds what lies between: the hops.

Every hop (the first request and each redirect) is checked against the
:class:`~isogate.runtime.egress.EgressPolicy`: the host by name, then each resolved
address; the request is then sent *to the address that was checked* (the URL's host
replaced by the IP literal, the ``Host`` header and TLS name kept), so a DNS answer
that changes between check and connect cannot redirect it (DNS rebinding). The policy
itself lives in egress.py. Requests go through the client of :func:`new_client`, whose
connection pools are kept apart per TLS server name (``_EgressTransport``).

Decisions that mirror workerd (checked against workerd 1.2024x on a 127.0.0.1 upstream):
no ``Accept-Encoding`` or ``User-Agent`` is added; ``Content-Length`` goes first, then
``Host``, then the request's own headers. Those of the response side (decoding) are
in fetch_response.py; docs/operations.md, "Egress", has the whole list.

What would split off if it grows: the per-TLS-name connection pools
(``_EgressTransport``, :func:`new_client`) into a transport module.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import ipaddress
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from isogate.runtime.egress import EgressPolicy, normalize_host, parse_ip

from .fetch_request import FetchSpec, check, parse_url
from .fetch_response import LOST, FetchFailed, FetchFailure, FetchResult, read_body, type_error

#: ``await resolver(host, port)`` -> IP address strings, in the order to try them.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Fetch standard: dropped when a redirect turns the request into a GET without body.
# Dropped when a redirect turns the request into a GET without body. The Fetch
# standard also drops Content-Type/-Encoding/-Language/-Location; workerd keeps them
# (recorded in tests/conformance, loop-redirects), and so do we.
_REQUEST_BODY_HEADERS = frozenset({"content-length"})


# ------------------------------------------------------------------ resolving


async def default_resolver(host: str, port: int) -> list[str]:
    """The event loop's ``getaddrinfo`` (in its thread pool): TCP addresses, in order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = str(sockaddr[0])
        if ip not in out:
            out.append(ip)
    return out


def local_addresses() -> list[str]:
    """This host's interface addresses (Linux ``/proc``; elsewhere: its hostname's).

    For :class:`EgressPolicy`'s ``local_addresses`` when the gateway listens on
    ``0.0.0.0``/``::``: a fetch to one of them on the gateway's port is a loop.
    Blocking (reads files, may resolve): call it once at start-up.
    """
    found: set[str] = set()
    with contextlib.suppress(OSError):
        # fib_trie lists each local IPv4 address followed by "/32 host LOCAL"
        last = ""
        for line in Path("/proc/net/fib_trie").read_text().splitlines():
            text = line.strip()
            if text.startswith(("|--", "+--")):
                last = text[3:].strip()
            elif text.startswith("/32 host LOCAL") and last:
                found.add(last)
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            hexaddr = line.split()[0]
            found.add(str(ipaddress.IPv6Address(bytes.fromhex(hexaddr))))
    if not found:
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(socket.gethostname(), None):
                found.add(str(info[4][0]).split("%", 1)[0])
    return sorted(found)


# ------------------------------------------------------------------ the client


class _NoCookies(http.cookiejar.CookieJar):
    """httpx's client keeps every Set-Cookie it sees; tenants must not share a jar."""

    def extract_cookies(self, response: object, request: object) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


class _CountedStream(httpx.AsyncByteStream):
    """A response stream that tells its pool entry when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, done: Callable[[], None]) -> None:
        self._inner = inner
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()


class _Pool:
    __slots__ = ("busy", "transport")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.busy = 0


class _EgressTransport(httpx.AsyncBaseTransport):
    """Connection pools kept apart per TLS server name.

    Requests go to IP literals, and httpcore pools connections by scheme, host and port:
    two names on one IP (a CDN) would share a TLS connection whose certificate was
    checked for the first name only. So each ``sni_hostname`` gets its own pool (an LRU
    of ``max_tls_names``; an evicted pool closes once its last response is closed).
    Plain HTTP shares one pool (``Host`` travels with each request).
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool,
        limits: httpx.Limits,
        tls_limits: httpx.Limits,
        max_tls_names: int,
    ) -> None:
        self._verify = verify
        self._tls_limits = tls_limits
        self._max = max_tls_names
        self._plain = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
        self._tls: OrderedDict[str, _Pool] = OrderedDict()
        self._retired: list[_Pool] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sni = request.extensions.get("sni_hostname")
        if request.url.scheme != "https" or not sni:
            return await self._plain.handle_async_request(request)
        name = sni.decode("ascii") if isinstance(sni, bytes) else str(sni)
        pool = self._tls.get(name)
        if pool is None:
            pool = _Pool(
                httpx.AsyncHTTPTransport(
                    verify=self._verify, limits=self._tls_limits, trust_env=False
                )
            )
            self._tls[name] = pool
        self._tls.move_to_end(name)
        await self._evict()
        pool.busy += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.busy -= 1
            raise

        def done() -> None:
            pool.busy -= 1

        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CountedStream(response.stream, done)
        return response

    async def _evict(self) -> None:
        while len(self._tls) > self._max:
            _name, old = self._tls.popitem(last=False)
            self._retired.append(old)
        keep = []
        for pool in self._retired:
            if pool.busy:
                keep.append(pool)
            else:
                await pool.transport.aclose()
        self._retired = keep

    async def aclose(self) -> None:
        await self._plain.aclose()
        for pool in [*self._tls.values(), *self._retired]:
            await pool.transport.aclose()
        self._tls.clear()
        self._retired.clear()


def new_client(
    *,
    verify: ssl.SSLContext | bool = True,
    max_connections: int = 200,
    max_keepalive: int = 50,
    keepalive_expiry_s: float = 30.0,
    max_tls_names: int = 256,
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` :func:`fetch` needs; one per worker process, closed with
    ``await client.aclose()``.

    No proxies or netrc from the environment (``trust_env=False``), no redirects (fetch
    follows them itself, checking each hop), no cookie jar, HTTP/1.1. ``verify``: an
    ``ssl.SSLContext`` of trusted CAs (tests), else the system's.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive,
        keepalive_expiry=keepalive_expiry_s,
    )
    tls_limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_keepalive, 4),
        keepalive_expiry=keepalive_expiry_s,
    )
    transport = _EgressTransport(
        verify=verify, limits=limits, tls_limits=tls_limits, max_tls_names=max_tls_names
    )
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        cookies=_NoCookies(),
        headers={},
    )


def _check_client(client: httpx.AsyncClient) -> None:
    if client.trust_env or client.follow_redirects:
        raise ValueError("fetch needs a client from new_client() (trust_env and redirects off)")
    if not isinstance(client.cookies.jar, _NoCookies):
        raise ValueError("fetch needs a client from new_client() (no cookie jar)")


# ------------------------------------------------------------------ fetch


@dataclass(slots=True)
class _State:
    host: str = ""  # the host of the current hop, for messages
    stream_after: int | None = None


async def fetch(
    spec: FetchSpec,
    *,
    policy: EgressPolicy,
    client: httpx.AsyncClient,
    timeout_s: float,
    max_response_bytes: int,
    max_redirects: int,
    resolver: Resolver = default_resolver,
    stream_after: int | None = None,
    upload_rest: Callable[[], Awaitable[bytes | None]] | None = None,
) -> FetchResult | FetchFailure:
    """Perform one tenant fetch; never raises for anything the tenant or network caused.

    ``timeout_s`` bounds everything (resolving, connecting, redirects, the body). A
    cancelled task (the tenant aborted, the invocation ended) closes the response and
    re-raises :class:`asyncio.CancelledError`. ``ValueError`` only for a client not made
    by :func:`new_client`.

    ``stream_after``: a body larger than this many bytes is not read whole; the result
    holds its start and :attr:`FetchResult.rest`, from which the caller reads on (and
    which it must close).

    ``upload_rest``: with ``spec.upload``, the rest of that body, part by part (None at
    its end); the body is sent as it comes, chunked.
    """
    _check_client(client)
    state = _State(stream_after=stream_after)
    try:
        async with asyncio.timeout(timeout_s):
            return await _fetch(
                spec,
                state,
                policy,
                client,
                timeout_s,
                max_response_bytes,
                max_redirects,
                resolver,
                upload_rest,
            )
    except FetchFailed as failed:
        return failed.failure
    except TimeoutError:
        where = f" to {state.host}" if state.host else ""
        return FetchFailure(
            "TimeoutError", f"fetch{where} timed out after {round(timeout_s * 1000)} ms"
        )


async def _fetch(
    spec: FetchSpec,
    state: _State,
    policy: EgressPolicy,
    client: httpx.AsyncClient,
    timeout_s: float,
    max_bytes: int,
    max_redirects: int,
    resolver: Resolver,
    upload_rest: Callable[[], Awaitable[bytes | None]] | None = None,
) -> FetchResult | FetchFailure:
    url, method, headers = check(spec)
    body: bytes | AsyncIterator[bytes] | None = spec.body
    if spec.upload is not None:
        body = _streamed(spec.upload, upload_rest)
    redirects = 0
    keep: httpx.Response | None = None
    visited = [str(url)]  # workerd names them all when there are too many
    while True:
        state.host = _shown(url)
        response = await _send_checked(
            client, policy, resolver, url, method, headers, body, timeout_s
        )
        try:
            status = response.status_code
            if status in _REDIRECT_STATUSES and spec.redirect != "manual":
                if spec.redirect == "error":
                    raise type_error(
                        f"fetch to {state.host} failed: the response was a redirect"
                        " and redirect mode is 'error'"
                    )
                location = response.headers.get_list("location")
                if location and body is not None and not isinstance(body, bytes) and status != 303:
                    # Fetch, HTTP-redirect fetch: a body read from a stream cannot be sent
                    # again, so only a 303 (which drops it) may be followed
                    raise type_error(
                        f"fetch to {state.host} failed: the redirect would send the"
                        " request's stream body again"
                    )
                if location:
                    if len(set(location)) > 1:
                        raise type_error(
                            f"fetch to {state.host} failed: the redirect has several Locations"
                        )
                    redirects += 1
                    if redirects > max_redirects:
                        raise type_error("Too many redirects." + ", ".join(visited))
                    target = parse_url(location[0], base=url)
                    visited.append(str(target))
                    if (status == 303 and method not in ("GET", "HEAD")) or (
                        status in (301, 302) and method == "POST"
                    ):
                        method, body = "GET", None
                        headers = [h for h in headers if h[0].lower() not in _REQUEST_BODY_HEADERS]
                    if _origin(target) != _origin(url):
                        # Fetch standard: Authorization does not follow to another origin
                        headers = [h for h in headers if h[0].lower() != "authorization"]
                    url = target
                    continue
            data, rest = await read_body(response, state.host, max_bytes, state.stream_after)
            if rest is not None:
                keep = response  # the function reads on: BodyRest closes it
            return FetchResult(
                status=status,
                status_text=response.reason_phrase,
                headers=[
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in response.headers.raw
                ],
                body=data,
                url=str(url.copy_with(fragment=None)) if url.fragment else str(url),
                redirected=redirects > 0,
                rest=rest,
            )
        finally:
            if keep is not response:
                await response.aclose()


def _shown(url: httpx.URL) -> str:
    """The host as messages name it (IPv6 literals in brackets, as in the URL)."""
    host = url.raw_host.decode("ascii")
    return f"[{host}]" if ":" in host else host


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return (url.scheme, url.raw_host, url.port)


async def _send_checked(
    client: httpx.AsyncClient,
    policy: EgressPolicy,
    resolver: Resolver,
    url: httpx.URL,
    method: str,
    headers: list[tuple[str, str]],
    body: bytes | AsyncIterator[bytes] | None,
    timeout_s: float,
) -> httpx.Response:
    """Check the hop, resolve, check each address, send to the first allowed one that
    accepts a connection. The response is streaming (the caller closes it)."""
    shown = _shown(url)
    host = normalize_host(shown)
    port = url.port or (443 if url.scheme == "https" else 80)

    decision = policy.check_host(host)
    if not decision.allowed:
        raise FetchFailed(
            "TypeError", f"fetch to {shown} refused by egress policy: {decision.reason}", "refused"
        )
    literal = parse_ip(host)
    if literal is not None:
        candidates = [str(literal)]
    else:
        try:
            candidates = list(await resolver(host, port))
        except (OSError, UnicodeError):  # socket.gaierror and friends
            raise type_error(
                f"fetch to {shown} failed: the host name could not be resolved"
            ) from None
        if not candidates:
            raise type_error(f"fetch to {shown} failed: the host name could not be resolved")

    allowed: list[str] = []
    first_refusal = ""
    for ip in candidates:
        d = policy.check_address(host, ip, port)
        if d.allowed:
            allowed.append(ip)
        elif not first_refusal:
            first_refusal = d.reason
    if not allowed:
        raise FetchFailed(
            "TypeError", f"fetch to {shown} refused by egress policy: {first_refusal}", "refused"
        )

    # Host as the tenant's URL has it (port only when it is not the scheme's default)
    # (in workerd's order: Content-Length first, then Host, then the request's own)
    wire_headers = [("Host", url.netloc.decode("ascii")), *headers]
    if isinstance(body, bytes):
        wire_headers.insert(0, ("Content-Length", str(len(body))))
    elif body is not None:
        wire_headers.insert(0, ("Transfer-Encoding", "chunked"))  # its length is unknown
    elif method not in ("GET", "HEAD"):
        wire_headers.insert(0, ("Content-Length", "0"))  # as workerd sends it
    extensions: dict[str, object] = {
        "timeout": httpx.Timeout(timeout_s).as_dict(),
    }
    if url.scheme == "https" and literal is None:
        # TLS server name and certificate check use the name, the TCP connection the IP
        extensions["sni_hostname"] = host
    for ip in allowed:
        target = url.copy_with(host=ip, fragment=None)
        request = httpx.Request(
            method, target, headers=wire_headers, content=body, extensions=extensions
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            if ip != allowed[-1]:
                continue  # the next checked address of the same name
            reason = _connect_reason(exc)
            if reason is None:  # refused, reset, unreachable: workerd's plain Error
                raise FetchFailed("Error", LOST) from None
            raise type_error(f"fetch to {shown} failed: {reason}") from None
        except httpx.TimeoutException:
            raise type_error(
                f"fetch to {shown} failed: the server did not answer in time"
            ) from None
        except httpx.LocalProtocolError:
            raise type_error(f"fetch to {shown} failed: the request could not be sent") from None
        except httpx.TransportError:
            raise FetchFailed("Error", LOST) from None
    raise AssertionError("unreachable")


async def _streamed(
    head: bytes, rest: Callable[[], Awaitable[bytes | None]] | None
) -> AsyncIterator[bytes]:
    """A request body sent as it arrives: ``head``, then each part ``rest`` gives."""
    if head:
        yield head
    if rest is None:
        return
    while (part := await rest()) is not None:
        if part:
            yield part


def _connect_reason(exc: BaseException) -> str | None:
    """A tenant-safe reason for a failed connection (no Python or OpenSSL text)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "the server's TLS certificate is not valid for this host"
        if isinstance(cause, ssl.SSLError):
            return "the TLS handshake failed"
        cause = cause.__cause__ or cause.__context__
    return None  # refused, reset, unreachable: workerd says LOST
