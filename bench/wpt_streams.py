"""Run web-platform-tests ``.any.js`` files inside a function on isogate and on workerd.

The WPT files are read from a local checkout of web-platform-tests/wpt (never
committed here), e.g. a sparse checkout of ``streams/``, ``encoding/streams/``,
``compression/`` and ``resources/``::

    git clone --depth 1 --filter=blob:none --sparse https://github.com/web-platform-tests/wpt
    (cd wpt && git sparse-checkout set streams encoding/streams compression)
    PYTHONPATH=. .venv/bin/python bench/wpt_streams.py --wpt wpt [FILES...]

Each test file (with its ``// META: script=`` helpers) is wrapped with
``bench/wpt/harness.js`` (a small testharness stand-in) into one module Worker whose
fetch handler runs every subtest in order (2 s each) and answers the results as JSON.
The same Worker runs on isogate's runtime and on workerd (npm ``workerd``; see
tests/conformance/harness.py). Prints per-file counts and every subtest workerd passes
and isogate does not.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from isogate.config.runtime import RuntimeSettings  # noqa: E402
from isogate.runtime import FunctionRef, InvokeRequest, Runtime  # noqa: E402
from tests.conformance.corpus import Worker  # noqa: E402
from tests.conformance.harness import Workerd, workerd_binary  # noqa: E402

HARNESS = (REPO / "bench" / "wpt" / "harness.js").read_text()
RUNNER = "\nexport default { async fetch() { return Response.json(await __runWpt()); } };\n"


def build(wpt: Path, rel: str) -> str:
    path = wpt / rel
    text = path.read_text()
    parts = [HARNESS]
    for m in re.finditer(r"^// META: script=(\S+)", text, re.M):
        src = m.group(1)
        base = wpt if src.startswith("/") else path.parent
        parts.append((base / src.lstrip("/")).read_text())
    parts.append(text)
    parts.append(RUNNER)
    return "\n;\n".join(parts)


async def run_isogate(sources: dict[str, str]) -> dict[str, list]:
    rt = Runtime(
        RuntimeSettings(workers=1, threads_per_worker=1, max_timeout_ms=300_000, max_cpu_ms=30_000)
    )
    await rt.start()
    out: dict[str, list] = {}
    try:
        for i, (name, src) in enumerate(sources.items()):
            ref = FunctionRef(
                name=f"wpt{i}",
                version=1,
                tenant="wpt",
                sha256=hashlib.sha256(src.encode()).hexdigest(),
                source=src,
                timeout_ms=300_000,
                cpu_ms=30_000,
            )
            r = await rt.invoke(ref, InvokeRequest("GET", "http://wpt.test/"))
            try:
                out[name] = json.loads(r.body)
            except ValueError:
                out[name] = [["(whole file)", "ERROR", f"{r.outcome} {r.error} {r.detail}"]]
    finally:
        await rt.close()
    return out


def run_workerd(sources: dict[str, str], folder: Path) -> dict[str, list]:
    binary = workerd_binary()
    if binary is None:
        raise SystemExit("workerd is not installed (npm ci)")
    workers = []
    for i, (_name, src) in enumerate(sources.items()):
        file = f"wpt{i}.js"
        (folder / file).write_text(src)
        workers.append(Worker(f"wpt{i}", file, (), root=str(folder)))
    server = Workerd(workers, binary)
    server.start()
    out: dict[str, list] = {}
    try:
        with httpx.Client(timeout=600, trust_env=False) as c:
            for w, name in zip(workers, sources, strict=True):
                r = c.get(f"http://127.0.0.1:{server.ports[w.name]}/")
                try:
                    out[name] = r.json()
                except ValueError:
                    out[name] = [["(whole file)", "ERROR", f"{r.status_code} {r.text[:200]}"]]
    finally:
        server.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wpt", type=Path, required=True, help="local web-platform-tests checkout")
    ap.add_argument("--json", type=Path, help="write the raw results here")
    ap.add_argument("files", nargs="*", help="paths inside the checkout (default: all .any.js)")
    args = ap.parse_args()
    files = args.files or sorted(
        str(p.relative_to(args.wpt))
        for area in ("streams", "encoding/streams", "compression")
        for p in (args.wpt / area).rglob("*.any.js")
    )
    sources = {f: build(args.wpt, f) for f in files}
    iso = asyncio.run(run_isogate(sources))
    with tempfile.TemporaryDirectory() as tmp:
        wd = run_workerd(sources, Path(tmp))
    if args.json:
        args.json.write_text(json.dumps({"isogate": iso, "workerd": wd}, indent=1))
    total = [0, 0, 0]
    for f in files:
        w = {n: s for n, s, _ in wd[f]}
        i = {n: (s, m) for n, s, m in iso[f]}
        wp = sum(s == "PASS" for s in w.values())
        ip = sum(s == "PASS" for s, _ in i.values())
        total[0] += len(w)
        total[1] += wp
        total[2] += ip
        print(f"{f}: {len(w)} subtests, workerd {wp} pass, isogate {ip} pass")
        for n, s in w.items():
            if s == "PASS" and i.get(n, ("MISSING", ""))[0] != "PASS":
                print(f"   workerd-only: {n!r}: {i.get(n, ('MISSING', ''))}")
    print(f"total: {total[0]} subtests, workerd {total[1]} pass, isogate {total[2]} pass")


if __name__ == "__main__":
    main()
