"""The functions an executor thread keeps warm: :class:`WarmFunctions`.

A cold start loads a function version into a fresh context from the isolate pool
(prewarm.py); it then stays warm, keyed by its version, least recently used first,
until the memory budget (``memory_budget_mb``, shared by the worker's threads) needs
its place, the supervisor evicts it, or its isolate is replaced because the scripts it
evaluated filled it (``isolate_recycle_mb``). An evicted function whose invocations
still run keeps its context until the last of them ends.

State of the executor thread that owns it (executor.py): only that thread touches it,
as V8 requires, so it needs no lock.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .isolate import HostError, SourceError, check_source
from .types import InvokeResult, JSErrorInfo, Outcome

if TYPE_CHECKING:
    from .code_cache import SharedLRU
    from .isolate import Host, Sandbox
    from .messages import FnSpec
    from .prewarm import IsolatePool
    from .source import PreparedSource
    from .watchdog import Watchdog

# under the executor's name: to whoever reads the logs, this is the executor thread
log = logging.getLogger("isogate.runtime.executor")

#: estimated bytes of an isolate with the prelude, and of each further context in it
ISOLATE_COST = 1_000_000
CONTEXT_COST = 400_000


@dataclass(slots=True, eq=False)
class Warm:
    """A function version loaded in a context of its own."""

    sandbox: Sandbox
    cost: int  # estimated bytes, for the memory budget
    #: how the code was wrapped: maps stack positions back to the tenant's code
    prepared: PreparedSource | None = None
    flights: int = 0  # invocations in flight in this context (it is closed only at 0)


def estimate_cost(source: str, *, new_isolate: bool) -> int:
    """Rough bytes a warm function holds: its context and compiled code, plus the isolate
    when it opened one (docs/architecture.md)."""
    return CONTEXT_COST + 4 * len(source) + (ISOLATE_COST if new_isolate else 0)


class WarmFunctions:
    """The warm functions of one executor thread, by key, under its memory budget."""

    def __init__(
        self,
        index: int,
        pool: IsolatePool,
        *,
        watchdog: Watchdog,
        prepared: SharedLRU[PreparedSource],
        budget_bytes: int,
        max_response_body: int,
        recycle_bytes: int,
    ) -> None:
        self._index = index  # the executor's, for its logs
        self._pool = pool
        self._watchdog = watchdog
        self._prepared = prepared
        self._budget = budget_bytes
        self._max_response_body = max_response_body
        #: warm functions by key, least recently used first
        self.by_key: OrderedDict[str, Warm] = OrderedDict()
        self.used = 0  # estimated bytes of them all
        self.draining: list[Warm] = []  # evicted while invocations still ran in them
        #: runtime.isolate_recycle_mb: what evaluated scripts may leave in an isolate
        #: before it is replaced (Host.retained; stpyv8 frees them only with the isolate)
        self.recycle_bytes = recycle_bytes
        self.recycle: list[Host] = []  # past that, to replace at the next safe point

    def get(self, key: str) -> Warm | None:
        """The warm function ``key``, now the most recently used; None if it is cold."""
        warm = self.by_key.get(key)
        if warm is not None:
            self.by_key.move_to_end(key)
        return warm

    def load(self, key: str, source: str, fn: FnSpec, timeout_s: float) -> Warm | InvokeResult:
        """A cold start: run ``source``'s top level in a fresh context of ``fn``'s tenant,
        under the watchdog; the warm function, or the result that answers the call when
        it fails (its context is dropped then)."""
        sandbox, new_isolate = self._pool.sandbox_for(fn.tenant)
        sandbox.enter()
        ok = False
        try:
            try:
                prepared = self._check(source)
            except SourceError as exc:
                return InvokeResult(Outcome.LOAD_ERROR, error=exc.info)
            ticket = self._watchdog.arm(sandbox.isolate, timeout_s)
            try:
                result = sandbox.load(prepared, fn.env, self._max_response_body, fn.kv)
            except HostError:  # V8 raised out of the load script: answer, drop the context
                result = InvokeResult(
                    Outcome.LOAD_ERROR,
                    error=JSErrorInfo("Error", "the function's code could not be loaded"),
                )
            finally:
                fired = self._watchdog.disarm(ticket)
            if fired:
                sandbox.burn_termination()
                return InvokeResult(
                    Outcome.TIMEOUT, detail=f"top-level code exceeded {fn.timeout_ms} ms"
                )
            if result.outcome is not Outcome.OK:
                return result
            ok = True
        finally:
            sandbox.leave()
            if not ok:
                self._pool.close(sandbox)  # nothing half-installed: the failed context is dropped
        sandbox.function_key = key
        sandbox.tenant = fn.tenant
        warm = Warm(sandbox, estimate_cost(source, new_isolate=new_isolate), prepared)
        self.by_key[key] = warm
        self.used += warm.cost
        return warm

    def _check(self, source: str) -> PreparedSource:
        """``check_source`` once per source text (an isolate must be entered)."""
        prepared = self._prepared.get(source)
        if prepared is None:
            prepared = check_source(source)
            self._prepared.put(source, prepared)
        return prepared

    def fit(self, keep: str) -> list[str]:
        """Evict least-recently-used functions until the budget holds (never ``keep``)."""
        evicted: list[str] = []
        while self.used > self._budget and len(self.by_key) > 1:
            key = next(iter(self.by_key))
            if key == keep:
                self.by_key.move_to_end(key)
                continue
            self.evict(key)
            evicted.append(key)
        return evicted

    def evict(self, key: str) -> None:
        """Forget ``key``; its context is closed now, or once its last invocation ends."""
        warm = self.by_key.pop(key, None)
        if warm is not None:
            self.used -= warm.cost
            if warm.flights:  # closed when its last invocation ends (see tidy)
                self.draining.append(warm)
            else:
                self._pool.close(warm.sandbox)

    def replace_later(self, host: Host) -> None:
        """``host`` holds more than ``recycle_bytes`` of evaluated scripts: replace it at
        the next safe point (:meth:`tidy`)."""
        if host not in self.recycle:
            self.recycle.append(host)

    def tidy(self) -> list[str]:
        """Between messages and loop turns (nothing entered): replace isolates filled by
        their scripts, close evicted contexts whose last invocation ended. The keys it
        evicted, for the supervisor."""
        evicted = self._recycle_hosts() if self.recycle else []
        if self.draining:
            self._close_drained()
        return evicted

    def _close_drained(self) -> None:
        """Close evicted contexts whose last invocation ended (run loop, nothing
        entered)."""
        done = [warm for warm in self.draining if warm.flights <= 0]
        for warm in done:
            self.draining.remove(warm)
            self._pool.close(warm.sandbox)

    def _recycle_hosts(self) -> list[str]:
        """Replace the isolates that evaluated scripts filled past ``isolate_recycle_mb``
        (``Host.retained``): stpyv8 keeps every script's source, and V8 the compiled
        script with it, until the isolate is disposed of, so a warm isolate under steady
        load grows by a few KB per call for good (docs/reliability.md, "Soak after the
        event loop"). Its functions are evicted (those still running finish first, see
        Executor._land) and load again in a fresh isolate on their next call, as after
        an LRU eviction; the supervisor is told. Called from the run loop, with nothing
        entered."""
        hosts, self.recycle = self.recycle, []
        evicted: list[str] = []
        for host in hosts:
            self._pool.retire(host)
            for key, warm in list(self.by_key.items()):
                if warm.sandbox.host is host:
                    self.evict(key)
                    evicted.append(key)
            if host.alive and host.spares and host.contexts == len(host.spares):
                self._pool.drop_spares(host)  # no function left in it: the isolate goes now
            log.debug(
                "executor %d: isolate replaced after ~%d KB of retained scripts",
                self._index,
                host.retained >> 10,
            )
        return evicted

    def collect(self, key: str) -> None:
        """A full V8 GC of the isolate of warm function ``key``, if it is warm (stress
        runs: runtime.debug_gc_every; needs --expose-gc)."""
        warm = self.by_key.get(key)
        if warm is None:
            return
        sandbox = warm.sandbox
        sandbox.enter()
        try:
            # under the watchdog: a tenant may have replaced gc with anything
            ticket = self._watchdog.arm(sandbox.isolate, 1.0)
            try:
                sandbox.eval_str("typeof gc === 'function' && gc(), ''")
            except Exception:  # terminated or thrown: a stress aid, not a duty
                pass
            finally:
                if self._watchdog.disarm(ticket):
                    sandbox.burn_termination()
        finally:
            sandbox.leave()

    def close_all(self) -> None:
        """Close every warm context, evicted or not (the executor thread ends)."""
        for warm in [*self.by_key.values(), *self.draining]:
            warm.sandbox.close()
        self.by_key.clear()
        self.draining.clear()
