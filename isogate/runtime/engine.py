"""One isolate in the current process, for tests and benchmarks of the prelude.

Production never runs tenant JS in the gateway process (see worker.py); this is the
same Sandbox driven synchronously from a dedicated thread with a large stack, so
unit tests can check JavaScript behaviour without starting worker processes. It
has no watchdog: give it only code that terminates.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .types import InvokeRequest, InvokeResult, JSErrorInfo, Outcome

if TYPE_CHECKING:  # imported at run time only after V8 started (icu.start_v8)
    from .isolate import Sandbox

T = TypeVar("T")


class Engine:
    """``with Engine() as e: e.load(src, env); e.invoke(request)``; single function."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue[Any]] | None] = (
            queue.SimpleQueue()
        )
        old = threading.stack_size(16 << 20)
        try:
            self._thread = threading.Thread(target=self._loop, name="isogate-engine", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(old)
        self._sandbox: Sandbox | None = None

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, reply = job
            try:
                reply.put((True, fn()))
            except BaseException as exc:
                reply.put((False, exc))

    def _call(self, fn: Callable[[], T]) -> T:
        reply: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._jobs.put((fn, reply))
        ok, value = reply.get()
        if not ok:
            raise value
        result: T = value
        return result

    def load(
        self, source: str, env: dict[str, str] | None = None, max_response_body: int = 8 << 20
    ) -> InvokeResult:
        """Load ``source`` into a fresh isolate (dropping any previous one)."""

        def job() -> InvokeResult:
            from .icu import start_v8

            start_v8()  # V8 with the wheel's ICU data, before the first STPyV8 import
            from .isolate import Sandbox, SourceError, check_source

            self._close()
            sandbox = Sandbox()
            sandbox.enter()
            try:
                try:
                    prepared = check_source(source)
                except SourceError as exc:
                    result = InvokeResult(Outcome.LOAD_ERROR, error=exc.info)
                else:
                    result = sandbox.load(prepared, tuple((env or {}).items()), max_response_body)
            finally:
                sandbox.leave()
            if result.outcome is Outcome.OK:
                self._sandbox = sandbox
            else:
                sandbox.close()
            return result

        return self._call(job)

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        """Call the loaded handler."""

        def job() -> InvokeResult:
            sandbox = self._sandbox
            if sandbox is None:
                return InvokeResult(
                    Outcome.LOAD_ERROR, error=JSErrorInfo("Error", "nothing loaded")
                )
            sandbox.enter()
            try:
                return sandbox.invoke(request)
            finally:
                sandbox.leave()

        return self._call(job)

    def eval(self, script: str) -> str | None:
        """Evaluate host-made source in the loaded function's context (strings only)."""

        def job() -> str | None:
            sandbox = self._sandbox
            if sandbox is None:  # nothing loaded: nothing to evaluate in
                return None
            sandbox.enter()
            try:
                return sandbox.eval_str(script)
            finally:
                sandbox.leave()

        return self._call(job)

    def _close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def close(self) -> None:
        """Dispose the isolate on its own thread, then stop the thread."""
        self._call(self._close)
        self._jobs.put(None)
        self._thread.join()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
