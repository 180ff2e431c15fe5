"""Escape attempts from tenant JavaScript against the real runtime (issue 6, "Sandbox").

Every payload in escapes.py runs in real worker processes; each must end in its
expected outcome, carry nothing of Python, and leave the runtime as it was: a
canary of another tenant still answers exactly as before (its globals and
prototypes clean) on every executor, and no worker that did not run the payload
was restarted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import FunctionRef, InvokeResult, Outcome, Runtime

from .conftest import fn, get, until
from .escapes import CANARY, CASES, HEAP_CASES, Case, handler

pytestmark = pytest.mark.asyncio(loop_scope="module")

SETTINGS = {
    "workers": 2,
    "threads_per_worker": 1,
    "prewarm_isolates": 1,
    "heap_limit_mb": 32,
    "default_timeout_ms": 400,
    "max_response_body": 100_000,
    "max_worker_rss_mb": 1024,
}
PYTHON_TRACES = re.compile(
    rb"Traceback|STPyV8|JSObject|HostError|object at 0x|<class |File \"|\.py\b|PyObject",
    re.IGNORECASE,
)


class Harness:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.canary = fn(CANARY, name="canary", tenant="canary")
        self.expected: bytes = b""

    def pids(self) -> dict[int, int]:
        return {w.slot: w.proc.pid for w in self.rt._workers if w.alive and w.proc}

    async def wait_ready(self) -> None:
        await until(
            lambda: len(self.pids()) == self.rt.settings.workers and self.rt.ready,
            "the runtime recovers its workers",
        )

    async def check_canary(self) -> None:
        """The canary answers identically on every executor (fresh and warm isolates)."""
        fresh = FunctionRef(**{**_ref_fields(self.canary), "version": self.canary.version + 10**6})
        for ref in (self.canary, fresh):
            # Spill-over goes only onto pre-warmed isolates: let every executor refill.
            await self.rt.wait_prewarmed()
            n = len(self.rt._executors())
            results = await asyncio.gather(
                *(self.rt.invoke(ref, get("http://canary.test/c")) for _ in range(n))
            )
            assert {r.executor for r in results} == {ex.name for ex in self.rt._executors()}
            for r in results:
                assert r.outcome is Outcome.OK, r
                assert r.status == 200 and ("x-canary", "1") in r.headers
                assert r.body == self.expected, (r.body, self.expected)


def _ref_fields(ref: FunctionRef) -> dict[str, object]:
    return {f.name: getattr(ref, f.name) for f in dataclasses.fields(ref) if f.init}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness() -> AsyncIterator[Harness]:
    rt = Runtime(RuntimeSettings(**SETTINGS))
    await rt.start()
    h = Harness(rt)
    first = await rt.invoke(h.canary, get("http://canary.test/c"))
    assert first.outcome is Outcome.OK, first
    h.expected = first.body
    assert b"undefined\nundefined\nundefined\nundefined\n1,234.5" in h.expected
    try:
        yield h
    finally:
        await rt.close()


def assert_no_python(r: InvokeResult) -> None:
    text = b"\n".join(
        [
            r.body,
            r.detail.encode(),
            *(line.encode() for line in r.logs),
            *(f"{k}: {v}".encode() for k, v in r.headers),
        ]
    )
    if r.error is not None:
        text += f"{r.error.name}\n{r.error.message}\n{r.error.stack}".encode()
    assert not PYTHON_TRACES.search(text), text[:2000]
    assert r.error is None or (
        len(r.error.name) <= 200 and len(r.error.message) <= 4096 and len(r.error.stack) <= 16384
    )


def check_expectation(case: Case, r: InvokeResult) -> None:
    allowed = case.outcome if isinstance(case.outcome, tuple) else (case.outcome,)
    assert r.outcome in allowed, (case.id, r.outcome, r.error, r.body[:300], r.detail)
    if r.outcome is Outcome.OK and case.body is not None:
        if isinstance(case.body, re.Pattern):
            assert case.body.search(r.body), (case.id, r.body[:300])
        else:
            assert r.body == case.body, (case.id, r.body[:300])
    if r.outcome is Outcome.JS_ERROR and case.error is not None:
        assert r.error is not None and r.error.name == case.error, (case.id, r.error)
    assert_no_python(r)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_escape_is_contained(harness: Harness, case: Case) -> None:
    await harness.wait_ready()
    before = harness.pids()
    ref = fn(case.source, name=case.id, tenant=f"evil-{case.id}", timeout_ms=case.timeout_ms)
    results = []
    for i in range(case.invocations):
        query = "?s" if i % 2 else ""
        results.append(await harness.rt.invoke(ref, get(f"http://evil.test/{i}{query}")))
    check_expectation(case, results[-1])
    for r in results:
        assert_no_python(r)
    if case.outcome is Outcome.CRASHED or Outcome.CRASHED in (
        case.outcome if isinstance(case.outcome, tuple) else ()
    ):
        await harness.wait_ready()
        crashed = {
            int(r.executor[1:].split(".")[0]) for r in results if r.outcome is Outcome.CRASHED
        }
        after = harness.pids()
        assert {s: p for s, p in after.items() if s not in crashed} == {
            s: p for s, p in before.items() if s not in crashed
        }
    else:
        assert harness.pids() == before, "a worker was restarted"
    await harness.check_canary()


async def test_heap_exhaustion_crashes_only_its_own_worker() -> None:
    """All memory bombs at once, one worker each; a bystander worker is untouched."""
    n = len(HEAP_CASES)
    settings = RuntimeSettings(
        workers=n + 1,
        threads_per_worker=1,
        prewarm_isolates=1,
        heap_limit_mb=16,
        default_timeout_ms=20000,
        default_cpu_ms=20000,
        max_timeout_ms=20000,
        max_worker_rss_mb=768,
        max_concurrency_per_function=n + 1,
    )
    rt = Runtime(settings)
    await rt.start()
    try:
        await _heap_bombs(rt, n)
    finally:
        await rt.close()


async def _heap_bombs(rt: Runtime, n: int) -> None:
    h = Harness(rt)
    first = await rt.invoke(h.canary, get("http://canary.test/c"))
    h.expected = first.body
    before = h.pids()
    refs = [fn(c.source, name=c.id, tenant=f"evil-{c.id}") for c in HEAP_CASES]
    results = await asyncio.gather(*(rt.invoke(ref, get()) for ref in refs))
    for case, r in zip(HEAP_CASES, results, strict=True):
        check_expectation(case, r)
    used = {int(r.executor[1:].split(".")[0]) for r in results}
    assert len(used) == n  # one worker each: the bystander ran none of them
    await h.wait_ready()
    after = h.pids()
    bystanders = set(before) - used
    assert bystanders and all(after[s] == before[s] for s in bystanders)
    assert all(after[s] != before[s] for s in used)
    assert rt.stats().crashes == n
    await h.check_canary()


async def test_tenants_never_share_state_over_many_invocations(harness: Harness) -> None:
    """Two tenants interleaved: globals, prototypes, Symbol registry, Intl never cross."""
    await harness.wait_ready()
    before = harness.pids()
    a = fn(
        "let n = 0;\n"
        + handler(
            "n++; globalThis.secret = 'A' + n; Object.prototype.polluted = n; Array.prototype.polluted = n;"
            " globalThis[Symbol.for('isogate.shared')] = 'A';"
            " Object.defineProperty(Intl.NumberFormat.prototype, 'format', { get() { return () => 'evil' } });"
            " Date.prototype.toLocaleString = () => 'evil';"
            " return new Response(String(n));"
        ),
        name="tenant-a",
        tenant="a",
    )
    b = fn(
        handler(
            "return new Response([typeof globalThis.secret, typeof ({}).polluted, typeof [].polluted,"
            " String(globalThis[Symbol.for('isogate.shared')]), new Intl.NumberFormat('en-US').format(1.5),"
            " new Date(0).toLocaleString('en-US', { timeZone: 'UTC' })].join(','));"
        ),
        name="tenant-b",
        tenant="b",
    )
    same_tenant_other_fn = fn(
        handler("return new Response(typeof ({}).polluted + ',' + typeof globalThis.secret);"),
        name="a-other",
        tenant="a",
    )
    calls = [harness.rt.invoke(a if i % 2 == 0 else b, get()) for i in range(40)]
    results = await asyncio.gather(*calls)
    for i, r in enumerate(results):
        assert r.outcome is Outcome.OK, r
        if i % 2:
            assert r.body == b"undefined,undefined,undefined,undefined,1.5,1/1/1970, 12:00:00 AM"
    other = await harness.rt.invoke(same_tenant_other_fn, get())
    assert other.body == b"undefined,undefined"
    assert harness.pids() == before
    await harness.check_canary()
