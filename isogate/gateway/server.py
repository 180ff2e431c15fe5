"""Serving the app with Hypercorn (programmatic ``hypercorn.asyncio.serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import Callable

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import LifespanFailureError, wrap_app

from isogate.config import Settings
from isogate.gateway import connection_guard, h2_guard
from isogate.gateway.app import create_app
from isogate.gateway.services import RuntimeFactory

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The gateway could not start; the message says what failed and what to do."""


def hypercorn_config(settings: Settings) -> Config:
    """Hypercorn settings for one gateway process."""
    h2_guard.install()  # an early answer on an h2 stream must not reset its neighbours
    connection_guard.install()  # a write timeout aborts the connection, unflushed
    config = Config()
    host = settings.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    config.bind = [f"{host}:{settings.port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = settings.log_level.upper()
    config.graceful_timeout = settings.shutdown_timeout_seconds
    config.startup_timeout = settings.runtime.start_timeout_seconds * 3 + 30
    config.shutdown_timeout = settings.shutdown_timeout_seconds + 30
    # hostile clients: idle or slow request heads are closed, heads are capped in size
    config.keep_alive_timeout = settings.http_keep_alive_timeout_seconds
    # Hypercorn annotates int, but uses it as an asyncio timeout: a float is honoured
    config.read_timeout = settings.http_read_timeout_seconds  # type: ignore[assignment]
    config.h11_max_incomplete_size = settings.http_max_head_bytes
    # Cleartext HTTP/2 (h2c) is served, like h2 behind a TLS-terminating proxy: the same
    # limits apply to it (gateway/head_limits.py answers 431 per stream). HPACK's own
    # ceiling only bounds decoding memory: a head over it closes the connection.
    config.h2_max_header_list_size = 4 * settings.http_max_head_bytes + 32 * (
        settings.http_max_headers
    )
    config.h2_max_inbound_frame_size = 16 * 1024
    return config


def bind(settings: Settings, config: Config) -> Sockets:
    """Open the listening sockets, or :class:`StartupError` naming the address.

    Bound before the app starts (migrations, runtime workers: seconds), so a port in
    use is reported at once rather than after the whole start-up.
    """
    try:
        return config.create_sockets()
    except OSError as exc:
        address = config.bind[0]
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"cannot listen on {address}: the address is already in use; stop the "
                "process using it, or choose another port (--port or ISOGATE_PORT)"
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"cannot listen on {address}: permission denied (ports below 1024 need "
                "privileges; choose another port with --port or ISOGATE_PORT)"
            ) from None
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot listen on {address}: {reason} (check --host)") from None


def _startup_cause(exc: BaseException) -> BaseException:
    """The app's own exception behind Hypercorn's LifespanFailureError (its context)."""
    seen = exc
    while isinstance(seen, LifespanFailureError) and seen.__context__ is not None:
        seen = seen.__context__
    return seen


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def serve(
    settings: Settings,
    runtime_factory: RuntimeFactory | None = None,
    on_bound: Callable[[str], None] | None = None,
) -> int | None:
    """Run the gateway until SIGINT/SIGTERM, then shut down gracefully.

    Returns the signal that stopped it (None when stopped otherwise). Failures to start
    (address in use, database or runtime unavailable, ...) raise :class:`StartupError`
    with a one-line message; the full traceback is logged at debug level.
    """
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = hypercorn_config(settings)
    sockets = bind(settings, config)
    if on_bound is not None:
        host, port = sockets.insecure_sockets[0].getsockname()[:2]
        on_bound(f"http://{f'[{host}]' if ':' in host else host}:{port}")
    app = create_app(settings, runtime_factory)
    stop = asyncio.Event()
    stopped_by: list[int] = []

    def on_signal(sig: int) -> None:
        stopped_by.append(sig)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
    try:
        await worker_serve(
            wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
            config,
            sockets=sockets,
            shutdown_trigger=stop.wait,
        )
    except LifespanFailureError as exc:
        cause = _startup_cause(exc)
        log.debug("start-up failed", exc_info=cause)
        if stopped_by and isinstance(cause, asyncio.CancelledError | KeyboardInterrupt):
            return stopped_by[0]
        raise StartupError(_first_line(cause)) from None
    finally:
        for sock in (*sockets.insecure_sockets, *sockets.secure_sockets):
            sock.close()
    return stopped_by[0] if stopped_by else None
