"""Memory of one isolate holding one loaded function: hello-world, and one that uses
TextDecoder (and so gets the legacy encodings' tables).

Builds N sandboxes (isolate + context + prelude + the function, one request served) in
a fresh process and reports the RSS growth per sandbox. Run it from two checkouts to
compare (PYTHONPATH picks the one measured)::

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
    from isogate.runtime.isolate import Sandbox, check_source
    from isogate.runtime.types import InvokeRequest

    n, source = int(sys.argv[1]), sys.argv[2]

    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

    out = {}

    def run():
        keep = []
        def one():
            sb = Sandbox()
            sb.enter()
            try:
                sb.load(check_source(source), (), 1 << 20)
                sb.invoke(InvokeRequest("GET", "http://x/", (), b""))
            finally:
                sb.leave()
            keep.append(sb)
        one()  # first one pays for V8 and the code caches
        gc.collect()
        before = rss()
        for _ in range(n):
            one()
        gc.collect()
        out["per_isolate"] = (rss() - before) / n
        for sb in keep:
            sb.close()

    threading.stack_size(8 << 20)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(json.dumps(out))
    """
)

HELLO = "export default { fetch() { return new Response('hello') } };"
DECODER = (
    "export default { fetch() { return new Response(new TextDecoder('shift_jis')"
    ".decode(new Uint8Array([0x82, 0xa0]))) } };"
)


def measure(source: str, n: int) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), source], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])["per_isolate"]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for name, src in (("hello-world", HELLO), ("uses TextDecoder", DECODER)):
        runs = [measure(src, n) / 1024 for _ in range(3)]
        print(f"{name:18} RSS per isolate: " + ", ".join(f"{r:.0f} KiB" for r in runs))
