"""The answer of a fetch as data, and the reading of a response's body.

A fetch answers a :class:`FetchResult` (a response) or a :class:`FetchFailure` (no
response: a JS error name and a tenant-safe message, which the prelude throws as
``new TypeError(message)``, the other names as ``new DOMException(message, name)``).
Nothing of Python reaches the tenant. Inside the fetch modules a failure travels as
the exception :class:`FetchFailed` until :func:`isogate.runtime.fetcher.fetch` returns
it.

:func:`read_body` reads a response's body under the response size limit, which counts
decoded bytes (a small compressed body cannot expand past it: the decoders stop at the
limit); past ``stream_after`` bytes it returns the start and a :class:`BodyRest` from
which the function reads on, a chunk at a time.

Decisions that mirror workerd (checked against workerd 1.2024x on a 127.0.0.1 upstream):
a response with ``Content-Encoding: gzip`` or ``br`` is decoded transparently while its
``Content-Encoding`` and ``Content-Length`` headers are kept as received; other codings
(``deflate``...) pass through as bytes. docs/operations.md, "Egress", has the whole
list.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Literal

import brotli
import httpx

Outcome = Literal["allowed", "refused", "error"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The response: headers in wire order (names lower-case, duplicates such as
    ``set-cookie`` kept), the whole body (decoded for gzip/br), the final URL."""

    status: int
    status_text: str
    headers: list[tuple[str, str]]
    body: bytes
    url: str
    redirected: bool
    outcome: Outcome = "allowed"
    #: the rest of a body larger than ``stream_after``: ``body`` is only its start, and
    #: the function reads on from here (its response stays open until then)
    rest: BodyRest | None = None


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A fetch that produced no response: a JS error ``name`` and a tenant-safe message.

    ``outcome``: ``"refused"`` (egress policy) or ``"error"`` (network, limits, time).
    """

    name: str
    message: str
    outcome: Outcome = "error"


class FetchFailed(Exception):
    """Ends a fetch with a failure (raised inside the fetch modules only; ``fetch``
    returns its :attr:`failure`)."""

    def __init__(self, name: str, message: str, outcome: Outcome = "error") -> None:
        super().__init__(message)
        self.failure = FetchFailure(name, message, outcome)


#: workerd's error (a plain ``Error``) for any failure to reach the server
LOST = "Network connection lost."


def type_error(message: str) -> FetchFailed:
    """A failure thrown as ``new TypeError(message)``."""
    return FetchFailed("TypeError", message)


def too_many_subrequests(limit: int) -> FetchFailure:
    """The answer to a fetch beyond ``egress.max_subrequests`` of one invocation (the
    caller counts; workerd throws a plain ``Error`` with this text)."""
    return FetchFailure("Error", f"Too many subrequests (limit {limit}).", "refused")


async def read_body(
    response: httpx.Response, host: str, max_bytes: int, stream_after: int | None = None
) -> tuple[bytes, BodyRest | None]:
    """The body, decoded for gzip/br like workerd, cut at ``max_bytes`` (decoded size);
    past ``stream_after`` bytes, only its start and the :class:`BodyRest` to read on."""
    rest = BodyRest(response, host, max_bytes)
    if rest.decoder is None:
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise rest.too_big()
    parts: list[bytes] = []
    total = 0
    while (chunk := await rest.read()) is not None:
        parts.append(chunk)
        total += len(chunk)
        if stream_after is not None and total > stream_after:
            return b"".join(parts), rest
    return b"".join(parts), None


class BodyRest:
    """The rest of a fetched body, read a chunk at a time (decoded for gzip/br, at most
    ``max_bytes`` in all): a function streams a large upstream body through in bounded
    memory. Its failures are the tenant-safe TypeErrors of a whole read."""

    def __init__(self, response: httpx.Response, host: str, max_bytes: int) -> None:
        self._response = response
        self._host = host
        self._max = max_bytes
        self._total = 0
        self._chunks = response.aiter_raw()
        self.coding = response.headers.get("content-encoding", "").strip().lower()
        self.decoder: _Decoder | None = None
        if self.coding in ("gzip", "x-gzip"):
            self.decoder = _Gzip()
        elif self.coding == "br":
            self.decoder = _Brotli()

    def too_big(self) -> FetchFailed:
        return type_error(
            f"fetch to {self._host} failed: the response body is larger than {self._max} bytes"
        )

    async def read(self) -> bytes | None:
        """The next decoded bytes (maybe empty), or ``None`` at the end."""
        host = self._host
        try:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                return None
            out = (
                chunk
                if self.decoder is None
                else self.decoder.feed(chunk, self._max - self._total + 1)
            )
        except httpx.TimeoutException:
            raise type_error(
                f"fetch to {host} failed: the server stopped sending the body"
            ) from None
        except (httpx.TransportError, httpx.DecodingError, httpx.StreamError):
            raise type_error(
                f"fetch to {host} failed: the connection broke while reading the body"
            ) from None
        except _DecodeError:
            name = "Gzip" if self.coding != "br" else "Brotli"
            raise type_error(f"{name} decompression failed.") from None
        self._total += len(out)
        if self._total > self._max:
            raise self.too_big()
        return out

    async def read_for(self, timeout_s: float) -> bytes | FetchFailure | None:
        """:meth:`read` within ``timeout_s``; a failure as a :class:`FetchFailure`."""
        try:
            async with asyncio.timeout(timeout_s):
                return await self.read()
        except FetchFailed as failed:
            return failed.failure
        except TimeoutError:
            return FetchFailure(
                "TimeoutError",
                f"fetch to {self._host} timed out after {round(timeout_s * 1000)} ms",
            )

    async def aclose(self) -> None:
        await self._response.aclose()


class _DecodeError(Exception):
    pass


class _Decoder:
    def feed(self, data: bytes, limit: int) -> bytes:
        """Decoded bytes of ``data``; stops early once more than ``limit`` are out."""
        raise NotImplementedError


class _Gzip(_Decoder):
    def __init__(self) -> None:
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        out = []
        size = 0
        try:
            while data and size <= limit and not self._d.eof:
                # max_length bounds memory: a small bomb cannot expand past the limit
                chunk = self._d.decompress(data, limit - size + 1)
                out.append(chunk)
                size += len(chunk)
                data = self._d.unconsumed_tail
        except zlib.error:
            raise _DecodeError from None
        return b"".join(out)


class _Brotli(_Decoder):
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            out = [self._d.process(data, output_buffer_limit=limit + 1)]
            size = len(out[0])
            while size <= limit and not self._d.can_accept_more_data():
                chunk = self._d.process(b"", output_buffer_limit=limit - size + 1)
                if not chunk:
                    break
                out.append(chunk)
                size += len(chunk)
        except brotli.error:
            raise _DecodeError from None
        return b"".join(out)
