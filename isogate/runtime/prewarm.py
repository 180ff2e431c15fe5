"""Where an executor thread's new contexts come from: :class:`IsolatePool`.

Each warm function version lives in a context of its own. Contexts of one tenant share
an isolate, up to ``functions_per_isolate`` of them (so one isolate never holds two
tenants' code, and the heap limit applies to that group): a context in an existing
isolate costs a fraction of a new isolate, since V8's per-isolate compilation cache
already holds the prelude. Made ahead of demand in idle time: a pool of blank isolates,
each holding ``functions_per_isolate`` contexts with the prelude already run (a tenant
that takes a blank isolate finds its next contexts ready too), and one spare context in
each tenant isolate with room once it holds two functions. A cold start then costs only
compiling and running the tenant's top level; a burst of new functions makes contexts or
isolates on demand only once those are used up.

The pool is state of the executor thread that owns it (executor.py decides when to
pre-warm; warm.py takes contexts from here for the functions it loads): only that
thread touches it, as V8 requires, so it needs no lock.
"""

from __future__ import annotations

import logging
from collections import deque

from .isolate import Host, PreludeError, Sandbox

# under the executor's name: to whoever reads the logs, this is the executor thread
log = logging.getLogger("isogate.runtime.executor")

IDLE_BEFORE_PREWARM = 0.02  # seconds idle before making a blank isolate (~8 ms of work)
IDLE_BEFORE_SPARE = 0.002  # seconds idle before making a spare context (~1.5 ms of work)
#: blanks after which a starting executor reports itself ready; it fills the rest of its
#: pool in idle time, so a restarted worker serves again sooner
READY_BLANKS = 4


class IsolatePool:
    """Blank isolates and spare contexts made ahead, and the isolate of each tenant that
    still has room; hands out a fresh context for a tenant's function (``sandbox_for``).
    Owned and used by one executor thread."""

    def __init__(self, *, size: int, per_isolate: int) -> None:
        #: blank isolates to keep made ahead (runtime.prewarm_isolates)
        self.size = size
        self.per_isolate = per_isolate  # runtime.functions_per_isolate
        self.blanks: deque[Sandbox] = deque()
        self.hosts: dict[str, Host] = {}  # tenant -> its isolate that still has room
        self._spare_wanted: deque[Host] = deque()
        # every pooled blank holds its contexts made ahead (kept as a flag: the run loop
        # asks before every message, and scanning the pool each time is work for nothing)
        self.filled = False

    def spare_host(self) -> Host | None:
        """A tenant isolate that should get a spare context, if any."""
        wanted = self._spare_wanted
        while wanted:
            host = wanted[0]
            if (
                host.alive
                and not host.spares
                and host.contexts < self.per_isolate
                and self.hosts.get(host.tenant or "") is host
            ):
                return host
            wanted.popleft()
        return None

    def short(self) -> bool:
        """Whether the pool of blank isolates is not yet complete."""
        return len(self.blanks) < self.size or not self.filled

    def _unfilled_blank(self) -> Sandbox | None:
        """A pooled blank isolate with room for another ready context, if any."""
        for blank in self.blanks:
            if blank.host.contexts < self.per_isolate:
                return blank
        return None

    def prewarm_one(self, spare: Host | None) -> bool:
        """One step of pre-warming: a spare for a tenant isolate (``spare``, from
        :meth:`spare_host`), else a blank isolate, else a ready context in a pooled blank
        isolate (isolates first: they count for readiness). True when the pool reached a
        size worth reporting (READY_BLANKS, or complete)."""
        if spare is not None:
            self._spare_wanted.popleft()
            try:
                spare.spares.append(Sandbox(spare))
            except PreludeError as exc:  # e.g. a termination left pending in that isolate
                log.warning("no spare context in a tenant isolate: %s", exc)
                self.retire(spare)
            return False
        if len(self.blanks) < self.size:
            self.blanks.append(Sandbox())
            self.filled = self._unfilled_blank() is None
            n = len(self.blanks)
            return n == READY_BLANKS or (n == self.size and self.filled)
        blank = self._unfilled_blank()
        if blank is None:
            self.filled = True
            return False
        try:
            blank.host.spares.append(Sandbox(blank.host))
        except PreludeError as exc:  # never expected in a blank isolate: replace it
            log.warning("no ready context in a blank isolate: %s", exc)
            self.blanks.remove(blank)
            self.drop_spares(blank.host)
            blank.close()
            return False
        if self._unfilled_blank() is None:
            self.filled = True
            return True  # the whole pool is ready
        return False

    def sandbox_for(self, tenant: str) -> tuple[Sandbox, bool]:
        """A fresh context for a function of ``tenant``: a spare, or a new context in
        the tenant's isolate while it has room, else a blank isolate (which becomes the
        tenant's, with the contexts made ready in it). The flag tells whether a new
        isolate was taken."""
        host = self.hosts.get(tenant)
        new_isolate = False
        if host is not None and host.alive and host.spares:
            sandbox = host.spares.pop()
        elif host is not None and host.alive and host.contexts < self.per_isolate:
            try:
                sandbox = Sandbox(host, warm_up=False)  # a cold start waits for it
            except PreludeError as exc:
                log.warning("no new context in a tenant isolate: %s", exc)
                self.retire(host)
                return self.sandbox_for(tenant)
        else:
            sandbox = self.blanks.popleft() if self.blanks else Sandbox()
            host = sandbox.host
            host.tenant = tenant
            new_isolate = True
            self.hosts[tenant] = host
        if host.contexts >= self.per_isolate and not host.spares:
            self.retire(host)  # full: the next function opens another isolate
        elif (
            self.hosts.get(tenant) is host
            and not host.spares
            and host.contexts >= 2  # a tenant with one function may never load another
            and not (self._spare_wanted and self._spare_wanted[-1] is host)
        ):
            # A tenant that loaded a second function gets its next context made in idle
            # time. Not after its first: with many tenants of one function each, a spare
            # per isolate was ~0.35 MB per tenant that nobody used (bench/callpath.py)
            self._spare_wanted.append(host)
        return sandbox, new_isolate

    def close(self, sandbox: Sandbox) -> None:
        """Drop a function's context; an isolate left with only spare contexts goes too."""
        host = sandbox.host
        sandbox.close()
        if host.spares and host.contexts == len(host.spares):
            self.drop_spares(host)
        if not host.alive:
            self.retire(host)

    def retire(self, host: Host) -> None:
        """Take no more contexts in ``host`` (its functions stay until evicted)."""
        if host.tenant is not None and self.hosts.get(host.tenant) is host:
            del self.hosts[host.tenant]

    @staticmethod
    def drop_spares(host: Host) -> None:
        """Close ``host``'s spare contexts (an isolate left with none goes with them)."""
        spares, host.spares = host.spares, []
        for spare in spares:
            spare.close()

    def close_all(self) -> None:
        """Close every spare context and blank isolate (the executor thread ends)."""
        for host in self.hosts.values():
            self.drop_spares(host)
        self.hosts.clear()
        while self.blanks:
            blank = self.blanks.popleft()
            self.drop_spares(blank.host)
            blank.close()
