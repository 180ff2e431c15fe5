"""The messages between the supervisor (gateway process) and runtime worker processes.

One definition for both ends: msgspec Structs in a union tagged by ``op``. Each struct
encodes as a msgpack array (``array_like``: no field names on the wire), its tag first;
bodies travel as msgpack ``bin``. protocol.py frames them (a 4-byte length first).

Supervisor -> executor thread (its request pipe): :class:`Invoke`, :class:`Evict`,
:class:`Cancel`, :class:`Credit`, :class:`KvReply`, :class:`BodyPart`. Executor thread ->
supervisor (its result pipe): :class:`Result`, :class:`Chunk`, :class:`End`,
:class:`NeedCode`, :class:`Wait`, :class:`After`, :class:`Blanks`, :class:`Evicted`,
:class:`KvCall`, :class:`BodyRead`.
Worker process -> supervisor (its control pipe, stdout): :class:`Ready`,
:class:`SelfTest`, :class:`Egress`.
"""

from __future__ import annotations

import msgspec

Header = tuple[str, str]


class _Frame(msgspec.Struct, array_like=True, tag_field="op", omit_defaults=True):
    pass


# -- supervisor -> executor ----------------------------------------------------------------


class FnSpec(msgspec.Struct, array_like=True, omit_defaults=True):
    """A function version as an executor needs it. ``src`` only when the worker may not
    have the code yet (its first call there, or after it asked: :class:`NeedCode`)."""

    key: str
    tenant: str
    timeout_ms: int
    cpu_ms: int
    env: tuple[Header, ...] = ()
    src: str | None = None
    kv: tuple[str, ...] = ()  # names of its KV bindings (env.NAME objects in JS)


class HttpRequest(msgspec.Struct, array_like=True, omit_defaults=True):
    """The caller's HTTP request (method, URL, headers, body). With ``r`` the body goes
    on after ``b``: the function reads the rest with :class:`BodyRead` as it reads its
    ``request.body`` (a large upload is never one message)."""

    m: str
    u: str
    h: tuple[Header, ...] = ()
    b: bytes = b""
    r: bool = False


class ScheduledEvent(msgspec.Struct, array_like=True, omit_defaults=True):
    """A cron tick (issue 23): the module's ``scheduled(controller, env, ctx)`` runs with
    ``controller.cron`` = ``cron`` and ``controller.scheduledTime`` = ``t`` (Unix ms)."""

    cron: str
    t: int


class Invoke(_Frame, tag="invoke"):
    """Run a call. ``id`` is the supervisor's call id; ``inv`` the gateway's invocation
    id (``X-Invocation-Id``), which the worker's logs name. With ``sc`` the call is a
    scheduled event (``req`` is then ignored), not a fetch."""

    id: int
    ex: int
    fn: FnSpec
    req: HttpRequest
    inv: str = ""
    sc: ScheduledEvent | None = None


class Evict(_Frame, tag="evict"):
    """Drop a warm function version from executor ``ex``."""

    ex: int
    key: str


class Cancel(_Frame, tag="cancel"):
    """The caller of call ``id`` went away while it waited: end it (timers dropped,
    fetches cancelled) and answer it, which frees its places. Sent for a streamed
    response too: the stream ends there (an :class:`End` follows)."""

    id: int
    ex: int


class Credit(_Frame, tag="credit"):
    """Call ``id``'s client took ``n`` more bytes of its streamed body: the executor may
    send that many more (per-call flow control, so a slow client holds the function
    back instead of the gateway's memory)."""

    id: int
    ex: int
    n: int


class BodyPart(_Frame, tag="body_part"):
    """Supervisor -> executor: the delivery payload of :class:`BodyRead` ``n`` of call
    ``id`` (JSON ``{"v": "<bytes as a binary string>"}``, ``{"v": null}`` at the body's
    end, or ``{"e": {name, message}}``)."""

    id: int
    ex: int
    n: int
    p: str


# -- executor -> supervisor ----------------------------------------------------------------


class ErrorInfo(msgspec.Struct, array_like=True, omit_defaults=True):
    """A JavaScript error as text (types.JSErrorInfo on the wire)."""

    name: str
    message: str
    stack: str = ""
    line: int | None = None
    column: int | None = None


class Result(_Frame, tag="result"):
    """A call's answer, and what it tells about its executor (evictions ``ev``, pooled
    blank isolates ``bl``, live isolates ``iso``)."""

    id: int
    ex: int
    o: str  # types.Outcome's value
    s: int = 0
    st: str = ""
    h: tuple[Header, ...] = ()
    b: bytes = b""
    l: tuple[str, ...] = ()  # noqa: E741 (the wire's short names)
    e: ErrorInfo | None = None
    d: str = ""
    cold: bool = False
    lt: float = 0.0  # load ms
    rt: float = 0.0  # run (CPU) ms
    ev: tuple[str, ...] = ()
    bl: int | None = None
    iso: int | None = None
    w: bool = False  # it waited on host operations first
    nr: bool = False  # a scheduled handler called controller.noRetry()
    sb: bool = False  # the body is streamed: Chunk frames follow, then End


class Chunk(_Frame, tag="chunk"):
    """The next bytes of call ``id``'s streamed response body (after its Result)."""

    id: int
    ex: int
    b: bytes


class End(_Frame, tag="end"):
    """Call ``id``'s streamed body is over: complete when ``err`` is empty, else cut
    short (``too_large``, ``error``, ``timeout``, ``cpu``, ``cancelled``)."""

    id: int
    ex: int
    err: str = ""


class NeedCode(_Frame, tag="need_code"):
    """The executor does not have call ``id``'s code: send it again with ``src``."""

    id: int
    ex: int = 0


class Wait(_Frame, tag="wait"):
    """Call ``id`` awaits host operations (timers, fetch): its CPU place is free."""

    id: int
    ex: int


class After(_Frame, tag="after"):
    """What a call logged after its response (``ctx.waitUntil`` work, its errors)."""

    id: int
    ex: int
    l: tuple[str, ...] = ()  # noqa: E741
    inv: str = ""  # the invocation id the gateway gave the caller


class Blanks(_Frame, tag="blanks"):
    """Executor ``ex`` holds ``n`` pre-warmed blank isolates (its pool is ready)."""

    ex: int
    n: int
    iso: int | None = None


class Evicted(_Frame, tag="evicted"):
    """Executor ``ex`` dropped ``keys``; ``iso``: isolates then alive in its process."""

    ex: int
    keys: tuple[str, ...] = ()
    iso: int | None = None


class BodyRead(_Frame, tag="body_read"):
    """Call ``id``'s function reads on in its request body (host operation ``n``): the
    gateway process sends the next part as it arrives from the client, in a
    :class:`BodyPart`."""

    id: int
    ex: int
    n: int


# -- worker process -> supervisor (control pipe) -------------------------------------------


class Ready(_Frame, tag="ready"):
    pid: int
    executors: int = 0


class SelfTest(_Frame, tag="self_test"):
    ok: bool
    intl: str = ""


class Egress(_Frame, tag="egress"):
    """The worker's periodic report: fetch() counts since the last report ``c``:
    (tenant, outcome, n); and its code caches ``ca`` (code_cache.py): (cache, hits,
    misses, evictions since the last report, size and bound now)."""

    c: tuple[tuple[str, str, int], ...] = ()
    ca: tuple[tuple[str, int, int, int, int, int], ...] = ()


# -- host operations the gateway performs (issue 23: KV) ----------------------------------
# The worker process has no database access: a KV call of a function travels from its
# executor to the supervisor (gateway process) and its answer back, as data.


class KvCall(_Frame, tag="kv"):
    """Executor -> supervisor: call ``id``'s host operation ``n`` on a KV binding;
    ``a`` is the prelude's JSON (binding, method, key, value...)."""

    id: int
    ex: int
    n: int
    a: str


class KvReply(_Frame, tag="kv_reply"):
    """Supervisor -> executor: the delivery payload of ``KvCall`` ``n`` of call ``id``
    (JSON ``{"v": ...}`` or ``{"e": {name, message}}``)."""

    id: int
    ex: int
    n: int
    p: str


ToExecutor = Invoke | Evict | Cancel | KvReply | Credit | BodyPart
FromWorker = (
    Result
    | NeedCode
    | Wait
    | After
    | Blanks
    | Evicted
    | Ready
    | SelfTest
    | Egress
    | KvCall
    | BodyRead
    | Chunk
    | End
)
Message = ToExecutor | FromWorker

_encoder = msgspec.msgpack.Encoder()
encode = _encoder.encode
#: decoders for each direction: a frame of the other direction is a protocol error
to_executor = msgspec.msgpack.Decoder(ToExecutor)
from_worker = msgspec.msgpack.Decoder(FromWorker)
