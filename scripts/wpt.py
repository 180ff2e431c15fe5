#!/usr/bin/env python3
"""Run web-platform-tests ``.any.js`` files inside a function, on isogate and on workerd.

WPT is the measuring stick, never part of this repository: point ``--wpt`` at a local
folder laid out like https://github.com/web-platform-tests/wpt (a checkout, or files
read from it one by one), and name test files or folders relative to it (a folder means
every ``*.any.js`` under it, idlharness files left out: they need WebIDL parsing)::

    PYTHONPATH=$PWD python scripts/wpt.py --wpt /tmp/wpt streams encoding/streams \\
        WebCryptoAPI/digest url/url-constructor.any.js --json out.json

Each file, preceded by the scripts its ``// META: script=`` lines name (resolved as WPT
does; a missing ``/common/`` or ``/resources/`` helper is left out, the harness stands
in for ``subset-tests.js``; a test file with a ``"use strict"`` directive runs in a strict
function of its own), runs in one fetch handler of a service-worker-syntax Worker
(WPT files are classic, sloppy-mode scripts), under ``scripts/wpt_harness.js``, this
repository's own small stand-in for testharness.js. The same Worker runs on isogate's
runtime (worker processes with the full prelude and host operations, as in production,
limits raised) and on workerd from npm (``tests/conformance/harness.py``, compatibility
date 2024-09-23). What a worker lacks for a test written for a window is shimmed the same
on both: ``fetch("resources/*.json")`` (and ``fetch_json``) answered from the test's
folder, ``self.GLOBAL``, and an empty ``location.search`` for ``subset-tests-by-key.js``
(every variant's subtests run in one go).

Prints subtests, workerd passes and isogate passes per file and per folder, and every
subtest that passes on workerd but not on isogate; ``--json`` writes every result.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The testharness every file runs under (written here, not WPT's testharness.js).
HARNESS = (Path(__file__).with_name("wpt_harness.js")).read_text(encoding="utf-8")


#: A script that starts (after comment lines) with a "use strict" directive.
USE_STRICT = re.compile(r"\A(?:\s*//[^\n]*\n|\s*/\*.*?\*/|\s+)*[\'\"]use strict[\'\"]", re.S)


def meta_scripts(wpt: Path, rel: str, text: str) -> list[str]:
    """The ``// META: script=`` files of a test, as sources, resolved like WPT does."""
    out = []
    for m in re.finditer(r"^//\s*META:\s*script=(\S+)", text, re.M):
        ref = m.group(1)
        path = wpt / ref.lstrip("/") if ref.startswith("/") else (wpt / rel).parent / ref
        if ref.startswith(("/common/", "/resources/")) and not path.exists():
            continue  # WPT-wide helpers the harness stands in for (subsetTest)
        out.append(path.resolve().read_text(encoding="utf-8"))
    return out


def resource_shims(wpt: Path, rel: str, text: str) -> str:
    """What a worker lacks for a test written for a window: the JSON resources the test
    ``fetch``es (``resources/*.json`` next to it, answered from memory), ``fetch_json``,
    ``self.GLOBAL`` and, for ``subset-tests-by-key.js``, an empty ``location.search``."""
    data = {}
    for m in re.finditer(r"[\"'](resources/[\w.-]+\.json)[\"']", text):
        path = (wpt / rel).parent / m.group(1)
        if path.is_file():
            data[m.group(1)] = path.read_text(encoding="utf-8")
    out = [
        "const __wptResources = " + json.dumps(data) + ";",
        "const __wptFetch = globalThis.fetch;",
        "globalThis.fetch = (u, ...a) => Object.prototype.hasOwnProperty.call(__wptResources, u)"
        " ? Promise.resolve(new Response(__wptResources[u])) : __wptFetch(u, ...a);",
        "globalThis.fetch_json = (u) => fetch(u).then((r) => r.json());",
        "if (!self.GLOBAL) self.GLOBAL = {isWindow: () => false, isWorker: () => true,"
        " isShadowRealm: () => false};",
    ]
    if "subset-tests-by-key.js" in text:
        out.append("var location = globalThis.location || {search: ''};")
    return "\n".join(out)


def worker_source(wpt: Path, rel: str, timeout_ms: int, deadline_ms: int) -> str:
    """A service-worker-syntax Worker whose fetch handler runs the test file ``rel``
    (with its META scripts) and answers ``{results, loadError}`` as JSON."""
    text = (wpt / rel).read_text(encoding="utf-8")
    test = text
    if USE_STRICT.match(text):
        # A classic script's "use strict" covers that script only; inside the bundle it
        # would be a plain expression, so a strict test file gets a strict function of its
        # own (its top-level names stay its own, as they are for WPT's later scripts).
        test = "(function () {\n'use strict';\n" + text + "\n}).call(globalThis);"
    bundle = "\n;\n".join([resource_shims(wpt, rel, text), *meta_scripts(wpt, rel, text), test])
    return (
        f"globalThis.__WPT_TIMEOUT_MS = {timeout_ms};\n"
        "addEventListener('fetch', (event) => event.respondWith((async () => {\n"
        + HARNESS
        + "\nlet __loadError = null;\ntry { (function () {\n"
        + bundle
        + "\n}).call(globalThis); } catch (e) { __loadError = String(e && e.stack || e); }\n"
        + f"const __r = await __wptResults({deadline_ms});\n"
        + "return new Response(JSON.stringify({results: __r, loadError: __loadError}));\n"
        + "})()));\n"
    )


def select(wpt: Path, names: list[str]) -> list[str]:
    """Test files (relative to ``wpt``) for file and folder names."""
    out: list[str] = []
    for name in names:
        p = wpt / name
        if p.is_dir():
            out += sorted(
                str(f.relative_to(wpt))
                for f in p.rglob("*.any.js")
                if "idlharness" not in f.name and "/resources/" not in str(f)
            )
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def _parse(status: int, body: bytes) -> dict:
    try:
        return json.loads(body)
    except ValueError:
        return {"results": [], "loadError": f"HTTP {status}: {body[:300]!r}"}


def run_workerd(sources: dict[str, str]) -> dict[str, dict]:
    import httpx

    from tests.conformance.corpus import Worker
    from tests.conformance.harness import Workerd, workerd_binary

    binary = workerd_binary()
    if binary is None:
        raise SystemExit("workerd is not installed (npm ci)")
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="wpt-workerd-") as tmp:
        workers = []
        for i, src in enumerate(sources.values()):
            (Path(tmp) / f"w{i}.js").write_text(src, encoding="utf-8")
            workers.append(Worker(f"w{i}", f"w{i}.js", (), syntax="service-worker", root=tmp))
        server = Workerd(workers, binary)
        server.start()
        try:
            with httpx.Client(timeout=900, trust_env=False) as c:
                for w, name in zip(workers, sources, strict=True):
                    try:
                        r = c.get(f"http://127.0.0.1:{server.ports[w.name]}/")
                        out[name] = _parse(r.status_code, r.content)
                    except httpx.HTTPError as e:
                        out[name] = {"results": [], "loadError": f"{type(e).__name__}: {e}"}
        finally:
            server.stop()
    return out


async def run_isogate(sources: dict[str, str], limit_ms: int) -> dict[str, dict]:
    from isogate.config.runtime import RuntimeSettings
    from isogate.runtime import FunctionRef, InvokeRequest, Runtime
    from isogate.runtime.types import Outcome

    rt = Runtime(
        RuntimeSettings(
            workers=1,
            threads_per_worker=1,
            max_timeout_ms=limit_ms,
            max_cpu_ms=limit_ms,
            default_timeout_ms=limit_ms,
            default_cpu_ms=limit_ms,
        )
    )
    await rt.start()
    out: dict[str, dict] = {}
    try:
        for i, (name, src) in enumerate(sources.items()):
            ref = FunctionRef(
                name=f"wpt{i}",
                version=1,
                tenant="wpt",
                sha256=hashlib.sha256(src.encode()).hexdigest(),
                source=src,
                timeout_ms=limit_ms,
                cpu_ms=limit_ms,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("names", nargs="+", help="test files or folders, relative to --wpt")
    ap.add_argument("--wpt", type=Path, required=True, help="a folder laid out like WPT")
    ap.add_argument("--json", type=Path, help="write every subtest's result here")
    ap.add_argument("--only", choices=["isogate", "workerd"], help="run on one runtime")
    ap.add_argument("--timeout-ms", type=int, default=5000, help="per promise/async test")
    ap.add_argument("--deadline-ms", type=int, default=240_000, help="per file")
    args = ap.parse_args()
    files = select(args.wpt, args.names)
    sources = {f: worker_source(args.wpt, f, args.timeout_ms, args.deadline_ms) for f in files}
    limit = args.deadline_ms + 60_000
    wd = run_workerd(sources) if args.only != "isogate" else {}
    iso = asyncio.run(run_isogate(sources, limit)) if args.only != "workerd" else {}
    empty = {"results": [], "loadError": None}
    report: dict[str, dict] = {}
    folders: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    print(f"{'file':66} {'subtests':>8} {'workerd':>8} {'isogate':>8}")
    for name in files:
        w, i = wd.get(name, empty), iso.get(name, empty)
        wres = {t[0]: t for t in w["results"]}
        ires = {t[0]: t for t in i["results"]}
        names = list(dict.fromkeys([*wres, *ires]))
        wp = {n for n in names if wres.get(n, (n, ""))[1] == "PASS"}
        ip = {n for n in names if ires.get(n, (n, ""))[1] == "PASS"}
        gaps = {
            n: " ".join(map(str, (ires.get(n) or (n, "MISSING", i.get("loadError")))[1:]))
            for n in wp - ip
        }
        row = (len(names), len(wp), len(ip))
        for key in (str(Path(name).parent), "total"):
            folders[key] = [a + b for a, b in zip(folders[key], row, strict=True)]
        print(f"{name:66} {row[0]:8} {row[1]:8} {row[2]:8}")
        for n, why in sorted(gaps.items()):
            print(f"    workerd passes, isogate fails: {n}: {why[:300]}")
        for side, res in (("workerd", w), ("isogate", i)):
            if res.get("loadError"):
                print(f"    {side} load error: {res['loadError'][:300]}")
        report[name] = {
            "subtests": row[0],
            "workerd": row[1],
            "isogate": row[2],
            "gaps": gaps,
            "workerd_results": w,
            "isogate_results": i,
        }
    print()
    for key, (n, a, b) in sorted(folders.items(), key=lambda kv: (kv[0] == "total", kv[0])):
        print(f"{key:66} {n:8} {a:8} {b:8}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
