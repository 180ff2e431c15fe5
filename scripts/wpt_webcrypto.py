#!/usr/bin/env python3
"""Measure crypto.subtle against the web-platform-tests on isogate and on workerd.

Runs WPT ``WebCryptoAPI/**/*.any.js`` files (with the scripts their ``// META: script=``
lines name) inside a function, on workerd (from npm, as tests/conformance starts it)
and on isogate's runtime, and counts subtests passed on each::

    PYTHONPATH=. .venv/bin/python scripts/wpt_webcrypto.py --wpt /path/to/wpt [PATTERN ...]

``--wpt`` is a checkout of https://github.com/web-platform-tests/wpt (only
``WebCryptoAPI/`` is read). Without it the script makes a sparse, shallow clone into a
temporary directory (network needed); WPT files are never written into this repository.
PATTERNs (globs relative to ``WebCryptoAPI/``) select files; the default is every
``*.any.js`` there except idlharness (which needs WebIDL parsing of the spec).

The harness inside the function (``wpt_harness.js``) is this script's own small
implementation of the testharness.js API the WebCryptoAPI tests use (``test``, ``promise_test``,
``async_test``, ``setup``/``done``, the ``assert_*`` and ``promise_rejects_*`` family):
the same one on both runtimes, so the counts compare. A file that fails to load counts
its subtests as zero on that runtime and reports the load error.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HARNESS = (Path(__file__).with_name("wpt_harness.js")).read_text(encoding="utf-8")


def wrap(bundle: str) -> str:
    """A service-worker-syntax Worker (a classic script: WPT files are sloppy-mode code)
    running ``bundle`` (META scripts + test file) inside its handler."""
    return (
        "addEventListener('fetch', (event) => event.respondWith((async () => {\n"
        + HARNESS
        + "\nlet __loadError = null;\ntry { (function () {\n"
        + bundle
        + "\n}).call(globalThis); } catch (e) { __loadError = String(e && e.stack || e); }\n"
        + "if (!__explicitDone) __pump();\n"
        + "await Promise.race([__finished, new Promise((r) => setTimeout(r, 120000))]);\n"
        + "return new Response(JSON.stringify({results: __results, loadError: __loadError}));\n"
        + "})()));\n"
    )


def bundle_for(wpt: Path, test: Path) -> str:
    """The test file preceded by the scripts its META lines name."""
    text = test.read_text(encoding="utf-8")
    parts = []
    for m in re.finditer(r"^//\s*META:\s*script=(\S+)", text, re.M):
        ref = m.group(1)
        path = (wpt / ref.lstrip("/")) if ref.startswith("/") else (test.parent / ref)
        if ref.startswith(("/common/", "/resources/")) and not path.exists():
            continue  # WPT-wide helpers: wpt_harness.js stands in (subsetTest)
        parts.append(path.read_text(encoding="utf-8"))
    parts.append(text)
    return "\n;\n".join(parts)


def clone_wpt(into: Path) -> Path:
    url = "https://github.com/web-platform-tests/wpt"
    subprocess.run(
        ["git", "clone", "--depth=1", "--filter=blob:none", "--sparse", url, str(into)],
        check=True,
    )
    subprocess.run(["git", "-C", str(into), "sparse-checkout", "set", "WebCryptoAPI"], check=True)
    return into


def select(wpt: Path, patterns: list[str]) -> list[Path]:
    base = wpt / "WebCryptoAPI"
    files = sorted(p for p in base.rglob("*.any.js") if "idlharness" not in p.name)
    if patterns:
        files = [
            p for p in files if any(fnmatch.fnmatch(str(p.relative_to(base)), g) for g in patterns)
        ]
    return files


def run_workerd(sources: dict[str, str]) -> dict[str, dict]:
    import httpx

    from tests.conformance.corpus import Case, Worker
    from tests.conformance.harness import Workerd, workerd_binary

    binary = workerd_binary()
    if binary is None:
        raise SystemExit("workerd is not installed (npm ci)")
    tmp = Path(tempfile.mkdtemp(prefix="wpt-workerd-"))
    workers = []
    for i, src in enumerate(sources.values()):
        (tmp / f"w{i}.js").write_text(src, encoding="utf-8")
        workers.append(
            Worker(f"w{i}", f"w{i}.js", (Case("root"),), syntax="service-worker", root=str(tmp))
        )
    server = Workerd(workers, binary)
    server.start()
    out = {}
    try:
        with httpx.Client(timeout=600, trust_env=False) as c:
            for w, name in zip(workers, sources, strict=True):
                r = c.get(f"http://127.0.0.1:{server.ports[w.name]}/")
                out[name] = _parse(r.status_code, r.content)
    finally:
        server.stop()
    return out


async def run_isogate(sources: dict[str, str]) -> dict[str, dict]:
    from isogate.config.runtime import RuntimeSettings
    from isogate.runtime import FunctionRef, InvokeRequest, Runtime
    from isogate.runtime.types import Outcome

    rt = Runtime(
        RuntimeSettings(
            workers=1,
            threads_per_worker=1,
            max_timeout_ms=600_000,
            max_cpu_ms=600_000,
            default_timeout_ms=600_000,
            default_cpu_ms=600_000,
        )
    )
    await rt.start()
    out = {}
    try:
        for name, src in sources.items():
            ref = FunctionRef(
                name="wpt",
                version=len(out) + 1,
                tenant="wpt",
                sha256=hashlib.sha256(src.encode()).hexdigest(),
                source=src,
                timeout_ms=600_000,
                cpu_ms=600_000,
            )
            r = await rt.invoke(ref, InvokeRequest("GET", "http://wpt.test/"))
            if r.outcome is Outcome.OK:
                out[name] = _parse(r.status, r.body)
            else:
                err = r.error.message if r.error else r.detail
                out[name] = {"results": [], "loadError": f"{r.outcome.value}: {err}"}
    finally:
        await rt.close()
    return out


def _parse(status: int, body: bytes) -> dict:
    try:
        return json.loads(body)
    except ValueError:
        return {"results": [], "loadError": f"HTTP {status}: {body[:300]!r}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("patterns", nargs="*")
    ap.add_argument("--wpt", type=Path, help="a web-platform-tests checkout")
    ap.add_argument("--json", type=Path, help="write per-subtest results here")
    args = ap.parse_args()
    wpt = args.wpt or clone_wpt(Path(tempfile.mkdtemp(prefix="wpt-")) / "wpt")
    files = select(wpt, args.patterns)
    base = wpt / "WebCryptoAPI"
    sources = {str(f.relative_to(base)): wrap(bundle_for(wpt, f)) for f in files}
    on_workerd = run_workerd(sources)
    on_isogate = asyncio.run(run_isogate(sources))
    totals = [0, 0, 0]
    report: dict[str, dict] = {}
    print(f"{'file':60} {'subtests':>8} {'workerd':>8} {'isogate':>8}")
    for name in sources:
        w, i = on_workerd[name], on_isogate[name]
        wres = {t[0]: t for t in w["results"]}
        ires = {t[0]: t for t in i["results"]}
        names = list(dict.fromkeys([*wres, *ires]))
        wp = {n for n in names if wres.get(n, (n, ""))[1] == "PASS"}
        ip = {n for n in names if ires.get(n, (n, ""))[1] == "PASS"}
        gaps = {n: (ires.get(n) or (n, "MISSING", i.get("loadError")))[2] for n in wp - ip}
        totals[0] += len(names)
        totals[1] += len(wp)
        totals[2] += len(ip)
        print(f"{name:60} {len(names):8} {len(wp):8} {len(ip):8}")
        for n, why in sorted(gaps.items()):
            print(f"    workerd passes, isogate fails: {n}: {why}")
        for side, res in (("workerd", w), ("isogate", i)):
            if res.get("loadError"):
                print(f"    {side} load error: {res['loadError'][:300]}")
        report[name] = {
            "subtests": len(names),
            "workerd": len(wp),
            "isogate": len(ip),
            "gaps": gaps,
            "workerd_results": w,
            "isogate_results": i,
        }
    print(f"{'total':60} {totals[0]:8} {totals[1]:8} {totals[2]:8}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
