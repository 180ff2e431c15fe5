"""One invocation in flight on an executor thread: :class:`Flight`.

A flight lives from its request to its end (its response sent and its
``ctx.waitUntil`` work settled, or its time up). It is plain state of the executor
thread that runs it (executor.py) and of that thread's host operations (hostops.py)
and streamed bodies (outflow.py): only that thread reads or writes it, so it needs no
lock. The one exception is ``js_read``, which the I/O thread's delivery of a
fetched-body read adds to (it is its only writer; see ``HostOps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compression import ZlibStreams
    from .warm import Warm


@dataclass(slots=True, eq=False)
class Flight:
    """One invocation in flight on this executor, from its request to its end (its
    response sent and its ``ctx.waitUntil`` work settled, or its time up)."""

    id: str  # the supervisor's call id, as text (the prelude's invocation id)
    call: int
    inv: str  # the gateway's invocation id (X-Invocation-Id): what logs name
    warm: Warm
    deadline: float  # monotonic: wall time limit (after the response: waitUntil's)
    cpu_left: float  # seconds of CPU time it may still use
    timeout_ms: int
    cpu_ms: int
    cold: bool
    load_ms: float
    cpu_used: float = 0.0
    responded: bool = False
    waiting: bool = False  # the supervisor was told it waits (its CPU place is free)
    ended: bool = False
    subrequests: int = 0
    #: armed timers: timer id -> the sequence number of its heap entry
    timers: dict[int, int] = field(default_factory=dict)
    #: host operations running on the I/O loop: op id -> a handle to cancel it
    tasks: dict[int, Any] = field(default_factory=dict)
    #: CompressionStream/DecompressionStream state (made on first use; goes with the flight)
    zlib: ZlibStreams | None = None
    #: why it was stopped (wall, cpu, gone, error): a streamed body it leaves is cut short
    stopped: str = ""
    #: characters of fetched bodies delivered into JavaScript (fread): see HostOps
    js_read: int = 0
    #: characters of its request body's later parts delivered into JavaScript (BodyPart,
    #: on this executor's thread): they count toward the same limit as ``js_read``
    body_read: int = 0
    #: request-body parts asked for a fetch() that passes the body on (hostops), by their
    #: negative BodyRead number: how each is handed to the I/O loop when it arrives
    upload_reads: dict[int, Callable[[str], None]] = field(default_factory=dict)
