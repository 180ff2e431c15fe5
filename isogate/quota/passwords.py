"""Password hashing with Argon2id (argon2-cffi) on a small dedicated thread pool.

Argon2 is deliberately slow (tens of ms and 64 MB each). On the default thread pool a
flood of registrations or logins queued ahead of blob writes and ``/readyz`` (64
connections pushed readiness to 6-9 s, issue 24). So hashing has its own few threads and
a bounded number of waiting jobs: past that, :class:`PasswordHashBusy` is raised at once
(the gateway answers 503 with ``Retry-After``) instead of queueing without end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from isogate.quota.errors import PasswordHashBusy

T = TypeVar("T")

_hasher = PasswordHasher()
#: A hash of a random password, verified against when the tenant is unknown (equal timing).
_DUMMY = _hasher.hash("isogate-dummy-password-for-timing")


class PasswordPool:
    """``threads`` hashing threads; at most ``threads + queue`` jobs admitted at once."""

    def __init__(self, threads: int = 2, queue: int = 8) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="isogate-argon2")
        self._admitted = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the pool, or raise :class:`PasswordHashBusy` when it is full."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise PasswordHashBusy("too many password checks in progress; retry shortly")
            self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        finally:
            with self._lock:
                self._admitted -= 1

    def close(self) -> None:
        """Stop the threads (queued jobs still finish)."""
        self._executor.shutdown(wait=False)


_pool = PasswordPool()


def configure(threads: int, queue: int) -> None:
    """Size the process's hashing pool (the gateway calls it at start-up)."""
    global _pool
    if (_pool.threads, _pool.capacity) != (threads, threads + queue):
        old, _pool = _pool, PasswordPool(threads, queue)
        old.close()


async def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return await _pool.run(lambda: _hasher.hash(password))


async def verify_password(stored: str | None, password: str) -> bool:
    """Check ``password`` against ``stored``; ``None`` still costs one verification."""

    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _pool.run(check)
