"""The worker process's I/O loop: host operations that wait (``fetch``) run here.

One asyncio loop in a thread of its own serves every executor thread of the worker
process. An executor hands it an operation as plain data (parsed from the JSON the
prelude built) and gets the result back as the payload of a delivery script through
a callback, which queues it for the executor's next eval (hostops.py). Tenant code
never reaches Python: it only ever sees the JSON text of a result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from isogate.config.egress import EgressSettings

from .egress import EgressPolicy
from .fetch_request import FetchSpec
from .fetch_response import BodyRest, FetchFailed, FetchFailure, FetchResult
from .fetcher import fetch, local_addresses, new_client
from .isolate import error_payload

log = logging.getLogger("isogate.runtime.hostio")


def _send_headers_in_given_order() -> None:
    """Make h11 (httpx's HTTP/1.1 writer) send request headers in the order given.

    h11 always moves Host to the front (RFC 9112 says a client SHOULD); workerd sends
    Content-Length first, and upstreams that echo or sign headers see the difference
    (tests/conformance, loop-fetch). The fetcher builds the order itself. This runs
    in runtime worker processes only, whose sole HTTP client is the fetcher's.
    """
    import h11._writers as writers

    def write_headers(headers: Any, write: Callable[[bytes], Any]) -> None:
        for raw_name, _name, value in headers._full_items:
            write(b"%s: %s\r\n" % (raw_name, value))
        write(b"\r\n")

    writers.write_headers = write_headers


Deliver = Callable[[str], None]
UploadRest = Callable[[], Awaitable[bytes | None]]

#: a fetched body larger than this streams into the function (read on as it reads);
#: smaller ones arrive whole with the response, as before
STREAM_AFTER = 1 << 20


class HostIO:
    """An asyncio loop thread performing ``fetch`` for the executors of this process."""

    def __init__(
        self,
        egress: EgressSettings,
        own_addresses: list[tuple[str, int]] | None = None,
    ) -> None:
        self._settings = egress
        own = own_addresses or []
        wildcard = any(h in ("0.0.0.0", "::", "") for h, _ in own)
        self._policy = EgressPolicy(
            egress, listen=own, local_addresses=local_addresses() if wildcard else ()
        )
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._client: Any = None
        #: egress requests by (tenant, outcome) since the last take_counts()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="isogate-hostio", daemon=True)
        #: fetched bodies being streamed into functions: handle -> (owner, rest); only
        #: the I/O loop touches these
        self._bodies: dict[int, tuple[str, BodyRest]] = {}
        self._owned: dict[str, set[int]] = {}
        self._handles = itertools.count(1)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        _send_headers_in_given_order()
        asyncio.set_event_loop(self._loop)
        self._client = new_client()
        self._ready.set()
        self._loop.run_forever()

    def take_counts(self) -> list[tuple[str, str, int]]:
        """Egress requests counted since the last call: (tenant, outcome, n)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return [(tenant, outcome, n) for (tenant, outcome), n in counts.items()]

    def fetch(
        self,
        args: Any,
        remaining_s: float,
        deliver: Deliver,
        tenant: str,
        owner: str = "",
        upload_rest: UploadRest | None = None,
    ) -> concurrent.futures.Future[None]:
        """Start a fetch described by ``args`` (the prelude's JSON); ``deliver`` gets
        the delivery payload unless the returned future is cancelled first. A body
        over :data:`STREAM_AFTER` stays open for ``owner`` (an invocation of this
        process) to read on (:meth:`read_body`) until it closes it or :meth:`release`.
        ``upload_rest`` (awaited on the I/O loop) gives the next part of the invocation's
        request body when ``args`` passes it on (``"upload"``), None at its end."""
        return asyncio.run_coroutine_threadsafe(
            self._fetch(args, remaining_s, deliver, tenant, owner, upload_rest), self._loop
        )

    def read_body(
        self, handle: Any, owner: str, remaining_s: float, deliver: Deliver
    ) -> concurrent.futures.Future[None]:
        """Deliver the next chunk of streamed body ``handle`` (``{"v": null}`` at its end,
        which closes it); a handle that is not ``owner``'s is an error."""
        return asyncio.run_coroutine_threadsafe(
            self._read_body(handle, owner, remaining_s, deliver), self._loop
        )

    def close_body(self, handle: Any, owner: str) -> None:
        """``owner`` will not read streamed body ``handle`` any more (cancelled)."""
        self._loop.call_soon_threadsafe(self._close, handle, owner)

    def release(self, owner: str) -> None:
        """``owner`` (an invocation) ended: close every body it left open."""
        self._loop.call_soon_threadsafe(self._release, owner)

    def adopt(self, handle: int, owner: str, new_owner: str) -> None:
        """Streamed body ``handle`` passes from ``owner`` to ``new_owner`` (a response
        that passes it on untouched outlives the invocation that fetched it)."""
        self._loop.call_soon_threadsafe(self._adopt, handle, owner, new_owner)

    def read_raw(
        self,
        handle: int,
        owner: str,
        remaining_s: float,
        done: Callable[[bytes | str | None], None],
    ) -> None:
        """The next chunk of ``handle`` to ``done`` as bytes, ``None`` at its end, or the
        error's text (``Name: message``); the body is closed at its end or error."""
        asyncio.run_coroutine_threadsafe(
            self._read_raw(handle, owner, remaining_s, done), self._loop
        )

    def _adopt(self, handle: int, owner: str, new_owner: str) -> None:
        entry = self._bodies.get(handle)
        if entry is None or entry[0] != owner:
            return
        self._bodies[handle] = (new_owner, entry[1])
        mine = self._owned.get(owner)
        if mine is not None:
            mine.discard(handle)
            if not mine:
                del self._owned[owner]
        self._owned.setdefault(new_owner, set()).add(handle)

    async def _read_raw(
        self,
        handle: int,
        owner: str,
        remaining_s: float,
        done: Callable[[bytes | str | None], None],
    ) -> None:
        got = await self._next_chunk(handle, owner, self._timeout(remaining_s))
        done(f"{got.name}: {got.message}" if isinstance(got, FetchFailure) else got)

    async def _next_chunk(
        self, handle: Any, owner: str, timeout_s: float
    ) -> bytes | FetchFailure | None:
        """The next chunk of ``owner``'s streamed body ``handle`` (None at its end, a
        failure as a :class:`FetchFailure`); the body is closed at its end or failure."""
        entry = self._bodies.get(handle) if type(handle) is int else None
        if entry is None or entry[0] != owner:
            return FetchFailure("TypeError", "This body is not readable any more.")
        try:
            got = await entry[1].read_for(timeout_s)
        except Exception:
            log.exception("reading a fetched body failed in the host")
            got = FetchFailure("TypeError", "Network connection lost.")
        if got is None or isinstance(got, FetchFailure):
            self._close(handle, owner)
        return got

    def _timeout(self, remaining_s: float) -> float:
        """One wait on an upstream: the invocation's time left, at most a fetch's."""
        return min(remaining_s, self._settings.timeout_ms / 1000.0)

    def _reader(self, handle: int, owner: str, timeout_s: float) -> UploadRest:
        """The rest of fetched body ``handle`` as a fetch's request body, read here on
        the loop (the body is closed at its end or error, or when the fetch ends)."""

        async def next_part() -> bytes | None:
            got = await self._next_chunk(handle, owner, timeout_s)
            if isinstance(got, FetchFailure):
                raise FetchFailed(got.name, got.message)
            return got

        return next_part

    def _close(self, handle: Any, owner: str) -> None:
        entry = self._bodies.get(handle) if type(handle) is int else None
        if entry is None or entry[0] != owner:
            return
        del self._bodies[handle]
        mine = self._owned.get(owner)
        if mine is not None:
            mine.discard(handle)
            if not mine:
                del self._owned[owner]
        task = self._loop.create_task(entry[1].aclose())
        task.add_done_callback(_quiet)

    def _release(self, owner: str) -> None:
        for handle in list(self._owned.get(owner, ())):
            self._close(handle, owner)

    async def _read_body(
        self, handle: Any, owner: str, remaining_s: float, deliver: Deliver
    ) -> None:
        got = await self._next_chunk(handle, owner, self._timeout(remaining_s))
        if isinstance(got, FetchFailure):
            deliver(error_payload(got.name, got.message))
        elif got is None:
            deliver('{"v":null}')
        else:
            deliver('{"v":' + json.dumps(got.decode("latin-1"), ensure_ascii=False) + "}")

    async def _fetch(
        self,
        args: Any,
        remaining_s: float,
        deliver: Deliver,
        tenant: str,
        owner: str = "",
        upload_rest: UploadRest | None = None,
    ) -> None:
        spec = _spec(args)
        if spec is None:
            deliver(error_payload("TypeError", "fetch(): malformed request"))
            return
        timeout = self._timeout(remaining_s)
        source = args.get("from")
        if spec.upload is not None and type(source) is int:  # a fetched body passed on
            upload_rest = self._reader(source, owner, timeout)
        try:
            outcome = await fetch(
                spec,
                policy=self._policy,
                client=self._client,
                timeout_s=timeout,
                max_response_bytes=self._settings.max_response_bytes,
                max_redirects=self._settings.max_redirects,
                stream_after=STREAM_AFTER if owner else None,
                upload_rest=upload_rest,
            )
        except asyncio.CancelledError:
            self.count(tenant, "cancelled")
            raise
        except Exception:  # a bug here must still answer the tenant, without Python text
            log.exception("fetch failed in the host")
            self.count(tenant, "error")
            deliver(error_payload("TypeError", "Network connection lost."))
            return
        self.count(tenant, outcome.outcome)
        if isinstance(outcome, FetchFailure):
            deliver(error_payload(outcome.name, outcome.message))
            return
        more = None
        if outcome.rest is not None:
            more = next(self._handles)
            self._bodies[more] = (owner, outcome.rest)
            self._owned.setdefault(owner, set()).add(more)
        deliver(_result_payload(outcome, more))

    def count(self, tenant: str, outcome: str) -> None:
        """Count one fetch of ``tenant`` with ``outcome`` (for metrics)."""
        with self._lock:
            self._counts[(tenant, outcome)] += 1


def _spec(args: Any) -> FetchSpec | None:
    """The prelude's fetch arguments as a FetchSpec; None when malformed."""
    if not isinstance(args, dict):
        return None
    method, url, headers = args.get("method"), args.get("url"), args.get("headers")
    body, redirect = args.get("body"), args.get("redirect", "follow")
    upload = args.get("upload")
    if not (isinstance(method, str) and isinstance(url, str) and isinstance(headers, list)):
        return None
    pairs: list[tuple[str, str]] = []
    for h in headers:
        if not (isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)):
            return None
        pairs.append((h[0], h[1]))
    if (body is not None and not isinstance(body, str)) or (
        upload is not None and not isinstance(upload, str)
    ):
        return None
    try:
        raw = body.encode("latin-1") if body is not None else None
        head = upload.encode("latin-1") if upload is not None else None
    except UnicodeEncodeError:
        return None
    if redirect not in ("follow", "manual", "error"):
        return None
    return FetchSpec(
        method=method, url=url, headers=pairs, body=raw, redirect=redirect, upload=head
    )


def _quiet(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # closing a broken connection may fail: nothing to tell


def _result_payload(r: FetchResult, more: int | None = None) -> str:
    value: dict[str, Any] = {
        "status": r.status,
        "statusText": r.status_text,
        "headers": [list(h) for h in r.headers],
        "body": r.body.decode("latin-1"),
        "url": r.url,
        "redirected": r.redirected,
    }
    if more is not None:  # the body goes on: the prelude reads it with "fread"
        value["more"] = more
    return '{"v":' + json.dumps(value, ensure_ascii=False) + "}"
