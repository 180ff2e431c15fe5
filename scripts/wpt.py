"""Run web-platform-tests ``.any.js`` files inside a function, on isogate and on workerd.

WPT is the measuring stick, never part of this repository: point ``--wpt`` at a local
folder laid out like the web-platform-tests repository (e.g. files read from it with
the research tools), and list the test files relative to it::

    PYTHONPATH=$PWD python scripts/wpt.py --wpt /tmp/wpt encoding/textdecoder-labels.any.js ...

Each file (with its ``// META: script=`` dependencies) runs in one fetch handler under a
small testharness written here (``test``, ``async_test``, ``promise_test`` and the common
``assert_*``), on isogate's runtime (an in-process isolate with the full prelude, as the
runtime tests use) and on workerd from npm (``tests/conformance/harness.py``), and the
subtests are counted per file. Prints a table, and the subtests that pass on workerd but
not on isogate; ``--json`` writes everything.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

#: The testharness every file runs under (written here, not WPT's testharness.js).
HARNESS = (Path(__file__).resolve().parent / "wpt_forms_harness.js").read_text(encoding="utf-8")


def meta_scripts(wpt: Path, rel: str, text: str) -> list[str]:
    """The ``// META: script=`` files of a test, as sources, resolved like WPT does."""
    out = []
    for m in re.finditer(r"^// META: script=(\S+)", text, re.M):
        ref = m.group(1)
        path = wpt / ref.lstrip("/") if ref.startswith("/") else (wpt / rel).parent / ref
        out.append(path.resolve().read_text(encoding="utf-8"))
    return out


def resource_shims(wpt: Path, rel: str, text: str) -> str:
    """What a worker lacks for a test written for a window: the JSON resources the test
    ``fetch``es (``resources/*.json`` next to it, answered from memory), ``fetch_json``,
    ``self.GLOBAL`` and, for ``subset-tests-by-key.js``, an empty ``location.search``
    (every subtest runs, as without a variant)."""
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


def worker_source(wpt: Path, rel: str) -> str:
    text = (wpt / rel).read_text(encoding="utf-8")
    shims = resource_shims(wpt, rel, text)
    body = "\n".join([HARNESS, shims, *meta_scripts(wpt, rel, text), text])
    return (
        "addEventListener('fetch', (event) => event.respondWith(__wptRun()));\n"
        "async function __wptRun() {\n"
        "try {\n" + body + "\nreturn Response.json(await __finish());\n"
        "} catch (e) { return Response.json([['(file)', 'ERROR', String(e && e.stack || e)]]); }\n"
        "}\n"
    )


def run_isogate(sources: dict[str, str]) -> dict[str, list]:
    from isogate.runtime.engine import Engine
    from isogate.runtime.types import InvokeRequest

    out: dict[str, list] = {}
    with Engine() as eng:
        for rel, src in sources.items():
            loaded = eng.load(src, max_response_body=64 << 20)
            if loaded.outcome.value != "ok":
                out[rel] = [["(file)", "ERROR", str(loaded.error)]]
                continue
            res = eng.invoke(InvokeRequest("GET", "http://127.0.0.1/", (), b""))
            try:
                out[rel] = json.loads(res.body)
            except ValueError:
                out[rel] = [["(file)", "ERROR", f"{res.outcome.value} {res.error}"]]
    return out


def run_workerd(sources: dict[str, str]) -> dict[str, list]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conformance.corpus import Case, Worker
    from tests.conformance.harness import Workerd, workerd_binary

    binary = workerd_binary()
    if binary is None:
        raise SystemExit("workerd not found (npm install in the worktree)")
    out: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workers = {}
        for i, (rel, src) in enumerate(sources.items()):
            name = f"wpt{i}"
            (Path(tmp) / f"{name}.js").write_text(src, encoding="utf-8")
            workers[rel] = Worker(
                name=name, file=f"{name}.js", cases=(), syntax="service-worker", root=tmp
            )
        wd = Workerd(list(workers.values()), binary)
        wd.start()
        try:
            for rel, w in workers.items():
                ex = wd.exchange(w, Case(label=rel))
                try:
                    out[rel] = json.loads(ex.response.body)
                except ValueError:
                    out[rel] = [
                        ["(file)", "ERROR", ex.response.body[:300].decode("utf-8", "replace")]
                    ]
        finally:
            wd.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--wpt", type=Path, required=True, help="a folder laid out like the WPT repository"
    )
    ap.add_argument("--json", type=Path, help="write every subtest's result here")
    ap.add_argument("--only", choices=["isogate", "workerd"])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    sources = {rel: worker_source(args.wpt, rel) for rel in args.files}
    iso = run_isogate(sources) if args.only != "workerd" else {}
    wd = run_workerd(sources) if args.only != "isogate" else {}
    report = {}
    print(f"{'file':60} {'subtests':>8} {'workerd':>8} {'isogate':>8}")
    for rel in args.files:
        a = {n: s for n, s, _ in wd.get(rel, [])}
        b = {n: (s, m) for n, s, m in iso.get(rel, [])}
        total = max(len(a), len(b))
        pw = sum(s == "PASS" for s in a.values())
        pi = sum(s == "PASS" for s, _ in b.values())
        print(f"{rel:60} {total:8} {pw:8} {pi:8}")
        gaps = [
            (n, b.get(n, ("MISSING", "")))
            for n, s in a.items()
            if s == "PASS" and b.get(n, ("",))[0] != "PASS"
        ]
        for n, (s, m) in gaps[:50]:
            print(f"    workerd-only pass: {n!r}: isogate {s} {m}")
        report[rel] = {"workerd": wd.get(rel), "isogate": iso.get(rel)}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
