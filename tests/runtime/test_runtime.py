"""The runtime end to end: real worker processes, real isolates, no mocks of V8."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from isogate.runtime import InvokeRequest, Outcome, Runtime
from isogate.runtime.warm import CONTEXT_COST

from .conftest import fn, get, until

HELLO = "export default { fetch(request) { return new Response('hello ' + request.url) } }"
LOOP = "export default { fetch() { while (true) {} } }"
BOMB = "export default { fetch() { const a = []; while (true) a.push(new Array(1e6).fill(1)); } }"


async def test_module_and_service_worker_syntax(runtime: Runtime) -> None:
    r = await runtime.invoke(fn(HELLO), get("http://x.test/a?b=1"))
    assert r.outcome is Outcome.OK and r.status == 200
    assert r.body == b"hello http://x.test/a?b=1"
    named = "async function fetch(req, env) { return new Response(env.GREETING) }\nexport default { fetch }"
    r = await runtime.invoke(fn(named, env=(("GREETING", "hej"),)), get())
    assert r.body == b"hej"
    sw = (
        "async function handle(req) { return new Response('sw:' + req.method) }\n"
        "addEventListener('fetch', event => event.respondWith(handle(event.request)))"
    )
    r = await runtime.invoke(fn(sw), InvokeRequest("POST", "http://x.test/"))
    assert r.outcome is Outcome.OK and r.body == b"sw:POST"


async def test_warm_function_is_not_reloaded_and_keeps_its_globals(runtime: Runtime) -> None:
    counter = fn("let n = 0; export default { fetch() { n++; return new Response(String(n)) } }")
    first = await runtime.invoke(counter, get())
    second = await runtime.invoke(counter, get())
    assert first.cold and not second.cold
    assert (first.body, second.body) == (b"1", b"2")
    assert second.timings.load_ms == 0


async def test_two_hundred_distinct_functions_concurrently(make_runtime) -> None:
    # A generous queue deadline: on a busy shared machine 200 cold loads on two
    # executors may take seconds, and this test is about correctness, not speed.
    runtime = await make_runtime(workers=1, threads_per_worker=2, queue_timeout_ms=120_000)
    fns = [
        fn(
            f"export default {{ fetch() {{ return new Response('result-{i}') }} }}",
            name=f"f{i}",
            tenant=f"t{i}",
        )
        for i in range(200)
    ]
    results = await asyncio.gather(*(runtime.invoke(f, get()) for f in fns))
    assert [r.outcome for r in results] == [Outcome.OK] * 200
    assert [r.body for r in results] == [f"result-{i}".encode() for i in range(200)]


async def test_infinite_loop_stopped_while_others_complete(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=2, default_timeout_ms=300)
    slowish = fn(
        "export default { fetch(r) { let x = 0; for (let i = 0; i < 2e5; i++) x += i;"
        " return new Response(new URL(r.url).pathname) } }",
        name="ok",
    )
    loop = fn(LOOP, name="loop")
    loop_task = asyncio.create_task(rt.invoke(loop, get()))
    await asyncio.sleep(0.02)
    others = await asyncio.gather(*(rt.invoke(slowish, get(f"http://x/{i}")) for i in range(10)))
    stopped = await loop_task
    assert stopped.outcome is Outcome.TIMEOUT
    assert [r.body for r in others] == [f"/{i}".encode() for i in range(10)]
    # The executor that ran the loop serves again, and the looping function too.
    again = await rt.invoke(fn(HELLO, name="after"), get())
    assert again.outcome is Outcome.OK
    assert (await rt.invoke(loop, get())).outcome is Outcome.TIMEOUT
    assert rt.stats().terminations == 2


async def test_same_executor_serves_after_termination(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1, default_timeout_ms=200)
    stopped = await rt.invoke(fn(LOOP), get())
    assert stopped.outcome is Outcome.TIMEOUT
    after = await rt.invoke(fn(HELLO), get())
    assert after.outcome is Outcome.OK and after.executor == stopped.executor


async def test_hazards_that_must_be_terminated(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=2, default_timeout_ms=300)
    cases = {
        "regex": "export default { fetch() { /(a+)+$/.test('a'.repeat(40) + 'b'); return new Response('x') } }",
        "sort": "export default { fetch() { const a = [3,2,1]; a.sort(() => { while (true) {} }); } }",
        "getter": "export default { fetch() { throw { get message() { while (true) {} } } } }",
        "proxy": (
            "export default { fetch() { return new Proxy({}, { get() { while (true) {} } }) } }"
        ),
        "tostring": "export default { fetch() { throw { message: { toString() { for (;;) {} } } } } }",
        "microtask": ("export default { async fetch() { await null; for (;;) {} } }"),
        "atomics": (
            "export default { fetch() { const s = new Int32Array(new SharedArrayBuffer(4));"
            " Atomics.wait(s, 0, 0); return new Response('woke') } }"
        ),
        "wasm": (
            "export default { fetch() { const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,3,64,12,0,11,11]);"
            " const m = new WebAssembly.Module(bytes); new WebAssembly.Instance(m).exports.f(); } }"
        ),
    }
    results = await asyncio.gather(*(rt.invoke(fn(src, name=k), get()) for k, src in cases.items()))
    outcomes = {k: r.outcome for k, r in zip(cases, results, strict=True)}
    assert outcomes == dict.fromkeys(cases, Outcome.TIMEOUT)
    assert (await rt.invoke(fn(HELLO), get())).outcome is Outcome.OK


async def test_huge_json_parse_is_stopped_after_it_finishes(make_runtime) -> None:
    # JSON.parse cannot be interrupted: it finishes, then the pending termination fires
    # (at the next function entry, here the Response constructor). One parse per call: V8
    # checks for termination only at function entries and once a loop spent its interrupt
    # budget, so a loop of nothing but 20 parses ran to its end (measured) and, on a
    # loaded machine, past the 5 s hang grace: the worker was then killed as wedged.
    rt = await make_runtime(workers=1, threads_per_worker=1, default_timeout_ms=50)
    src = (
        "const big = '[' + '1,'.repeat(3e6) + '1]';\n"
        "export default { fetch() { JSON.parse(big); return new Response('done') } }"
    )
    r = await rt.invoke(fn(src, timeout_ms=20000), get())
    assert r.outcome is Outcome.OK and r.body == b"done"  # fine within a generous limit
    # The same function under a tiny limit is terminated, and the isolate stays usable.
    tight = fn(src, name="tight", timeout_ms=20)
    r = await rt.invoke(tight, get())
    assert r.outcome is Outcome.TIMEOUT, r
    assert (await rt.invoke(fn(HELLO), get())).outcome is Outcome.OK


async def test_pending_promise_is_reported_at_once(runtime: Runtime) -> None:
    r = await runtime.invoke(
        fn("export default { fetch() { return new Promise(() => {}) } }"), get()
    )
    assert r.outcome is Outcome.UNSETTLED
    assert r.timings.run_ms < 1000  # reported at once, not after the time limit


async def test_errors_are_distinct_results_with_js_message(runtime: Runtime) -> None:
    thrown = await runtime.invoke(
        fn("export default { fetch() { throw new TypeError('boom') } }"), get()
    )
    assert thrown.outcome is Outcome.JS_ERROR
    assert thrown.error and thrown.error.name == "TypeError" and thrown.error.message == "boom"
    assert "worker.js" in thrown.error.stack or "at " in thrown.error.stack
    rejected = await runtime.invoke(
        fn("export default { async fetch() { throw new Error('nope') } }"), get()
    )
    assert rejected.outcome is Outcome.JS_ERROR and rejected.error.message == "nope"
    wrong = await runtime.invoke(fn("export default { fetch() { return { status: 200 } } }"), get())
    assert (
        wrong.outcome is Outcome.JS_ERROR
        and "did not return a usable Response" in wrong.error.message
    )
    assert "Traceback" not in repr(thrown) + repr(rejected) + repr(wrong)


async def test_deep_recursion_is_a_catchable_range_error(runtime: Runtime) -> None:
    src = (
        "function f(n) { return f(n + 1) + 1 }\n"
        "export default { fetch() { try { f(0) } catch (e) { return new Response(e.name) } } }"
    )
    r = await runtime.invoke(fn(src), get())
    assert r.outcome is Outcome.OK and r.body == b"RangeError"
    uncaught = await runtime.invoke(
        fn("function f() { return f() }\nexport default { fetch() { f() } }"), get()
    )
    assert uncaught.outcome is Outcome.JS_ERROR and uncaught.error.name == "RangeError"


async def test_bad_code_is_rejected_with_line_and_column(runtime: Runtime) -> None:
    cases = {
        "let a = 1;\nlet b = ;": (2, 9),
        "import x from 'y';\nexport default {}": (1, 1),
        "const a = 1;\n  export * as ns from './x';": (2, 3),
        "export default { fetch() {} }\nexport default { fetch() {} }": (2, 1),
    }
    for source, (line, column) in cases.items():
        v = await runtime.validate(source)
        assert not v.ok and v.error is not None, source
        assert (v.error.line, v.error.column) == (line, column), (source, v.error)
        r = await runtime.invoke(fn(source), get())
        assert r.outcome is Outcome.LOAD_ERROR
    assert (await runtime.validate(HELLO)).ok
    assert (
        await runtime.validate(
            "const s = 'export default'; // export default\nexport default { fetch() {} }"
        )
    ).ok


async def test_failed_load_installs_nothing(runtime: Runtime) -> None:
    broken = fn("globalThis.leak = 1; throw new Error('top level')", name="same")
    r = await runtime.invoke(broken, get())
    assert r.outcome is Outcome.LOAD_ERROR and r.error.message == "top level"
    assert runtime.placement(broken.key) == []
    r = await runtime.invoke(
        fn(
            "export default { fetch() { return new Response(String(globalThis.leak)) } }",
            name="same",
        ),
        get(),
    )
    assert r.body == b"undefined"


async def test_tenant_globals_are_isolated(runtime: Runtime) -> None:
    a = fn(
        "globalThis.secret = 'A'; Object.prototype.polluted = 1;"
        " export default { fetch() { return new Response(globalThis.secret) } }",
        tenant="a",
        name="a",
    )
    b = fn(
        "export default { fetch() { return new Response(String(globalThis.secret) + ',' + String(({}).polluted)) } }",
        tenant="b",
        name="b",
    )
    assert (await runtime.invoke(a, get())).body == b"A"
    assert (await runtime.invoke(b, get())).body == b"undefined,undefined"


async def test_tampering_with_the_prelude_breaks_only_that_function(runtime: Runtime) -> None:
    tamper = fn(
        "const R = Response;\n"
        'JSON.stringify = () => \'{"outcome":"ok","status":200}\';\n'
        "JSON.parse = () => ({});\n"
        "Object.defineProperty(Object.prototype, 'encoding', { get() { return 'evil' } });\n"
        "Object.prototype.toJSON = function () { return 'pwned' };\n"
        "Array.prototype[Symbol.iterator] = function* () { yield ['x-evil', '1'] };\n"
        "Promise.prototype.then = function () { return this };\n"
        "globalThis.Response = function () { return { status: 201 } };\n"
        "export default { fetch() { return new R('still fine', { headers: { 'x-a': 'b' } }) } }"
    )
    r = await runtime.invoke(tamper, get())
    assert r.outcome is Outcome.OK and r.status == 200 and r.body == b"still fine"
    assert ("x-evil", "1") not in r.headers
    fake = fn("export default { fetch() { return { status: 200, body: 'forged' } } }")
    assert (await runtime.invoke(fake, get())).outcome is Outcome.JS_ERROR
    overwrite = fn(
        "try { globalThis.__isogate = null } catch (e) {}\n"
        "try { delete globalThis.__isogate } catch (e) {}\n"
        "try { Object.defineProperty(globalThis, '__isogate', { value: 1 }) } catch (e) {}\n"
        "export default { fetch() { return new Response('ok') } }"
    )
    assert (await runtime.invoke(overwrite, get())).outcome is Outcome.OK
    assert (await runtime.invoke(fn(HELLO), get())).outcome is Outcome.OK


async def test_no_python_objects_reachable(runtime: Runtime) -> None:
    probe = fn(
        "export default { fetch() { const names = Object.getOwnPropertyNames(globalThis)"
        ".filter(n => /py|python|__/i.test(n) && n !== '__isogate');"
        " return new Response(names.join(',') + '|' + typeof globalThis.__isogate_input) } }"
    )
    r = await runtime.invoke(probe, get())
    # the host hands nothing to the context but source text: no slot, no Python object
    assert r.outcome is Outcome.OK and r.body == b"|undefined"


async def test_a_tenant_cannot_forge_or_replay_its_next_request(runtime: Runtime) -> None:
    forger = fn(
        "export default { fetch(request) {\n"
        "  globalThis.__isogate_input = 'x'.repeat(32) +"
        " JSON.stringify({method: 'PUT', url: 'http://forged.test/', headers: [], body: null});\n"
        "  return new Response(request.method + ' ' + request.url) } }"
    )
    first = await runtime.invoke(forger, get("http://x.test/1"))
    second = await runtime.invoke(forger, InvokeRequest("POST", "http://x.test/2"))
    assert (first.body, second.body) == (b"GET http://x.test/1", b"POST http://x.test/2")
    # a tenant that freezes its global object still gets each new request, never the
    # last one again (the request travels inside the host's script, not in a global)
    freezer = fn(
        "export default { fetch(request) { Object.freeze(globalThis);"
        " return new Response(request.url) } }"
    )
    assert (await runtime.invoke(freezer, get("http://x.test/4"))).body == b"http://x.test/4"
    again = await runtime.invoke(freezer, get("http://x.test/5"))
    assert again.outcome is Outcome.OK and again.body == b"http://x.test/5"


async def test_characters_beyond_the_bmp_reach_the_handler_intact(runtime: Runtime) -> None:
    echo = fn(
        "export default { fetch(request) { const u = new URL(request.url);"
        " return new Response(u.pathname + ' ' + request.headers.get('x-name')) } }"
    )
    r = await runtime.invoke(
        echo, InvokeRequest("GET", "http://x.test/\U0001f600/\u00e9", (("x-name", "caf\u00e9"),))
    )
    assert r.outcome is Outcome.OK
    # the URL parser percent-encodes the path as UTF-8; the header is a byte string
    assert r.body == "/%F0%9F%98%80/%C3%A9 caf\u00e9".encode()


async def test_intl_works_in_workers(runtime: Runtime) -> None:
    src = "export default { fetch() { return new Response((1234.5).toLocaleString('en-US') + ' ' + new Date(0).toLocaleDateString('en-US', {timeZone: 'UTC'})) } }"
    r = await runtime.invoke(fn(src), get())
    assert r.outcome is Outcome.OK and r.body == b"1,234.5 1/1/1970"


async def test_memory_bomb_kills_only_its_worker(make_runtime) -> None:
    rt = await make_runtime(
        workers=2,
        threads_per_worker=1,
        default_timeout_ms=10000,
        default_cpu_ms=10000,
        heap_limit_mb=32,
    )
    good = fn(HELLO, name="good")
    assert (await rt.invoke(good, get())).outcome is Outcome.OK
    pids = set(rt.worker_pids())
    bomb_task = asyncio.create_task(rt.invoke(fn(BOMB, name="bomb"), get()))
    during = []
    while not bomb_task.done():
        during.append(await rt.invoke(good, get()))
        await asyncio.sleep(0.005)
    bomb = await bomb_task
    assert bomb.outcome is Outcome.CRASHED
    assert during and all(r.outcome is Outcome.OK for r in during)
    # the supervisor restarts the worker (a new process: seconds on a loaded machine)
    await until(lambda: len(rt.worker_pids()) == 2, "the crashed worker is restarted")
    assert set(rt.worker_pids()) != pids
    after = await asyncio.gather(*(rt.invoke(good, get()) for _ in range(10)))
    assert all(r.outcome is Outcome.OK for r in after)
    assert rt.stats().crashes == 1


async def test_repeated_crashes_quarantine_until_redeploy(make_runtime) -> None:
    rt = await make_runtime(
        workers=1,
        threads_per_worker=1,
        heap_limit_mb=16,
        default_timeout_ms=10000,
        default_cpu_ms=10000,
    )
    bomb = fn(BOMB, name="bomber")
    outcomes = []
    for _ in range(3):
        outcomes.append((await rt.invoke(bomb, get())).outcome)
        while not rt.ready:
            await asyncio.sleep(0.01)
    assert outcomes == [Outcome.CRASHED] * 3
    assert (await rt.invoke(bomb, get())).outcome is Outcome.QUARANTINED
    assert (await rt.invoke(fn(HELLO, name="other"), get())).outcome is Outcome.OK
    fixed = fn(HELLO, name="bomber")  # a redeploy is a new version
    rt.unquarantine("bomber")
    assert (await rt.invoke(fixed, get())).outcome is Outcome.OK


async def test_killed_worker_fails_in_flight_and_restarts(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, default_timeout_ms=5000, default_cpu_ms=5000
    )
    slow = fn(
        "export default { fetch() { const t = Date.now(); while (Date.now() - t < 2000) {} return new Response('x') } }"
    )
    task = asyncio.create_task(rt.invoke(slow, get()))
    await until(lambda: rt.stats().executors_busy == 1, "the slow call runs")
    await asyncio.sleep(0.3)  # into its 2 s of JavaScript (a kill before may be retried)
    os.kill(rt.worker_pids()[0], signal.SIGKILL)
    assert (await task).outcome is Outcome.CRASHED
    await until(lambda: rt.ready, "the killed worker is restarted")
    assert (await rt.invoke(fn(HELLO), get())).outcome is Outcome.OK


async def test_validation_survives_the_death_of_its_worker(make_runtime) -> None:
    """A worker killed while a deploy is checked (for another tenant's bomb, say) does
    not touch the check: checks run in check processes of their own, not on workers."""
    rt = await make_runtime(
        workers=2, threads_per_worker=1, default_timeout_ms=5000, default_cpu_ms=5000
    )
    busy = "export default { fetch() { const t = Date.now(); while (Date.now() - t < 1500) {} return new Response('x') } }"
    # both executors busy, so the check waits in worker 0's pipe until the kill
    slow = [asyncio.create_task(rt.invoke(fn(busy, name=f"busy{i}"), get())) for i in range(2)]
    await until(lambda: rt.stats().executors_busy == 2, "both executors busy")
    check = asyncio.create_task(rt.validate(HELLO))
    await asyncio.sleep(0.05)
    os.kill(rt.worker_pids()[0], signal.SIGKILL)
    assert (await check).ok
    outcomes = sorted(r.outcome.value for r in await asyncio.gather(*slow))
    assert "crashed" in outcomes  # the kill really hit a worker that had work


async def test_full_queue_answers_overloaded_at_once(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1, max_queue=1, default_timeout_ms=500)
    busy = asyncio.create_task(rt.invoke(fn(LOOP, name="busy"), get()))
    # wait for states, not times: the busy call on the one executor, then one queued
    await until(lambda: rt.stats().executors_busy == 1, "the busy call runs")
    queued = asyncio.create_task(rt.invoke(fn(HELLO, name="queued"), get()))
    await until(lambda: rt.stats().queue_depth == 1, "the second call is queued")
    rejected = await rt.invoke(fn(HELLO, name="rejected"), get())
    assert rejected.outcome is Outcome.OVERLOADED
    assert (await busy).outcome is Outcome.TIMEOUT
    assert (await queued).outcome is Outcome.OK


async def test_burst_loads_at_most_cap_copies_and_reclaims_extras(make_runtime) -> None:
    rt = await make_runtime(
        workers=2, threads_per_worker=2, max_concurrency_per_function=2, spare_idle_seconds=0.3
    )
    work = fn(
        "export default { fetch() { const t = Date.now(); while (Date.now() - t < 30) {} return new Response('ok') } }"
    )
    results = await asyncio.gather(*(rt.invoke(work, get()) for _ in range(12)))
    assert all(r.outcome is Outcome.OK for r in results)
    assert sum(r.cold for r in results) <= 2
    assert len({r.executor for r in results}) <= 2
    assert 1 <= len(rt.placement(work.key)) <= 2
    for _ in range(100):
        if len(rt.placement(work.key)) == 1:
            break
        await asyncio.sleep(0.05)
    assert len(rt.placement(work.key)) == 1


async def test_single_call_loads_one_copy(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=4, max_concurrency_per_function=3)
    one = fn(HELLO)
    await asyncio.gather(*(rt.invoke(one, get()) for _ in range(1)))
    assert len(rt.placement(one.key)) == 1


async def test_memory_budget_evicts_least_recently_used(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, memory_budget_mb=16, prewarm_isolates=1
    )
    fns = [
        fn(f"export default {{ fetch() {{ return new Response('{i}') }} }}", name=f"lru{i}")
        for i in range(80)
    ]
    for f in fns:
        assert (await rt.invoke(f, get())).outcome is Outcome.OK
    # every warm function is charged at least its context's estimated cost
    assert rt.stats().warm_functions <= 16_000_000 // CONTEXT_COST
    assert rt.placement(fns[-1].key) and not rt.placement(fns[0].key)
    again = await rt.invoke(fns[0], get())  # evicted functions come back cold, correctly
    assert again.outcome is Outcome.OK and again.cold and again.body == b"0"


async def test_body_caps(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, max_request_body=1000, max_response_body=1000
    )
    echo = fn("export default { async fetch(r) { return new Response(await r.text()) } }")
    ok = await rt.invoke(echo, InvokeRequest("POST", "http://x/", body=b"a" * 1000))
    assert ok.outcome is Outcome.OK and ok.body == b"a" * 1000
    big_in = await rt.invoke(echo, InvokeRequest("POST", "http://x/", body=b"a" * 1001))
    assert big_in.outcome is Outcome.TOO_LARGE
    big_out = await rt.invoke(
        fn("export default { fetch() { return new Response('x'.repeat(5000)) } }"), get()
    )
    assert big_out.outcome is Outcome.TOO_LARGE


async def test_request_crosses_as_plain_data(runtime: Runtime) -> None:
    echo = fn(
        "export default { async fetch(r, env, ctx) { ctx.waitUntil(Promise.resolve(1));"
        " const body = new Uint8Array(await r.arrayBuffer());"
        " return Response.json({ method: r.method, url: r.url, h: r.headers.get('x-test'), body: Array.from(body) }) } }"
    )
    body = bytes([0, 1, 127, 128, 255])
    r = await runtime.invoke(echo, InvokeRequest("PUT", "http://x/p?q=1", (("X-Test", "v"),), body))
    assert r.outcome is Outcome.OK
    assert json.loads(r.body) == {
        "method": "PUT",
        "url": "http://x/p?q=1",
        "h": "v",
        "body": list(body),
    }
    binary = fn("export default { fetch() { return new Response(new Uint8Array([0, 200, 255])) } }")
    assert (await runtime.invoke(binary, get())).body == bytes([0, 200, 255])


async def test_console_lines_are_captured(runtime: Runtime) -> None:
    src = "export default { fetch() { console.log('hello', 1); console.error('bad'); return new Response('') } }"
    r = await runtime.invoke(fn(src), get())
    assert any("hello 1" in line for line in r.logs) and any("bad" in line for line in r.logs)
    flood = fn(
        "export default { fetch() { for (let i = 0; i < 5000; i++) console.log('line ' + i); return new Response('') } }"
    )
    r = await runtime.invoke(flood, get())
    assert 1000 <= len(r.logs) <= 1001 and sum(len(x) for x in r.logs) <= 70_000


async def test_stats_snapshot(runtime: Runtime) -> None:
    await runtime.invoke(fn(HELLO), get())
    s = runtime.stats()
    assert s.ready and s.workers == 1 and s.executors == 2 and s.cold_starts >= 1
    assert s.warm_functions >= 1 and s.executors_busy == 0 and s.queue_depth == 0


def _poisoned_home(home) -> None:
    """stpyv8's ICU data under HOME/.local/share/stpyv8: with it there, V8 started by a
    plain ``import STPyV8`` aborts on Intl (DESIGN.md). A non-root import writes it."""
    import shutil

    from isogate.runtime.icu import packaged_data

    data = packaged_data()
    assert data is not None, "the stpyv8 wheel's ICU data is missing"
    icu = home / ".local" / "share" / "stpyv8"
    icu.mkdir(parents=True)
    shutil.copy(data, icu / "icudtl.dat")
    (icu / "stpyv8-version.txt").write_text("13.1.201.22")


INTL = (
    "export default { fetch() { return new Response("
    "new Intl.DateTimeFormat('en-US', {timeZone: 'UTC', dateStyle: 'long'}).format(new Date(0))"
    " + '|' + (1234.5).toLocaleString('de-DE')) } }"
)


async def test_intl_works_despite_icu_data_in_home(tmp_path) -> None:
    # Workers start V8 with the wheel's ICU data themselves (isogate/runtime/icu.py), so
    # the copy that breaks Intl, left in HOME by a non-root import, no longer matters.
    from isogate.config.runtime import RuntimeSettings

    _poisoned_home(tmp_path)
    rt = Runtime(RuntimeSettings(workers=1, threads_per_worker=1), worker_home=str(tmp_path))
    await rt.start()
    try:
        r = await rt.invoke(fn(INTL, name="intl"), get())
    finally:
        await rt.close()
    assert r.outcome is Outcome.OK and r.body == b"January 1, 1970|1.234,5", r


async def test_refuses_to_start_when_intl_would_crash(tmp_path, monkeypatch) -> None:
    # If V8 was started before isogate could choose its ICU data (here a sitecustomize
    # imports STPyV8 with the bad copy in HOME), the start-up self-test refuses to serve.
    import pytest

    from isogate.config.runtime import RuntimeSettings
    from isogate.runtime import RuntimeStartError

    _poisoned_home(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import STPyV8\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    rt = Runtime(RuntimeSettings(workers=1, threads_per_worker=1), worker_home=str(tmp_path))
    with pytest.raises(RuntimeStartError, match="self-test"):
        await rt.start()
    await rt.close()


async def test_queue_wait_is_bounded(make_runtime) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, queue_timeout_ms=100, default_timeout_ms=30_000
    )
    busy = asyncio.create_task(rt.invoke(fn(LOOP, name="busy"), get()))
    await asyncio.sleep(0.05)
    waited = await rt.invoke(fn(HELLO, name="waiting"), get())
    assert waited.outcome is Outcome.OVERLOADED and "in time" in waited.detail
    # its CPU budget (runtime.default_cpu_ms, 1 s) runs out long before its wall time
    # (30 s), however loaded the machine is
    assert (await busy).outcome is Outcome.CPU_LIMIT
    assert rt.stats().queue_depth == 0
    assert (await rt.invoke(fn(HELLO, name="later"), get())).outcome is Outcome.OK


async def test_crash_blames_only_what_ran_alone(make_runtime) -> None:
    # A bomb that crashes the worker while an innocent function runs beside it: both
    # become suspects (no strike); each suspect's next call runs alone on the worker,
    # so the innocent is cleared and only the bomb collects strikes and quarantine.
    rt = await make_runtime(
        workers=1, threads_per_worker=2, heap_limit_mb=16, quarantine_crashes=2,
        default_timeout_ms=10_000, default_cpu_ms=10_000,
    )  # fmt: skip
    # steady runs well past the bomb's crash (~150 ms idle, several times that on a loaded
    # machine), so the crash always finds it running
    steady = fn(
        "export default { fetch() { const t = Date.now(); while (Date.now() - t < 1500) {}"
        " return new Response('steady') } }",
        name="steady",
        tenant="victim",
    )
    bomb = fn(BOMB, name="bomb", tenant="attacker")

    async def ready() -> None:
        while not rt.ready:
            await asyncio.sleep(0.01)

    innocent = asyncio.create_task(rt.invoke(steady, get()))
    await asyncio.sleep(0.1)
    assert (await rt.invoke(bomb, get())).outcome is Outcome.CRASHED
    assert (await innocent).outcome is Outcome.CRASHED  # it died with the worker
    await ready()
    # Both suspects now: the innocent runs alone and is cleared...
    assert (await rt.invoke(steady, get())).body == b"steady"
    # ...the bomb crashes alone (strike 1), then again (strike 2): quarantined.
    assert (await rt.invoke(bomb, get())).outcome is Outcome.CRASHED
    await ready()
    assert (await rt.invoke(bomb, get())).outcome is Outcome.CRASHED
    await ready()
    assert (await rt.invoke(bomb, get())).outcome is Outcome.QUARANTINED
    assert (await rt.invoke(steady, get())).body == b"steady"


async def _wait_ready(rt: Runtime, pids: set[int]) -> None:
    for _ in range(500):
        if rt.ready and set(rt.worker_pids()).isdisjoint(pids):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the runtime did not restart its worker")


async def test_a_runtime_fault_under_load_quarantines_no_healthy_function(make_runtime) -> None:
    # quarantine_crashes=1: under the old rule one strike quarantined a function
    rt = await make_runtime(
        workers=1,
        threads_per_worker=2,
        quarantine_crashes=1,
        default_timeout_ms=5000,
        default_cpu_ms=5000,
    )
    slow = "export default { fetch() { const t = Date.now(); while (Date.now() - t < 400) {} return new Response('slow') } }"
    funcs = [
        fn(slow, name="slow"),
        fn(HELLO, name="a", tenant="t2"),
        fn(HELLO, name="b", tenant="t3"),
    ]
    for f in funcs:
        assert (await rt.invoke(f, get())).outcome is Outcome.OK
    load = [asyncio.create_task(rt.invoke(funcs[i % 3], get())) for i in range(30)]
    await asyncio.sleep(0.1)
    pids = set(rt.worker_pids())
    os.kill(next(iter(pids)), signal.SIGSEGV)  # a native fault of the runtime
    results = await asyncio.gather(*load)
    await _wait_ready(rt, pids)
    crashed = [r for r in results if r.outcome is Outcome.CRASHED]
    assert all(r.outcome in (Outcome.OK, Outcome.CRASHED) for r in results)
    assert len(crashed) <= 2  # at most what was running on the 2 executors
    assert rt.stats().crashes_by_reason["signal"] == 1
    for f in funcs:  # nobody is quarantined for the runtime's fault
        assert (await rt.invoke(f, get())).outcome is Outcome.OK
    assert rt.stats().quarantined == 0


async def test_a_function_at_faults_of_two_workers_is_struck(make_runtime) -> None:
    rt = await make_runtime(
        workers=1,
        threads_per_worker=1,
        quarantine_crashes=1,
        default_timeout_ms=5000,
        default_cpu_ms=5000,
    )
    slow = fn(
        "export default { fetch() { const t = Date.now(); while (Date.now() - t < 3000) {} return new Response('x') } }",
        name="suspect",
    )
    for round_ in range(2):
        task = asyncio.create_task(rt.invoke(slow, get()))
        await asyncio.sleep(0.3)
        pids = set(rt.worker_pids())
        os.kill(next(iter(pids)), signal.SIGSEGV)
        assert (await task).outcome is Outcome.CRASHED
        await _wait_ready(rt, pids)
        quarantined = (await rt.invoke(slow, get())).outcome is Outcome.QUARANTINED
        # once: a bystander; running at a second worker's fault: struck
        assert quarantined is (round_ == 1)


async def test_core_dump_dir_keeps_a_native_crash(make_runtime, tmp_path) -> None:
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"this kernel sends core files elsewhere (core_pattern {pattern!r})")
    cores = tmp_path / "cores"
    rt = await make_runtime(workers=1, threads_per_worker=1, core_dump_dir=str(cores))
    pids = set(rt.worker_pids())
    os.kill(next(iter(pids)), signal.SIGSEGV)
    await _wait_ready(rt, pids)
    assert [p.name for p in cores.iterdir() if p.name.startswith("core")], "no core file"
    assert (await rt.invoke(fn(HELLO), get())).outcome is Outcome.OK


async def test_idle_functions_are_evicted_with_their_tenants_isolate(make_runtime) -> None:
    """After ``idle_evict_seconds`` unused, a function's last copy goes, and its tenant's
    isolate with it; a call that keeps coming keeps its function warm; an evicted
    function comes back cold and correct."""
    rt = await make_runtime(
        workers=1, threads_per_worker=1, prewarm_isolates=0, idle_evict_seconds=0.6
    )
    busy = fn("export default { fetch() { return new Response('busy') } }", name="busy")
    idle = fn(
        "export default { fetch() { return new Response('idle') } }", name="idle", tenant="t2"
    )
    assert (await rt.invoke(busy, get())).body == b"busy"
    assert (await rt.invoke(idle, get())).body == b"idle"
    assert rt.stats().isolates == 2
    for _ in range(60):  # busy is called every 50 ms; idle never again
        assert (await rt.invoke(busy, get())).outcome is Outcome.OK
        if not rt.placement(idle.key) and rt.stats().isolates == 1:
            break
        await asyncio.sleep(0.05)
    assert not rt.placement(idle.key)
    assert rt.stats().isolates == 1  # the other tenant's isolate is gone
    assert rt.placement(busy.key)
    again = await rt.invoke(idle, get())
    assert again.outcome is Outcome.OK and again.cold and again.body == b"idle"
