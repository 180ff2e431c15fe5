"""A stand-in runtime for fast tests of the gateway's own logic (no V8, no processes).

Behaviour is chosen by markers in the function source: ``SYNTAX`` fails validation,
``THROW`` → js_error, ``SLEEP`` → timeout, ``CRASH`` → crashed, ``BUSY`` → overloaded,
``QUARANTINE`` → quarantined, ``BIG`` → too_large; otherwise an echo of the request.
A scheduled invocation (a cron tick) is recorded in ``ticks``; ``NORETRY`` makes its
result say ``controller.noRetry()`` was called, ``HOLD`` makes it wait for ``release``.
"""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar

from isogate.config import RuntimeSettings
from isogate.runtime.types import (
    FunctionRef,
    InvokeRequest,
    InvokeResult,
    JSErrorInfo,
    Outcome,
    RuntimeStats,
    ValidationResult,
)


class FakeRuntime:
    instances: ClassVar[list[FakeRuntime]] = []

    def __init__(self, settings: RuntimeSettings, loader) -> None:
        self.settings = settings
        self.loader = loader
        self.invocations: list[tuple[FunctionRef, InvokeRequest]] = []
        self.unquarantined: list[str] = []
        #: cron ticks run here: (function, cron, scheduled time ms)
        self.ticks: list[tuple[str, str, int]] = []
        self.release = asyncio.Event()
        self.ready = False
        FakeRuntime.instances.append(self)

    async def start(self) -> None:
        self.ready = True

    async def close(self) -> None:
        self.ready = False

    async def validate(
        self, source: str, env: tuple[tuple[str, str], ...] = (), timeout_ms: int | None = None
    ) -> ValidationResult:
        if "SYNTAX" in source:
            return ValidationResult(
                False, JSErrorInfo("SyntaxError", "Unexpected token", line=2, column=7)
            )
        return ValidationResult(True)

    async def invoke(self, ref: FunctionRef, request: InvokeRequest) -> InvokeResult:
        self.invocations.append((ref, request))
        src = await self.loader(ref)
        if request.scheduled is not None:
            self.ticks.append((ref.name, *request.scheduled))
            if "HOLD" in src:
                await self.release.wait()
        for marker, outcome in [
            ("THROW", Outcome.JS_ERROR),
            ("SLEEP", Outcome.TIMEOUT),
            ("CRASH", Outcome.CRASHED),
            ("BUSY", Outcome.OVERLOADED),
            ("QUARANTINE", Outcome.QUARANTINED),
            ("BIG", Outcome.TOO_LARGE),
        ]:
            if marker in src:
                return InvokeResult(
                    outcome,
                    error=JSErrorInfo("Error", "boom") if marker == "THROW" else None,
                    logs=("before the error",),
                    detail="response too large" if marker == "BIG" else "",
                    no_retry="NORETRY" in src,
                )
        body = json.dumps(
            {
                "source": src,
                "version": ref.version,
                "env": dict(ref.env),
                "method": request.method,
                "url": request.url,
                "headers": dict(request.headers),
                "body": request.body.decode("latin-1"),
            }
        ).encode()
        return InvokeResult(
            Outcome.OK,
            status=200,
            headers=(("content-type", "application/json"), ("x-custom", "yes")),
            body=body,
            logs=("hello from the fake",),
            cold=len(self.invocations) == 1,
        )

    def stats(self) -> RuntimeStats:
        return RuntimeStats(
            workers=1,
            executors=2,
            executors_busy=0,
            warm_functions=0,
            isolates=2,
            queue_depth=0,
            inflight=0,
            cold_starts=3,
            terminations=0,
            crashes=1,
            quarantined=0,
            ready=self.ready,
        )

    def unquarantine(self, name: str) -> None:
        self.unquarantined.append(name)

    def tenant_blocked(self, tenant: str) -> float:
        return 0.0
