"""Prototypes that bound what a rewrite could reach, for the call-path targets of issue 19
that isogate misses (docs/benchmarks.md, "Where the time goes"). Each runs the least
that the figure needs, with none of isogate's machinery around it:

- ``scaling``: the ~5 ms CPU-bound function on raw stpyv8, one isolate per thread, one
  thread against two, in one process (as a worker runs its executors). Its ratio is the
  most any executor design gets from a second thread on this machine.
- ``memory``: RSS growth per isolate, with the worker's V8 flags (``bench/isolate_memory.py``),
  for (a) an isolate with an empty context running a plain hello-world function, (b) the
  same with a minimal Request/Response/Headers shim of ~15 lines, as a prelude loaded
  lazily by API area would at best give a hello-world, and (c) isogate's Sandbox with
  the whole prelude.
- ``worker``: the least a runtime worker can do per call over a real pipe: a child
  process that reads a length-prefixed frame, evaluates the start script and the step
  in a warm Sandbox (as the executor does), and writes the step's text back. CPU per
  call of the child, at one call in flight, with 8 pipelined, and with 8 requests per
  frame started in one script (one compile and one step for the eight).

    PYTHONPATH=$PWD python bench/bounds.py [scaling|memory|worker ...]

Each prints JSON on its last line; ``bench/callpath.py`` runs them all.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import isolate_memory  # noqa: E402  (bench/isolate_memory.py: RSS per isolate, by kind)

SCALING = textwrap.dedent(
    """
    import json, sys, threading, time
    from isogate.runtime.worker import _set_flags
    _set_flags(128)
    from isogate.runtime.icu import start_v8
    start_v8()
    import STPyV8

    FN = ("function f(n) { let x = 0; for (let i = 0; i < n; i++)"
          " { x = (x + Math.sqrt(i) * 1.0001) % 1e9 } return x }")
    iters, dur = int(sys.argv[1]), float(sys.argv[2])

    def worker(until, counts, i, ready):
        iso = STPyV8.JSIsolate(True); iso.enter()
        ctx = STPyV8.JSContext(); ctx.enter()
        ctx.eval(FN)
        ctx.eval("f(%d)" % iters)
        ready.wait()
        n = 0
        call = "f(%d)" % iters
        while time.monotonic() < until[0]:
            ctx.eval(call)
            n += 1
        counts[i] = n
        ctx.leave(); del ctx; iso.leave(); del iso

    out = {}
    threading.stack_size(16 << 20)
    for threads in (1, 2, 1, 2):
        counts = [0] * threads
        until = [0.0]
        ready = threading.Barrier(threads + 1)
        ts = [threading.Thread(target=worker, args=(until, counts, i, ready)) for i in range(threads)]
        for t in ts: t.start()
        until[0] = time.monotonic() + dur
        ready.wait()
        for t in ts: t.join()
        out.setdefault(str(threads), []).append(sum(counts) / dur)
    print(json.dumps(out))
    """
)

WORKER = textwrap.dedent(
    """
    import os, struct, sys, threading
    from isogate.runtime.worker import _set_flags
    _set_flags(128)
    from isogate.runtime.icu import start_v8
    start_v8()
    from isogate.runtime.isolate import SEED_LENGTH, STEP_SCRIPT, Sandbox, check_source, host_call
    CODE = ("export default { fetch() { return new Response(JSON.stringify({hello: 'world'}),"
            " {headers: {'content-type': 'application/json'}}) } };")

    def main():
        rfd, wfd = int(sys.argv[1]), int(sys.argv[2])
        sb = Sandbox()
        sb.enter()
        sb.load(check_source(CODE), (), 1 << 20)
        ctx = sb.context
        inbox = os.fdopen(rfd, "rb", buffering=1 << 16)
        os.write(wfd, b"ready")
        n = 0
        while True:
            head = inbox.read(4)
            if len(head) < 4:
                break
            body = inbox.read(struct.unpack("<I", head)[0])
            # the frame carries the request(s) already as the start script's argument
            # (what a worker that skipped every decode would have); several requests in
            # one frame start in one script, and one step answers them all
            calls = []
            for one in body.decode().split("\\0"):
                n += 1
                calls.append(host_call("invoke", str(n), os.urandom(SEED_LENGTH).decode("latin-1") + one))
            ctx.eval(";".join(calls))
            out = ctx.eval(STEP_SCRIPT).encode()
            os.write(wfd, struct.pack("<I", len(out)) + out)
        del ctx
        sb.leave()
        sb.close()

    threading.stack_size(16 << 20)
    threading.Thread(target=main).start()  # the interpreter waits for it at exit
    """
)


def _child(code: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scaling(iters: int, dur: float = 5.0) -> dict:
    """Calls per second of the CPU-bound function on 1 and 2 raw threads (two runs each)."""
    runs = _child(SCALING, str(iters), str(dur))
    one, two = max(runs["1"]), max(runs["2"])
    return {"one": one, "two": two, "ratio": two / one, "runs": runs}


def memory(n: int = 40) -> dict:
    """KiB of RSS per isolate: empty context, minimal shim, isogate's Sandbox (best of 2;
    ``bench/isolate_memory.py`` builds them)."""
    return {
        kind: min(isolate_memory.measure(isolate_memory.HELLO, n, kind) / 1024 for _ in range(2))
        for kind in ("empty", "shim", "sandbox")
    }


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(n: int = 4000) -> dict:
    """The minimal worker's CPU per call (µs) at 1 and at 8 calls in flight, and with 8
    requests per frame started in one script."""
    from isogate.runtime.isolate import wire
    from isogate.runtime.types import InvokeRequest

    headers = (("host", "127.0.0.1:8000"), ("user-agent", "wrk"), ("x-isogate-key-id", "k1"))
    one = wire(InvokeRequest("GET", "http://127.0.0.1:8000/fn/hello", headers, b"")).encode()
    frame = struct.pack("<I", len(one)) + one
    eight = b"\0".join([one] * 8)
    batch = struct.pack("<I", len(eight)) + eight
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(to_r), str(from_w)], env=env, pass_fds=(to_r, from_w)
    )
    os.close(to_r)
    os.close(from_w)
    replies = os.fdopen(from_r, "rb", buffering=1 << 16)
    assert replies.read(5) == b"ready"

    def reply() -> bytes:
        return replies.read(struct.unpack("<I", replies.read(4))[0])

    out: dict[str, float] = {}
    try:
        assert b"world" in (os.write(to_w, frame) and reply())
        for label, depth in (("c1", 1), ("c8", 8), ("c1", 1), ("c8", 8)):
            cpu0, t0 = _cpu_s(proc.pid), time.perf_counter()
            for _ in range(depth):
                os.write(to_w, frame)
            for _ in range(n - depth):
                reply()
                os.write(to_w, frame)
            for _ in range(depth):
                reply()
            us = (_cpu_s(proc.pid) - cpu0) / n * 1e6
            out[label] = min(out.get(label, 1e9), us)
            out[label + "_wall"] = (time.perf_counter() - t0) / n * 1e6
        # 8 requests per frame, started in one script: what delivering every ready call
        # in one eval would reach
        for _ in range(2):
            cpu0 = _cpu_s(proc.pid)
            for _ in range(n // 8):
                os.write(to_w, batch)
                assert reply().count(b"world") == 8
            out["batch8"] = min(
                out.get("batch8", 1e9), (_cpu_s(proc.pid) - cpu0) / (n // 8 * 8) * 1e6
            )
    finally:
        os.close(to_w)
        proc.wait(timeout=30)
    return out


if __name__ == "__main__":
    what = sys.argv[1:] or ["scaling", "memory", "worker"]
    res: dict[str, dict] = {}
    if "scaling" in what:
        iters = int(os.environ.get("BOUNDS_ITERS", "330000"))
        res["scaling"] = scaling(iters)
    if "memory" in what:
        res["memory"] = memory()
    if "worker" in what:
        res["worker"] = worker()
    print(json.dumps(res))
