"""A background task that runs one step at a fixed interval (write-behind flushers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    """Runs ``step`` every ``interval`` seconds in a task of its own, from :meth:`start`
    until :meth:`stop`. A step that raises is logged and tried again at the next tick:
    a flusher must outlive a database or Redis outage. Exceptions of the types in
    ``quiet`` (an outage already reported elsewhere) are not logged."""

    def __init__(
        self,
        step: Callable[[], Awaitable[object]],
        interval: float,
        *,
        name: str,
        log: logging.Logger,
        failure: str,
        quiet: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._step = step
        self._interval = interval
        self._name = name
        self._log = log
        self._failure = failure
        self._quiet = quiet
        self._task: asyncio.Task[None] | None = None
        self._in_step = False
        self._stopping = False

    @property
    def running(self) -> bool:
        """Whether the task was started and not stopped."""
        return self._task is not None

    def start(self) -> None:
        """Start the task (once; a second call does nothing)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop the task and wait for it. A step in progress is let finish, never
        cancelled: a write-behind flush cut in the middle lost the counts it had taken
        (the intermittent loss of key uses across a graceful restart, issue 16)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if not self._in_step:
            task.cancel()  # asleep between steps: nothing is lost
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._interval)
            self._in_step = True
            try:
                await self._step()
            except self._quiet:
                pass
            except Exception:
                self._log.exception(self._failure)
            finally:
                self._in_step = False
