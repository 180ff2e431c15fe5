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

import json
import os
import threading
from dataclasses import replace

import STPyV8

from .prelude import prelude_source
from .source import (
    SCRIPT_NAME,
    PreparedSource,
    SourceError,
    load_script,
    prepare,
    to_js_source,
)
from .types import InvokeRequest, InvokeResult, JSErrorInfo, Outcome

#: the length of the random seed in front of each invocation's request (js/90-host.js)
SEED_LENGTH = 32
#: scripts the prelude's warm-up takes: two requests, then the clean-up
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

    __slots__ = ("contexts", "isolate", "spares", "tenant")

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
        self.isolate = self.host.isolate
        self.host.contexts += 1
        self.isolate.enter()
        failure = None
        try:
            self.context = STPyV8.JSContext()
            self.context.enter()
            try:
                self.context.eval(prelude_source(), "isogate:prelude")
                if warm_up:  # one script per step (see warmup() in js/90-host.js)
                    for step in range(WARMUP_STEPS):
                        previous = self.context.eval(f"__isogate.warmup({step})")
                        if step and parse_result(previous).status != 200:
                            failure = f"the warm-up request {step} failed: {previous!r:.300}"
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
        self.context = None  # type: ignore[assignment]
        self.isolate = None  # type: ignore[assignment]
        self.host.contexts -= 1
        if self.host.contexts <= 0:
            self.host.drop()

    # -- evaluation (the isolate and context must be entered) -------------------------

    def eval_str(self, script: str, name: str = "") -> str | None:
        """Evaluate host-made source; return its value only if it is a ``str``.

        Raises :class:`HostError` (text only) if V8 raised, e.g. when terminated.
        """
        failure = None
        try:
            value = self.context.eval(to_js_source(script), name)
        except Exception as exc:  # keep only the text: see HostError
            failure = f"{type(exc).__name__}: {exc}"
        if failure is not None:
            raise HostError(failure)
        return value if type(value) is str else None

    def burn_termination(self, attempts: int = 100) -> bool:
        """Consume a pending termination: evaluate a trivial script until it returns 1."""
        for _ in range(attempts):
            try:
                if self.context.eval("1") == 1:
                    return True
            except Exception:  # a terminated eval may raise; try again
                pass
        return False

    def load(
        self, prepared: PreparedSource, env: tuple[tuple[str, str], ...], max_response_body: int
    ) -> InvokeResult:
        """Run the tenant's top level and register its handler."""
        config = json.dumps(
            {
                "env": [list(kv) for kv in env],
                "maxResponseBody": max_response_body,
                "module": prepared.module,
            }
        )
        text = self.eval_str(load_script(prepared, config), SCRIPT_NAME)
        result = _parse_load(text)
        if result.error is not None:  # positions in the tenant's code, not the wrapper's
            result = replace(result, error=prepared.locate(result.error))
        return result

    def stage(self, request: InvokeRequest) -> str:
        """The script that starts the handler on ``request`` with a fresh random seed.

        Building it runs nothing in V8; :meth:`run` evaluates it under the watchdog.
        """
        return host_call("invoke", os.urandom(SEED_LENGTH).decode("latin-1") + wire(request))

    def run(self, script: str) -> InvokeResult:
        """Evaluate a script from :meth:`stage`, let microtasks run, then collect the
        result (a constant script, compiled once per context)."""
        self.eval_str(script)
        return parse_result(self.eval_str("__isogate.result()"))

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        """:meth:`stage` then :meth:`run`, for callers without a watchdog."""
        return self.run(self.stage(request))


def wire(request: InvokeRequest) -> str:
    """``request`` as the JSON the prelude's ``requestFromWire`` reads (a body is a
    binary string: one character per byte)."""
    return json.dumps(
        {
            "method": request.method,
            "url": request.url,
            "headers": [list(kv) for kv in request.headers],
            "body": request.body.decode("latin-1") if request.body else None,
        },
        ensure_ascii=False,
    )


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


def _parse_logs(obj: object) -> tuple[str, ...]:
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
    logs = _parse_logs(data.get("logs"))
    if data.get("ok") is True:
        return InvokeResult(Outcome.OK, logs=logs)
    return InvokeResult(Outcome.LOAD_ERROR, logs=logs, error=_parse_error(data.get("error")))


def parse_result(text: str | None) -> InvokeResult:
    """Turn the prelude's JSON into a result, trusting nothing about its shape."""
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return InvokeResult(
            Outcome.JS_ERROR, error=JSErrorInfo("Error", "the function produced no result")
        )
    logs = _parse_logs(data.get("logs"))
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
                "the handler's promise never settled (there is no event loop: no timers or I/O)",
            ),
        )
    if outcome == "too_large":
        return InvokeResult(Outcome.TOO_LARGE, logs=logs, detail=str(data.get("detail", ""))[:200])
    return InvokeResult(Outcome.JS_ERROR, logs=logs, error=_parse_error(data.get("error")))


def check_source(source: str) -> PreparedSource:
    """Validate a tenant's source (an isolate must be entered). Raises SourceError."""
    return prepare(source, STPyV8.JSEngine())


__all__ = ["Sandbox", "SourceError", "check_source", "parse_result"]
