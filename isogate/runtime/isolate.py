"""V8 isolates and the contexts in them: a context running the prelude is the home of
one warm function, and one isolate (a :class:`Host`) holds the contexts of one tenant.

Only strings cross, and only as source text: a request goes in as a JS string literal
inside the script the host evaluates (:func:`host_call` builds every such script),
results come back as JSON strings built by the prelude and parsed here. No Python value
is ever converted into a JS value (``setattr`` on a JS object, a JS function called with
Python arguments): stpyv8 then gives the context a tracer whose weak callback crashes
the process when V8 collects that context while its isolate lives on (DESIGN.md,
"Memory and crashes"). ``tests/runtime/test_boundary_guard.py`` keeps it that way.
Every method must run on the thread that owns the isolate.
"""

from __future__ import annotations

import heapq
import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import STPyV8

from .encodings import needs_tables, tables_script
from .linker import link
from .modules import ModuleSetError, is_module_set
from .prelude import prelude_source
from .source import PreparedSource, load_script, prepare, to_js_source
from .source_names import SCRIPT_NAME, SourceError
from .types import InvokeRequest, InvokeResult, JSErrorInfo, Outcome

#: the length of the random seed in front of each invocation's request (js/90-host.js)
SEED_LENGTH = 32
#: What an isolate keeps of every script evaluated in it, until the isolate is disposed
#: of: stpyv8's compile (``CEngine::InternalCompile``) holds the source in a
#: ``v8::Persistent`` that it never resets, so the source string, and the compiled script
#: V8's compilation cache keeps for as long as its source lives, are never collected
#: (forced GCs free none of it). Measured on stpyv8 13.1: ~3.3 bytes per character plus
#: ~150 per script for distinct sources, ~1 byte per character plus ~130 for a repeated
#: one; all of it freed with the isolate. Estimated on the high side; ``Host.retained``
#: sums it, and the executor replaces an isolate past ``runtime.isolate_recycle_mb``
#: (docs/reliability.md, "Soak after the event loop").
RETAINED_PER_CHAR = 4
RETAINED_PER_SCRIPT = 256
#: scripts the prelude's warm-up takes: two requests (each followed by a step), then
#: the clean-up
WARMUP_STEPS = 3


class HostError(Exception):
    """V8 raised where the host expected a string; carries only the message text.

    Exceptions raised by stpyv8 hold V8 objects, which must never be freed on another
    thread or after their isolate: callers only ever see this text-only error.
    """


class PreludeError(Exception):
    """The prelude itself failed to evaluate (a bug in isogate, not in tenant code)."""


class Host:
    """One V8 isolate and the contexts living in it, all of one tenant (or none yet).

    A second context in an isolate costs ~1.4 ms instead of ~8 ms for a new isolate:
    V8's per-isolate compilation cache already holds the prelude (DESIGN.md). The isolate
    is dropped with its last context.
    """

    __slots__ = ("contexts", "isolate", "retained", "spares", "tenant")

    #: isolates alive in this process (for metrics)
    live = 0
    _lock = threading.Lock()

    def __init__(self) -> None:
        # owner: the isolate is disposed of when dropped
        self.isolate: STPyV8.JSIsolate | None = STPyV8.JSIsolate(True)
        with Host._lock:
            Host.live += 1
        self.contexts = 0
        self.tenant: str | None = None
        #: estimated bytes that every script evaluated here left behind for good
        #: (RETAINED_PER_CHAR): the isolate has to go for them to be freed
        self.retained = 0
        #: contexts made ahead (prelude run, no tenant code yet) for this isolate's next
        #: loads; counted in ``contexts``
        self.spares: list[Sandbox] = []

    @property
    def alive(self) -> bool:
        return self.isolate is not None

    def drop(self) -> None:
        """Dispose of the isolate (its contexts are gone; it is not entered)."""
        if self.isolate is not None:
            self.spares = []
            self.isolate = None
            with Host._lock:
                Host.live -= 1


class Sandbox:
    """A context in which the prelude has run, in an isolate of its own or in ``host``'s.

    Teardown order is strict (DESIGN.md): every context goes before its isolate, and an
    isolate is never deleted while entered. ``close()`` drops the context, and the
    isolate with its last context; call it once, never while entered.
    """

    def __init__(self, host: Host | None = None, *, warm_up: bool = True) -> None:
        """``warm_up`` runs a request through the prelude so that its code is compiled
        before the first real call; a context in an isolate that already ran it gains
        little from that, and a cold start waiting for it would pay it."""
        self.host = host if host is not None else Host()
        isolate = self.host.isolate
        assert isolate is not None  # a host's isolate goes only with its last context
        self.isolate: STPyV8.JSIsolate = isolate
        self.host.contexts += 1
        self.isolate.enter()
        failure = None
        try:
            self.context = STPyV8.JSContext()
            self.context.enter()
            try:
                self.context.eval(prelude_source(), "isogate:prelude")
                if warm_up:  # one script per step (see warmup() in js/90-host.js)
                    for n in range(WARMUP_STEPS):
                        self.context.eval(f"__isogate.warmup({n})")
                        if n == WARMUP_STEPS - 1:
                            break
                        text = self.context.eval(STEP_SCRIPT)
                        done = parse_step(text if type(text) is str else None).done
                        if len(done) != 1 or done[0][1].status != 200:
                            failure = f"the warm-up request {n} failed: {text!r:.300}"
                            break
            except Exception as exc:  # a bug in the prelude; keep only its text
                failure = str(exc)
            finally:
                self.context.leave()
        finally:
            self.isolate.leave()
        if failure is not None:
            self.close()
            raise PreludeError(failure)
        self.function_key: str | None = None
        self.tenant: str | None = None

    def enter(self) -> None:
        self.isolate.enter()
        self.context.enter()

    def leave(self) -> None:
        self.context.leave()
        self.isolate.leave()

    def close(self) -> None:
        """Drop the context, then the isolate if no other context lives in it."""
        self.context = None
        self.isolate = None
        self.host.contexts -= 1
        if self.host.contexts <= 0:
            self.host.drop()

    # -- evaluation (the isolate and context must be entered) -------------------------

    def _run(self, source: str, name: str = "", *, counted: bool = True) -> Any:
        """Compile and run ``source`` in this context, counting what that leaves behind
        for the isolate's lifetime (RETAINED_PER_CHAR). Every script of an invocation
        comes here; the ones that make a context (prelude, warm-up, tables, the tenant's
        top level) are not counted: a fixed cost per context, in ``estimate_cost``, that
        replacing the isolate would only pay again."""
        if counted:
            self.host.retained += RETAINED_PER_CHAR * len(source) + RETAINED_PER_SCRIPT
        return self.context.eval(source, name)

    def eval_str(self, script: str, name: str = "", *, counted: bool = True) -> str | None:
        """Evaluate host-made source; return its value only if it is a ``str``.

        Raises :class:`HostError` (text only) if V8 raised, e.g. when terminated.
        ``counted``: see :meth:`_run`.
        """
        failure = None
        try:
            value = self._run(to_js_source(script), name, counted=counted)
        except Exception as exc:  # keep only the text: see HostError
            failure = f"{type(exc).__name__}: {exc}"
        if failure is not None:
            raise HostError(failure)
        return value if type(value) is str else None

    def burn_termination(self, attempts: int = 100) -> bool:
        """Consume a pending termination: evaluate a trivial script until it returns 1."""
        for _ in range(attempts):
            try:
                if self._run("1") == 1:
                    return True
            except Exception:  # a terminated eval may raise; try again
                pass
        return False

    def load(
        self,
        prepared: PreparedSource,
        env: tuple[tuple[str, str], ...],
        max_response_body: int,
        kv_names: tuple[str, ...] = (),
    ) -> InvokeResult:
        """Run the tenant's top level and register its handler (``kv_names``: its KV
        bindings, objects whose methods are host operations)."""
        config = json.dumps(
            {
                "env": [list(kv) for kv in env],
                "kv": list(kv_names),
                "maxResponseBody": max_response_body,
                "module": prepared.module,
                "async": prepared.top_level_await,
            }
        )
        if needs_tables(prepared.script):  # before the tenant's code: decode is synchronous
            self.context.eval(tables_script(), "isogate:encodings")
        text = self.eval_str(load_script(prepared, config), SCRIPT_NAME, counted=False)
        if prepared.top_level_await and _pending(text):
            # the module's promise settled (or not) in the microtasks after that eval
            text = self.eval_str(LOADED_SCRIPT, counted=False)
        result = _parse_load(text)
        if result.error is not None:  # positions in the tenant's code, not the wrapper's
            result = replace(result, error=prepared.locate(result.error))
        return result

    def step(self) -> Step:
        """After an eval: the operations it queued and the invocations it finished."""
        return parse_step(self.eval_str(STEP_SCRIPT))

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        """Run one invocation to its response, for callers without a watchdog or I/O
        (tests of the prelude): timers are waited for in real time, and every other
        host operation fails."""
        inv = "solo"
        self.eval_str(start_script(inv, request))
        timers: list[tuple[float, int, int]] = []
        seq = 0
        streamed: InvokeResult | None = None
        body: list[bytes] = []
        while True:
            step = self.step()
            for _inv, op, kind, args in step.ops:
                if kind == "timer":
                    seq += 1
                    heapq.heappush(timers, (time.monotonic() + float(args) / 1000, seq, op))
                elif kind == "clear":
                    timers = [t for t in timers if t[2] != op]
                    heapq.heapify(timers)
                elif kind != "cancel":
                    self.eval_str(deliver_script(op, error_payload("Error", f"no {kind} here")))
                    step = self.step()
            for done_id, result in step.done:
                if done_id == inv and result.stream is True:  # the body follows
                    streamed = result
                    self.eval_str(host_call("credit", inv, str(1 << 40)))
                elif done_id == inv:
                    self.eval_str(host_call("end", inv))
                    return result
            if streamed is not None:
                body.extend(text.encode("latin-1") for i, text in step.data if i == inv)
                for i, why in step.eos:
                    if i == inv:
                        self.eval_str(host_call("end", inv))
                        if why == "too_large":
                            return InvokeResult(Outcome.TOO_LARGE, detail="response body too large")
                        if why:
                            return InvokeResult(Outcome.JS_ERROR, error=JSErrorInfo("Error", why))
                        return replace(streamed, body=b"".join(body), stream=None)
                if step.data or step.done:
                    continue
            if not timers:
                return InvokeResult(Outcome.UNSETTLED, error=JSErrorInfo("Error", NEVER_SETTLES))
            due, _, op = heapq.heappop(timers)
            time.sleep(max(0.0, due - time.monotonic()))
            self.eval_str(host_call("fire", str(op)))


#: what a caller is told when its handler's promise can never settle
NEVER_SETTLES = "The script will never generate a response."
STEP_SCRIPT = "__isogate.step()"
LOADED_SCRIPT = "__isogate.loaded()"


def _pending(text: str | None) -> bool:
    """The load answered that a top-level await is still to settle."""
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("pending") is True


def start_script(inv: str, request: InvokeRequest) -> str:
    """The script that starts invocation ``inv`` on ``request`` with a fresh random seed.

    Building it runs nothing in V8; the caller evaluates it under the watchdog.
    """
    return host_call("invoke", inv, os.urandom(SEED_LENGTH).decode("latin-1") + wire(request))


def scheduled_script(inv: str, cron: str, scheduled_time_ms: int) -> str:
    """The script that starts invocation ``inv`` as a scheduled event (a cron tick):
    the prelude calls the module's ``scheduled(controller, env, ctx)``."""
    event = json.dumps({"cron": cron, "scheduledTime": int(scheduled_time_ms)})
    return host_call("scheduled", inv, os.urandom(SEED_LENGTH).decode("latin-1") + event)


def deliver_script(op: int, payload: str) -> str:
    """The script that settles host operation ``op`` with ``payload`` (see payloads)."""
    return host_call("deliver", str(op), payload)


def value_payload(value_json: str) -> str:
    """A delivery that resolves the operation's promise with the JSON value given."""
    return '{"v":' + value_json + "}"


def error_payload(name: str, message: str) -> str:
    """A delivery that rejects the operation's promise with a JS error ``name``."""
    return json.dumps({"e": {"name": name, "message": message}}, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Step:
    """What the prelude's ``step()`` reported after an eval."""

    #: operations queued: (invocation, op or timer id, kind, args as parsed JSON)
    ops: list[tuple[str, int, str, Any]] = field(default_factory=list)
    #: invocations whose response (or failure) is ready
    done: list[tuple[str, InvokeResult]] = field(default_factory=list)
    #: invocations that are over (their timers and operations dropped), with late logs
    fin: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: bytes of streamed response bodies read since the last step (binary strings)
    data: list[tuple[str, str]] = field(default_factory=list)
    #: streamed bodies that ended: (invocation, "" when complete, else why cut short)
    eos: list[tuple[str, str]] = field(default_factory=list)


def parse_step(text: str | None) -> Step:
    """Turn ``step()``'s JSON into a :class:`Step`, trusting nothing about its shape."""
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Step()
    ops: list[tuple[str, int, str, Any]] = []
    for item in data.get("ops") or ():
        if (
            isinstance(item, list)
            and len(item) == 4
            and isinstance(item[0], str)
            and type(item[1]) is int
            and isinstance(item[2], str)
        ):
            ops.append((item[0], item[1], item[2], item[3]))
    done = [
        (item["id"], result_from(item))
        for item in data.get("done") or ()
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]
    fin = [
        (item["id"], parse_logs(item.get("logs")))
        for item in data.get("fin") or ()
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]
    return Step(ops, done, fin, _pairs(data, "data"), _pairs(data, "eos"))


def _pairs(data: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """``[[invocation, text], ...]`` entries of a step (anything else is skipped)."""
    items = data.get(name)
    if not items:
        return []
    return [
        (item[0], item[1])
        for item in items
        if isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    ]


#: the handle the prelude reads the rest of an invocation's request body by ("fread",
#: as a fetched body's; hostops.py): its parts come from the gateway process (BodyRead)
REQUEST_BODY = -1


def wire(request: InvokeRequest) -> str:
    """``request`` as the JSON the prelude's ``requestFromWire`` reads (a body is a
    binary string: one character per byte; ``more``: the handle to read the rest by)."""
    data: dict[str, object] = {
        "method": request.method,
        "url": request.url,
        "headers": [list(kv) for kv in request.headers],
        "body": request.body.decode("latin-1") if request.body else None,
    }
    if request.more:
        data["more"] = REQUEST_BODY
    return json.dumps(data, ensure_ascii=False)


def host_call(entry: str, *args: str) -> str:
    """Source text that calls ``__isogate.<entry>`` with ``args`` as string literals.

    The one way host data enters a context: a literal inside evaluated source, never a
    Python value converted by stpyv8 (see the module docstring). JSON string syntax is
    JS string syntax; characters beyond U+FFFF become surrogate pairs in
    :meth:`Sandbox.eval_str`.
    """
    if not entry.isidentifier():
        raise ValueError(f"not an entry point: {entry!r}")
    literals = ",".join(json.dumps(a, ensure_ascii=False) for a in args)
    return f"__isogate.{entry}({literals})"


def _parse_error(obj: object) -> JSErrorInfo:
    if not isinstance(obj, dict):
        return JSErrorInfo(name="Error", message="unknown error")
    return JSErrorInfo(
        name=str(obj.get("name", "Error"))[:200],
        message=str(obj.get("message", ""))[:4096],
        stack=str(obj.get("stack", ""))[:16384],
    )


def parse_logs(obj: object) -> tuple[str, ...]:
    """A list of log lines from the prelude (anything else: none)."""
    if not isinstance(obj, list):
        return ()
    return tuple(x for x in obj if isinstance(x, str))


def _parse_load(text: str | None) -> InvokeResult:
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return InvokeResult(Outcome.LOAD_ERROR, detail="the prelude returned no result")
    logs = parse_logs(data.get("logs"))
    if data.get("ok") is True:
        return InvokeResult(Outcome.OK, logs=logs)
    return InvokeResult(Outcome.LOAD_ERROR, logs=logs, error=_parse_error(data.get("error")))


def result_from(data: dict[str, Any]) -> InvokeResult:
    """Turn one result of the prelude into an :class:`InvokeResult`, trusting nothing
    about its shape."""
    result = _result_of(data)
    if data.get("noRetry") is True:
        result = replace(result, no_retry=True)
    return result


def _result_of(data: dict[str, Any]) -> InvokeResult:
    logs = parse_logs(data.get("logs"))
    outcome = data.get("outcome")
    if outcome == "ok":
        status = data.get("status")
        headers = data.get("headers")
        body = data.get("body")
        encoding = data.get("encoding")
        if (
            type(status) is int
            and 200 <= status <= 599
            and isinstance(headers, list)
            and all(
                isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
                for h in headers
            )
            and isinstance(body, str)
        ):
            try:
                raw = (
                    body.encode("latin-1")
                    if encoding == "binary"
                    else body.encode("utf-8", "replace")
                )
            except UnicodeEncodeError:
                raw = None
            if raw is not None:
                status_text = data.get("statusText")
                return InvokeResult(
                    Outcome.OK,
                    status=status,
                    headers=tuple((h[0], h[1]) for h in headers),
                    body=raw,
                    logs=logs,
                    status_text=status_text if isinstance(status_text, str) else "",
                    # the body streams: the step's "data"/"eos" entries carry it
                    stream=True if data.get("stream") is True else None,
                )
        return InvokeResult(
            Outcome.JS_ERROR, logs=logs, error=JSErrorInfo("TypeError", "malformed Response")
        )
    if outcome == "unsettled":
        return InvokeResult(
            Outcome.UNSETTLED,
            logs=logs,
            error=JSErrorInfo(
                "Error",
                NEVER_SETTLES,
            ),
        )
    if outcome == "too_large":
        return InvokeResult(Outcome.TOO_LARGE, logs=logs, detail=str(data.get("detail", ""))[:200])
    return InvokeResult(Outcome.JS_ERROR, logs=logs, error=_parse_error(data.get("error")))


def check_source(source: str) -> PreparedSource:
    """Validate a tenant's source (an isolate must be entered). Raises SourceError.

    A stored module set (runtime/modules.py) is linked into one load script."""
    if is_module_set(source):
        try:
            return link(source, STPyV8.JSEngine())
        except ModuleSetError as exc:
            raise SourceError(JSErrorInfo(name="SyntaxError", message=str(exc))) from None
    return prepare(source, STPyV8.JSEngine())


__all__ = [
    "Sandbox",
    "SourceError",
    "Step",
    "check_source",
    "parse_step",
    "scheduled_script",
    "start_script",
]
