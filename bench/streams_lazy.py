"""What the lazily loaded streams area costs a function that never uses it (issue 20).

Makes N sandboxes (an isolate each, prelude evaluated and warmed up, like a pre-warmed
isolate) in a fresh process and reports the process RSS growth per sandbox and the
time per sandbox; with ``--touch`` every sandbox then reads ``ReadableStream`` (loading
the area), which shows what an eagerly loaded prelude would cost. Compare two
checkouts by running this file with each on PYTHONPATH:

    PYTHONPATH=/path/to/checkout python bench/streams_lazy.py [--touch] [-n 40]

Short and in-process; the figures in docs/benchmarks.md were taken on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--touch", action="store_true", help="load the streams area in each")
    args = ap.parse_args()
    from isogate.runtime.isolate import Sandbox

    first = Sandbox()  # V8 and ICU start-up outside the measurement
    gc.collect()
    before = rss_kib()
    boxes = []
    times = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        box = Sandbox()
        if args.touch:
            box.enter()
            try:
                box.eval_str("typeof ReadableStream + typeof CompressionStream")
            finally:
                box.leave()
        times.append(time.perf_counter() - t0)
        boxes.append(box)
    after = rss_kib()
    times.sort()
    print(
        json.dumps(
            {
                "n": args.n,
                "touch": args.touch,
                "rss_kib_per_sandbox": round((after - before) / args.n, 1),
                "ms_per_sandbox_p50": round(times[len(times) // 2] * 1000, 2),
                "ms_per_sandbox_min": round(times[0] * 1000, 2),
            }
        )
    )
    for box in boxes:
        box.close()
    first.close()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown (V8's exit-time order is not ours to test)


if __name__ == "__main__":
    main()
