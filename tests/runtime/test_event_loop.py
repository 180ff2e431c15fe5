"""The runtime's event loop (issue 18): invocations that wait hold no executor, timers,
fetch under the egress policy, CPU time apart from wall time, ctx.waitUntil.

Real worker processes; upstreams on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import logging
import select
import socket
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from isogate.config.egress import EgressSettings
from isogate.runtime.types import Outcome
from tests.runtime.conftest import fn, get, until

LOOPBACK = EgressSettings(allow=["127.0.0.1"])


class _Upstream(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append((self.command, self.path, body))
        out = json.dumps({"method": self.command, "path": self.path, "body": body.decode()})
        data = out.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    seen: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (_Upstream,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


TIMER = "export default { async fetch() { await scheduler.wait(200); return new Response('ok') } }"


async def test_a_thousand_waiting_calls_share_two_executors(make_runtime) -> None:
    # 1,000 calls awaiting a 200 ms timer on the default two executors: run one at a
    # time they would need 200 s; the queue gives up after 5 s (queue_timeout_ms), so
    # every call answering OK means they waited side by side.
    rt = await make_runtime(workers=1, threads_per_worker=2)
    f = fn(TIMER, name="waits")
    results = await asyncio.gather(*(rt.invoke(f, get()) for _ in range(1000)))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert {r.body for r in results} == {b"ok"}
    # every place was given back exactly once (a waiting call frees its CPU place at its
    # "wait" frame, not again at its answer)
    assert rt.stats().waiting == 0
    assert [(ex.inflight, ex.waiting) for ex in rt._executors()] == [(0, 0), (0, 0)]


async def test_timers_order_and_clear(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    src = """export default { async fetch() {
      const log = [];
      setTimeout(() => log.push('t20'), 20);
      const gone = setTimeout(() => log.push('cleared'), 5);
      clearTimeout(gone);
      setTimeout(() => log.push('t0'), 0);
      queueMicrotask(() => log.push('micro'));
      let n = 0;
      const i = setInterval(() => { if (++n === 3) clearInterval(i); log.push('i' + n); }, 1);
      await new Promise(r => setTimeout(r, 60));
      return Response.json(log);
    } }"""
    r = await rt.invoke(fn(src), get())
    assert r.outcome is Outcome.OK, r
    log = json.loads(r.body)
    assert log[0] == "micro" and log.index("t0") < log.index("t20")
    assert [x for x in log if x.startswith("i")] == ["i1", "i2", "i3"]
    assert "cleared" not in log


async def test_a_promise_nothing_can_settle_is_answered_at_once(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    r = await rt.invoke(fn("export default { fetch() { return new Promise(() => {}) } }"), get())
    assert r.outcome is Outcome.UNSETTLED
    assert r.error is not None and "never generate a response" in r.error.message


async def test_cpu_time_is_not_wall_time(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    sleeper = fn(
        "export default { async fetch() { await scheduler.wait(1500); return new Response('slept') } }",
        timeout_ms=5000,
        cpu_ms=50,
    )
    r = await rt.invoke(sleeper, get())
    assert (r.outcome, r.body) == (Outcome.OK, b"slept")
    spinner = fn("export default { fetch() { while (true) {} } }", timeout_ms=10_000, cpu_ms=100)
    r = await rt.invoke(spinner, get())
    assert r.outcome is Outcome.CPU_LIMIT and "CPU time limit of 100 ms" in r.detail
    waiter = fn(TIMER, name="wall", timeout_ms=100, cpu_ms=100)
    assert (await rt.invoke(waiter, get())).outcome is Outcome.TIMEOUT


async def test_stopping_one_invocation_spares_the_others_in_its_isolate(make_runtime) -> None:
    # one function, one context: a call that spins after its timer is stopped while the
    # calls awaiting timers in the same isolate go on and answer
    rt = await make_runtime(workers=1, threads_per_worker=1)
    src = """export default { async fetch(req) {
      const spin = new URL(req.url).searchParams.has('spin');
      await scheduler.wait(spin ? 50 : 300);
      if (spin) while (true) {}
      return new Response('fine');
    } }"""
    f = fn(src, cpu_ms=200, timeout_ms=5000)
    calm = [rt.invoke(f, get(f"http://x/{i}")) for i in range(20)]
    bad = rt.invoke(f, get("http://x/?spin"))
    results = await asyncio.gather(bad, *calm)
    assert results[0].outcome is Outcome.CPU_LIMIT
    assert [(r.outcome, r.body) for r in results[1:]] == [(Outcome.OK, b"fine")] * 20


async def test_fetch_from_a_function(make_runtime, upstream) -> None:
    base, seen = upstream
    rt = await make_runtime(workers=1, threads_per_worker=1, egress=LOOPBACK)
    src = f"""export default {{ async fetch(req) {{
      const [a, b] = await Promise.all([
        fetch('{base}/one').then(r => r.json()),
        fetch(new Request('{base}/two', {{ method: 'POST', body: new URLSearchParams({{x: '1'}}) }}))
          .then(async r => [r.status, r.headers.get('content-type'), await r.text()]),
      ]);
      return Response.json({{ a, b }});
    }} }}"""
    r = await rt.invoke(fn(src), get())
    assert r.outcome is Outcome.OK, r
    out = json.loads(r.body)
    assert out["a"]["path"] == "/one"
    assert out["b"][0:2] == [200, "application/json"]
    assert json.loads(out["b"][2])["body"] == "x=1"
    assert ("POST", "/two", b"x=1") in seen
    # the worker reports egress counts twice a second: wait for the report, not a time
    await until(lambda: rt.stats().egress.get(("t1", "allowed"), 0) >= 2, "egress reported")
    assert rt.stats().egress.get(("t1", "allowed")) == 2


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "0.0.0.0", "[::1]"])
async def test_loopback_is_refused_by_default(make_runtime, host: str) -> None:
    # refused by the policy before any connection is made
    rt = await make_runtime(workers=1, threads_per_worker=1, egress=EgressSettings())
    src = f"""export default {{ async fetch() {{
      try {{ await fetch('http://{host}:9/'); return new Response('reached'); }}
      catch (e) {{ return new Response(e.name + ': ' + e.message); }}
    }} }}"""
    r = await rt.invoke(fn(src), get())
    text = r.body.decode()
    assert text.startswith("TypeError: ") and "refused by egress policy" in text, text
    assert "Traceback" not in text and "python" not in text.lower()


async def test_subrequests_are_limited(make_runtime, upstream) -> None:
    base, _ = upstream
    egress = EgressSettings(allow=["127.0.0.1"], max_subrequests=3)
    rt = await make_runtime(workers=1, threads_per_worker=1, egress=egress)
    src = f"""export default {{ async fetch() {{
      const out = [];
      for (let i = 0; i < 4; i++) {{
        try {{ out.push((await fetch('{base}/n' + i)).status); }}
        catch (e) {{ out.push(e.message); }}
      }}
      return Response.json(out);
    }} }}"""
    r = await rt.invoke(fn(src), get())
    assert r.outcome is Outcome.OK, r
    assert json.loads(r.body) == [200, 200, 200, "Too many subrequests (limit 3)."]


async def test_wait_until_runs_after_the_response(make_runtime, upstream) -> None:
    base, seen = upstream
    rt = await make_runtime(workers=1, threads_per_worker=1, egress=LOOPBACK)
    src = f"""export default {{ async fetch(req, env, ctx) {{
      ctx.waitUntil(scheduler.wait(300).then(() => fetch('{base}/after', {{ method: 'POST', body: 'done' }})));
      return new Response('first');
    }} }}"""
    r = await rt.invoke(fn(src), get())
    assert (r.outcome, r.body) == (Outcome.OK, b"first")
    assert not any(path == "/after" for _, path, _ in seen)  # not yet: it waits 300 ms
    for _ in range(100):
        if any(path == "/after" for _, path, _ in seen):
            break
        await asyncio.sleep(0.05)
    assert ("POST", "/after", b"done") in seen


async def test_fetch_abort_rejects_with_abort_error(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1, egress=LOOPBACK)
    src = """export default { async fetch() {
      const c = new AbortController();
      c.abort();
      try { await fetch('http://127.0.0.1:9/', { signal: c.signal }); }
      catch (e) { return new Response(e.name); }
    } }"""
    assert (await rt.invoke(fn(src), get())).body == b"AbortError"


async def test_wait_until_errors_are_logged_with_the_invocation_id(
    make_runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    src = """export default { async fetch(req, env, ctx) {
      ctx.waitUntil(scheduler.wait(50).then(() => { throw new Error('late boom') }));
      return new Response('first');
    } }"""
    caplog.set_level(logging.INFO, logger="isogate.runtime")
    r = await rt.invoke(fn(src), get(invocation_id="inv_0123456789abcdef01234567"))
    assert (r.outcome, r.body) == (Outcome.OK, b"first")
    for _ in range(100):  # the error comes in an "after" frame, once the timer fired
        if any("late boom" in rec.getMessage() for rec in caplog.records):
            break
        await asyncio.sleep(0.05)
    (line,) = [rec.getMessage() for rec in caplog.records if "late boom" in rec.getMessage()]
    # named by the id the gateway gave the caller, not the supervisor's call number
    assert line.startswith("invocation inv_0123456789abcdef01234567 (after its response)")


LONG_TIMER = """export default { async fetch(req) {
  await scheduler.wait(60000);
  return new Response('late');
} }"""


async def _until(predicate, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_a_caller_leaving_a_waiting_call_ends_it_in_the_executor(make_runtime) -> None:
    # One waiting place for the tenant: while the abandoned call holds it, the tenant
    # is refused; the Cancel sent when its caller leaves ends the call in the executor
    # (its 60 s timer dropped), whose answer frees the place long before the timer.
    rt = await make_runtime(
        workers=1, threads_per_worker=1, max_waiting_per_tenant=1, max_timeout_ms=120_000
    )
    # its wall limit (120 s) is far past how long the test waits: only a Cancel ends it
    f = fn(LONG_TIMER, name="sleeps", timeout_ms=120_000)
    task = asyncio.create_task(rt.invoke(f, get()))
    await _until(lambda: rt.stats().waiting == 1, "the call waits")
    busy = await rt.invoke(fn(TIMER, name="quick"), get())
    assert busy.outcome is Outcome.BUSY  # the tenant's one waiting place is taken
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _until(lambda: rt.stats().waiting == 0, "the executor ends the waiting call")
    assert [(ex.inflight, ex.waiting) for ex in rt._executors()] == [(0, 0)]
    assert not any(w.calls for w in rt._workers)  # answered: nothing left in flight
    r = await rt.invoke(fn(TIMER, name="quick"), get())
    assert (r.outcome, r.body) == (Outcome.OK, b"ok")
    assert rt.stats().abandoned_running == 1


class _Stalling(http.server.BaseHTTPRequestHandler):
    """Accepts a request and never answers; notes when the client hangs up."""

    seen: ClassVar[list[str]] = []
    hung_up: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        sock = self.connection
        for _ in range(600):  # 30 s at most
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                with contextlib.suppress(OSError):
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        type(self).hung_up.set()
                        return

    def log_message(self, *args: object) -> None:
        pass


async def test_a_caller_leaving_a_call_awaiting_fetch_cancels_the_fetch(make_runtime) -> None:
    handler = type("H", (_Stalling,), {"seen": [], "hung_up": threading.Event()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        rt = await make_runtime(
            workers=1, threads_per_worker=1, egress=LOOPBACK, max_timeout_ms=120_000
        )
        src = f"""export default {{ async fetch() {{
          const r = await fetch('{base}/slow');
          return new Response('got ' + r.status);
        }} }}"""
        task = asyncio.create_task(rt.invoke(fn(src, timeout_ms=120_000), get()))
        await _until(lambda: handler.seen == ["/slow"] and rt.stats().waiting == 1, "fetching")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # ended in the executor while the upstream still holds the request: the fetch
        # is cancelled (its connection closed), the waiting place freed
        await _until(lambda: rt.stats().waiting == 0, "the executor ends the fetching call")
        await _until(handler.hung_up.is_set, "the upstream connection is closed")
        assert not any(w.calls for w in rt._workers)
    finally:
        server.shutdown()
        server.server_close()
