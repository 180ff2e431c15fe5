"""A function that cannot load never ends the executor thread it shares (issue 15, part 2).

Independently of what deploy refuses: code reaching the runtime that fails to parse in
the runtime's strict wrapper (a ``with`` statement in a module), throws or overflows
its stack at load, is answered with a load error within its deadline; the worker keeps
serving another tenant's canary, is never restarted, and no crash is counted.
"""

from __future__ import annotations

import asyncio

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import Outcome, Runtime
from tests.runtime.conftest import fn, get

CANARY = "export default { fetch() { return new Response('alive') } }"
FAILING = {
    "with": "with ({ a: 1 }) { a; }\nexport default { fetch() { return new Response('x') } }",
    "throws": "throw new Error('top')\nexport default { fetch() {} }",
    "overflows": "(function f() { f() })()\nexport default { fetch() {} }",
    "no-handler": "const x = 1;",
}


async def test_load_failures_are_answered_and_the_worker_serves_on() -> None:
    rt = Runtime(RuntimeSettings(workers=1, threads_per_worker=1, default_timeout_ms=1000))
    await rt.start()
    try:
        await _attack(rt)
    finally:
        await rt.close()


async def _attack(rt: Runtime) -> None:
    pids = rt.worker_pids()
    canary = fn(CANARY, name="canary", tenant="victim")
    refs = {k: fn(src, name=f"bad-{k}", tenant="attacker") for k, src in FAILING.items()}
    for _ in range(3):
        for ref in refs.values():
            async with asyncio.timeout(10):  # answered within its deadline (plus slack)
                r = await rt.invoke(ref, get())
            assert r.outcome is Outcome.LOAD_ERROR, (ref.name, r)
            assert r.error is not None and r.error.message
            c = await rt.invoke(canary, get())
            assert (c.outcome, c.status, c.body) == (Outcome.OK, 200, b"alive")
    stats = rt.stats()
    assert stats.crashes == 0
    assert rt.worker_pids() == pids
