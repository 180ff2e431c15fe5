"""Serving the app with Hypercorn (programmatic ``hypercorn.asyncio.serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from isogate.config import Settings
from isogate.gateway import h2_guard
from isogate.gateway.app import create_app
from isogate.gateway.services import RuntimeFactory


def hypercorn_config(settings: Settings) -> Config:
    """Hypercorn settings for one gateway process."""
    h2_guard.install()  # an early answer on an h2 stream must not reset its neighbours
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
    config.read_timeout = settings.http_read_timeout_seconds
    config.h11_max_incomplete_size = settings.http_max_head_bytes
    # Cleartext HTTP/2 (h2c) is served, like h2 behind a TLS-terminating proxy: the same
    # limits apply to it (gateway/head_limits.py answers 431 per stream). HPACK's own
    # ceiling only bounds decoding memory: a head over it closes the connection.
    config.h2_max_header_list_size = 4 * settings.http_max_head_bytes + 32 * (
        settings.http_max_headers
    )
    config.h2_max_inbound_frame_size = 16 * 1024
    return config


async def serve(settings: Settings, runtime_factory: RuntimeFactory | None = None) -> None:
    """Run the gateway until SIGINT/SIGTERM, then shut down gracefully."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings, runtime_factory)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await hypercorn_serve(app, hypercorn_config(settings), shutdown_trigger=stop.wait)  # type: ignore[arg-type]
