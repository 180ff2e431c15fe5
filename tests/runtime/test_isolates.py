"""Functions of one tenant share an isolate (a context each); tenants never share one."""

from __future__ import annotations

import asyncio

from isogate.runtime import Outcome

from .conftest import fn, get

LOOP = "export default { fetch() { while (true) {} } }"


def hello(i: int, tenant: str = "t1") -> object:
    return fn(
        f"export default {{ fetch() {{ return new Response('{tenant}-{i}') }} }}",
        name=f"{tenant}-f{i}",
        tenant=tenant,
    )


async def test_a_tenants_functions_share_isolates_up_to_the_limit(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, functions_per_isolate=4
    )
    for i in range(10):  # 10 functions of one tenant: 3 isolates of at most 4
        assert (await rt.invoke(hello(i), get())).body == f"t1-{i}".encode()
    assert rt.stats().warm_functions == 10
    assert rt.stats().isolates == 3
    for i in range(2):  # another tenant never joins them
        assert (await rt.invoke(hello(i, "t2"), get())).body == f"t2-{i}".encode()
    assert rt.stats().isolates == 4


async def test_one_isolate_per_function_when_the_limit_is_one(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, functions_per_isolate=1
    )
    for i in range(5):
        assert (await rt.invoke(hello(i), get())).outcome is Outcome.OK
    assert rt.stats().isolates == 5


async def test_functions_in_one_isolate_keep_separate_globals(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, functions_per_isolate=8
    )
    writer = fn(
        "globalThis.shared = 'mine'; Object.prototype.polluted = 1; Array.prototype.push = null;"
        " let n = 0; export default { fetch() { n++; return new Response(globalThis.shared + n) } }",
        name="writer",
    )
    reader = fn(
        "export default { fetch() { const a = []; a.push(1);"
        " return new Response(String(globalThis.shared) + ',' + String(({}).polluted) + ',' + a.length) } }",
        name="reader",
    )
    assert (await rt.invoke(writer, get())).body == b"mine1"
    assert (await rt.invoke(reader, get())).body == b"undefined,undefined,1"
    assert (await rt.invoke(writer, get())).body == b"mine2"
    assert rt.stats().isolates == 1  # they did share the isolate


async def test_a_timeout_leaves_the_other_functions_of_its_isolate_serving(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, functions_per_isolate=8
    )
    first, loop = hello(1), fn(LOOP, name="loop", timeout_ms=100)
    assert (await rt.invoke(first, get())).body == b"t1-1"
    assert (await rt.invoke(loop, get())).outcome is Outcome.TIMEOUT
    assert (await rt.invoke(first, get())).body == b"t1-1"
    assert (await rt.invoke(hello(2), get())).body == b"t1-2"  # a new context still loads
    assert (await rt.invoke(loop, get())).outcome is Outcome.TIMEOUT  # and it stays usable
    await asyncio.sleep(0.2)  # idle: a spare context is made in the same isolate
    assert (await rt.invoke(hello(3), get())).body == b"t1-3"
    assert (await rt.invoke(first, get())).body == b"t1-1"
    assert rt.stats().isolates == 1


async def test_evicting_every_function_of_an_isolate_disposes_of_it(make_runtime) -> None:
    rt = await make_runtime(
        workers=1,
        threads_per_worker=1,
        prewarm_isolates=0,
        functions_per_isolate=4,
        memory_budget_mb=16,  # room for ~24 such functions: older ones are evicted
    )
    fns = [hello(i) for i in range(50)]
    for f in fns:
        assert (await rt.invoke(f, get())).outcome is Outcome.OK
    stats = rt.stats()
    assert stats.warm_functions < 50
    # no isolate is kept alive by a spare or by evicted contexts alone
    assert stats.isolates <= -(-stats.warm_functions // 4) + 1
    again = await asyncio.gather(*(rt.invoke(f, get()) for f in fns[:2]))
    assert [r.body for r in again] == [b"t1-0", b"t1-1"]


async def test_a_failed_load_in_a_shared_isolate_drops_only_its_context(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, functions_per_isolate=8
    )
    good = hello(1)
    assert (await rt.invoke(good, get())).outcome is Outcome.OK
    broken = fn("throw new Error('top level'); export default {}", name="broken")
    assert (await rt.invoke(broken, get())).outcome is Outcome.LOAD_ERROR
    assert (await rt.invoke(good, get())).body == b"t1-1"
    assert rt.stats().isolates == 1
