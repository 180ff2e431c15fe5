"""Deploy checks in processes of their own, never on the executors that serve calls.

:class:`Validators` keeps up to ``validation_processes`` check processes
(validator.py), each checking one source at a time in a throwaway isolate. A check
that kills its process (a heap over its limit aborts it: DESIGN.md) ends only that
process, while it held one deployer's code: the deploy is answered as a crash of that
code, no running function is touched, and nobody else is struck or quarantined. The
process is replaced on the next check; a healthy one is reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from isogate.config.runtime import RuntimeSettings

from .errors import RuntimeStartError
from .protocol import HEADER, MAX_FRAME, pack, unpack
from .types import JSErrorInfo, ValidationResult

log = logging.getLogger("isogate.runtime.validation")

#: time a check may take beyond the function's own limit (compiling, the isolate)
CHECK_SLACK_S = 10.0
#: checks after which a process is replaced (what one check left behind goes with it)
CHECKS_PER_PROCESS = 200
#: bytes of a check process's stderr kept to tell why it died
STDERR_TAIL = 8192


class _Checker:
    """One check process and the tail of what it wrote to stderr."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.checks = 0
        self.stderr: deque[bytes] = deque()
        self._stderr_bytes = 0
        self.drain = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(4096):
            self.stderr.append(chunk)
            self._stderr_bytes += len(chunk)
            while self._stderr_bytes > STDERR_TAIL and len(self.stderr) > 1:
                self._stderr_bytes -= len(self.stderr.popleft())

    async def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        (size,) = HEADER.unpack(await self.proc.stdout.readexactly(HEADER.size))
        if size > MAX_FRAME:
            raise ValueError("frame too large")
        return unpack(await self.proc.stdout.readexactly(size))

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def stop(self, *, kill: bool = False) -> None:
        if self.proc.returncode is None:
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
            else:
                with contextlib.suppress(Exception):
                    self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                async with asyncio.timeout(5):
                    await self.proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await self.drain
        self.drain.cancel()

    def why(self) -> str:
        return b"".join(self.stderr).decode(errors="replace")


class Validators:
    """A small pool of check processes (see the module's docstring)."""

    def __init__(
        self,
        settings: RuntimeSettings,
        command: Callable[[], list[str]],
        env: Callable[[], dict[str, str]],
    ) -> None:
        """``command`` and ``env`` give how to start a check process."""
        self.settings = settings
        self._command = command
        self._env = env
        self._slots = asyncio.Semaphore(settings.validation_processes)
        self._idle: list[_Checker] = []
        self._closing = False
        #: check processes that died while checking (for metrics and tests)
        self.crashes = 0

    async def _spawn(self) -> _Checker:
        proc = await asyncio.create_subprocess_exec(
            *self._command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env(),
            limit=MAX_FRAME,
        )
        checker = _Checker(proc)
        try:
            async with asyncio.timeout(self.settings.start_timeout_seconds):
                ready = await checker.read()
        except (TimeoutError, asyncio.IncompleteReadError, ValueError):
            await checker.stop(kill=True)
            raise RuntimeStartError("the code checker did not start") from None
        if ready.get("op") != "ready":
            await checker.stop(kill=True)
            raise RuntimeStartError("the code checker did not start")
        return checker

    async def check(
        self, source: str, env: tuple[tuple[str, str], ...], timeout_ms: int
    ) -> ValidationResult:
        """Load ``source`` once in a check process; crashes and hangs are the code's."""
        if self._closing:
            raise RuntimeStartError("the runtime is shutting down")
        async with self._slots:
            checker = self._idle.pop() if self._idle else await self._spawn()
            message = {
                "op": "validate",
                "src": source,
                "env": [list(kv) for kv in env],
                "timeout_ms": timeout_ms,
                "max_response_body": self.settings.max_response_body,
            }
            reply: dict[str, Any] | None = None
            timed_out = False
            try:
                assert checker.proc.stdin is not None
                checker.proc.stdin.write(pack(message))
                async with asyncio.timeout(timeout_ms / 1000.0 + CHECK_SLACK_S):
                    await checker.proc.stdin.drain()
                    reply = await checker.read()
            except TimeoutError:
                timed_out = True
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                pass  # the process died (or broke the protocol): the code's doing
            except asyncio.CancelledError:  # the deployer left: its check goes too
                with contextlib.suppress(ProcessLookupError):
                    checker.proc.kill()
                raise
            if reply is None or reply.get("op") != "validated":
                await checker.stop(kill=True)
                return self._crashed(checker, timed_out)
            checker.checks += 1
            if checker.checks < CHECKS_PER_PROCESS and checker.alive and not self._closing:
                self._idle.append(checker)
            else:
                await checker.stop()
        return _result(reply)

    def _crashed(self, checker: _Checker, timed_out: bool) -> ValidationResult:
        self.crashes += 1
        why = checker.why()
        log.warning(
            "a deploy check %s (exit %s): %s",
            "timed out" if timed_out else "crashed",
            checker.proc.returncode,
            why[-300:].strip(),
        )
        if timed_out:
            message = "checking the code did not finish in time"
        elif "out of memory" in why.lower() or "over its memory limit" in why:
            message = "the code exhausted memory at load"
        else:
            message = "the code crashed the runtime while loading"
        return ValidationResult(False, JSErrorInfo("Error", message), reason="crashed")

    async def close(self) -> None:
        """Stop the idle check processes (a check in progress ends with its process)."""
        self._closing = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.stop() for c in idle), return_exceptions=True)


def _result(reply: dict[str, Any]) -> ValidationResult:
    if reply.get("ok") is True:
        return ValidationResult(True)
    err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    assert isinstance(err, dict)
    line, column = err.get("line"), err.get("column")
    return ValidationResult(
        False,
        JSErrorInfo(
            name=str(err.get("name", "Error"))[:200],
            message=str(err.get("message", ""))[:4096],
            line=line if type(line) is int else None,
            column=column if type(column) is int else None,
        ),
        reason=str(reply.get("reason") or "invalid"),
    )
