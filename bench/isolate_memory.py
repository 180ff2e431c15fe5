"""Memory of one isolate holding one loaded function: hello-world, and one that uses
TextDecoder (and so gets the legacy encodings' tables).

Builds N sandboxes (isolate + context + prelude + the function, one request served) in
a fresh process, with the runtime worker's V8 flags, and reports the RSS growth per
sandbox. ``measure(..., kind)`` also builds the bare isolates ``bench/bounds.py`` sets
beside them (an empty context; a minimal Request/Response shim). Run it from two
checkouts to compare (PYTHONPATH picks the one measured)::

    PYTHONPATH=$PWD python bench/isolate_memory.py [N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import gc, json, sys, threading
    from isogate.runtime.worker import _set_flags
    _set_flags(128)  # the worker's V8 flags, before V8 starts
    from isogate.runtime.icu import start_v8
    start_v8()
    import STPyV8
    from isogate.runtime.isolate import Sandbox, check_source
    from isogate.runtime.types import InvokeRequest

    n, source, kind, shim = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    PLAIN = "globalThis.h = { fetch() { return 'hello' } }; h.fetch()"

    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

    out = {}

    def run():
        keep = []
        def one():
            if kind == "sandbox":
                sb = Sandbox()
                sb.enter()
                try:
                    sb.load(check_source(source), (), 1 << 20)
                    sb.invoke(InvokeRequest("GET", "http://x/", (), b""))
                finally:
                    sb.leave()
                keep.append(sb)
                return
            iso = STPyV8.JSIsolate(True); iso.enter()
            ctx = STPyV8.JSContext(); ctx.enter()
            if kind == "empty":
                assert ctx.eval(PLAIN) == "hello"
            else:
                ctx.eval(shim)
                ctx.eval("globalThis.h = { fetch() { return new Response('hello') } }")
                ctx.eval("__call(h, 'http://x/', 'GET').then(t => globalThis.out = t)")
                assert "hello" in ctx.eval("globalThis.out")
            ctx.leave(); iso.leave()
            keep.append((iso, ctx))
        one()  # the first one pays for V8 and the code caches
        gc.collect()
        before = rss()
        for _ in range(n):
            one()
        gc.collect()
        out["per_isolate"] = (rss() - before) / n
        for item in keep:
            if isinstance(item, Sandbox):
                item.close()
        while keep:  # every context before its isolate (DESIGN.md)
            item = keep.pop()
            if isinstance(item, tuple):
                iso, ctx = item
                del item, ctx
                del iso

    threading.stack_size(8 << 20)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(json.dumps(out))
    """
)

#: the least a hello-world needs of the web APIs: what a prelude loaded by API area
#: could at best give it (``shim`` kind)
SHIM = """
class Headers { constructor(h) { this.m = new Map(Object.entries(h || {})) }
  get(k) { return this.m.get(String(k).toLowerCase()) ?? null }
  set(k, v) { this.m.set(String(k).toLowerCase(), String(v)) } }
class Request { constructor(u, i) { this.url = u; this.method = (i && i.method) || 'GET';
  this.headers = new Headers(i && i.headers) } }
class Response { constructor(b, i) { this.body = b == null ? '' : String(b);
  this.status = (i && i.status) || 200; this.headers = new Headers(i && i.headers) }
  text() { return Promise.resolve(this.body) } }
globalThis.__call = async (h, u, m) => {
  const r = await h.fetch(new Request(u, { method: m }), {}, {});
  return JSON.stringify([r.status, [...r.headers.m], await r.text()]) };
"""

HELLO = "export default { fetch() { return new Response('hello') } };"
DECODER = (
    "export default { fetch() { return new Response(new TextDecoder('shift_jis')"
    ".decode(new Uint8Array([0x82, 0xa0]))) } };"
)


def measure(source: str, n: int, kind: str = "sandbox") -> float:
    """Bytes of RSS per isolate over ``n``: ``sandbox`` (isogate's, ``source`` loaded and
    called once), ``empty`` (an empty context running a plain function) or ``shim``
    (an empty context with :data:`SHIM` serving one request)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), source, kind, SHIM],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])["per_isolate"]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for name, src in (("hello-world", HELLO), ("uses TextDecoder", DECODER)):
        runs = [measure(src, n) / 1024 for _ in range(3)]
        print(f"{name:18} RSS per isolate: " + ", ".join(f"{r:.0f} KiB" for r in runs))
