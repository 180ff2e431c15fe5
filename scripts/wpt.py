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

HARNESS = r"""
const __results = [];
const __pending = [];
let __chain = Promise.resolve();
class AssertionError extends Error { constructor(m) { super(m); this.name = 'AssertionError'; } }
function format_value(v) { try { return typeof v === 'string' ? JSON.stringify(v) : String(v); } catch { return '?'; } }
function __fail(msg) { throw new AssertionError(msg); }
function __same(a, b) { return Object.is(a, b) || (a === b && a !== 0); }
function assert_equals(a, b, d) { if (!__same(a, b)) __fail(`${d || ''} expected ${format_value(b)} but got ${format_value(a)}`); }
function assert_not_equals(a, b, d) { if (__same(a, b)) __fail(`${d || ''} got disallowed ${format_value(a)}`); }
function assert_true(a, d) { if (a !== true) __fail(`${d || ''} expected true got ${format_value(a)}`); }
function assert_false(a, d) { if (a !== false) __fail(`${d || ''} expected false got ${format_value(a)}`); }
function assert_in_array(a, arr, d) { if (!arr.includes(a)) __fail(`${d || ''} ${format_value(a)} not in array`); }
function assert_array_equals(a, b, d) {
  if (a.length !== b.length) __fail(`${d || ''} lengths differ ${a.length} ${b.length}`);
  for (let i = 0; i < a.length; i++) if (!__same(a[i], b[i])) __fail(`${d || ''} index ${i}: ${format_value(b[i])} vs ${format_value(a[i])}`);
}
function assert_greater_than(a, b, d) { if (!(a > b)) __fail(`${d || ''} ${a} > ${b}`); }
function assert_greater_than_equal(a, b, d) { if (!(a >= b)) __fail(`${d || ''} ${a} >= ${b}`); }
function assert_less_than(a, b, d) { if (!(a < b)) __fail(`${d || ''} ${a} < ${b}`); }
function assert_less_than_equal(a, b, d) { if (!(a <= b)) __fail(`${d || ''} ${a} <= ${b}`); }
function assert_own_property(o, p, d) { if (!Object.prototype.hasOwnProperty.call(o, p)) __fail(`${d || ''} no own ${p}`); }
function assert_class_string(o, c, d) { assert_equals(Object.prototype.toString.call(o), '[object ' + c + ']', d); }
function assert_unreached(d) { __fail('reached unreachable ' + (d || '')); }
function assert_throws_js(C, f, d) {
  try { f(); } catch (e) {
    if (!(e instanceof Error) && typeof e !== 'object') __fail(`${d || ''} threw non-object`);
    if (e.constructor !== C && !(C === Error && e instanceof Error)) __fail(`${d || ''} threw ${e && e.name} not ${C.name}`);
    return;
  }
  __fail(`${d || ''} did not throw`);
}
function assert_throws(code, f, d) {
  try { f(); } catch (e) {
    if (code && typeof code === 'object' && 'name' in code && code.name !== e.name) __fail(`${d || ''} threw ${e.name} not ${code.name}`);
    return;
  }
  __fail(`${d || ''} did not throw`);
}
function assert_throws_dom(name, f, d) {
  if (typeof name !== 'string' || typeof f !== 'function') { f = arguments[2]; d = arguments[3]; }
  try { f(); } catch (e) {
    const names = { 0: 'x', INDEX_SIZE_ERR: 'IndexSizeError', SYNTAX_ERR: 'SyntaxError', INVALID_STATE_ERR: 'InvalidStateError', NOT_SUPPORTED_ERR: 'NotSupportedError', DATA_CLONE_ERR: 'DataCloneError', ABORT_ERR: 'AbortError' };
    const want = names[name] || name;
    if (e.name !== want) __fail(`${d || ''} threw ${e.name} not ${want}`);
    return;
  }
  __fail(`${d || ''} did not throw`);
}
function promise_rejects_js(t, C, p, d) { return p.then(() => __fail(`${d || ''} did not reject`), (e) => { if (e.constructor !== C) __fail(`${d || ''} rejected with ${e && e.name}`); }); }
function promise_rejects_dom(t, name, p, d) { return p.then(() => __fail(`${d || ''} did not reject`), (e) => { if (e.name !== name && !(typeof name === 'number')) __fail(`${d || ''} rejected with ${e && e.name}`); }); }
function promise_rejects_exactly(t, v, p, d) { return p.then(() => __fail('did not reject'), (e) => assert_equals(e, v, d)); }
class __Test {
  constructor(name) { this.name = name; this.status = null; this.message = ''; this.cleanups = []; this.__done = null; this.__finished = new Promise((r) => { this.__done = r; }); }
  step(f, thisObj, ...args) { if (this.status !== null) return; try { return f.apply(thisObj, args); } catch (e) { this.fail(e); } }
  step_func(f, thisObj) { return (...a) => this.step(f, thisObj === undefined ? this : thisObj, ...a); }
  step_func_done(f, thisObj) { return (...a) => { if (f) this.step(f, thisObj === undefined ? this : thisObj, ...a); this.done(); }; }
  unreached_func(d) { return this.step_func(() => assert_unreached(d)); }
  step_timeout(f, ms) { return setTimeout(this.step_func(f), ms); }
  add_cleanup(f) { this.cleanups.push(f); }
  fail(e) { if (this.status === null) { this.status = 'FAIL'; this.message = String(e && e.message || e); } this.done(); }
  done() { if (this.status === null) this.status = 'PASS'; for (const c of this.cleanups) { try { c(); } catch {} } this.cleanups = []; this.__done(); }
}
function __record(t) { __results.push(t); return t; }
function test(f, name) { const t = __record(new __Test(name)); t.step(f, t, t); t.done(); }
function async_test(f, name) {
  if (typeof f === 'string') { name = f; f = null; }
  const t = __record(new __Test(name));
  if (f) t.step(f, t, t);
  __pending.push(t.__finished);
  return t;
}
function promise_test(f, name) {
  const t = __record(new __Test(name));
  __chain = __chain.then(async () => {
    try { await f(t); t.done(); } catch (e) { t.fail(e); }
  });
}
function setup() {}
function done() {}
function add_completion_callback() {}
function subsetTest(f, ...args) { return f(...args); }
function step_timeout(f, ms) { return setTimeout(f, ms); }
async function __finish() {
  const timeout = new Promise((r) => setTimeout(r, 5000, 'timeout'));
  await Promise.race([Promise.all([__chain, ...__pending]), timeout]);
  return __results.map((t) => [t.name, t.status || 'TIMEOUT', t.message.slice(0, 200)]);
}
"""


def meta_scripts(wpt: Path, rel: str, text: str) -> list[str]:
    """The ``// META: script=`` files of a test, as sources, resolved like WPT does."""
    out = []
    for m in re.finditer(r"^// META: script=(\S+)", text, re.M):
        ref = m.group(1)
        path = wpt / ref.lstrip("/") if ref.startswith("/") else (wpt / rel).parent / ref
        out.append(path.resolve().read_text(encoding="utf-8"))
    return out


def worker_source(wpt: Path, rel: str) -> str:
    text = (wpt / rel).read_text(encoding="utf-8")
    body = "\n".join([HARNESS, *meta_scripts(wpt, rel, text), text])
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
            workers[rel] = Worker(name=name, file=f"{name}.js", cases=(), syntax="service-worker", root=tmp)
        wd = Workerd(list(workers.values()), binary)
        wd.start()
        try:
            for rel, w in workers.items():
                ex = wd.exchange(w, Case(label=rel))
                try:
                    out[rel] = json.loads(ex.response.body)
                except ValueError:
                    out[rel] = [["(file)", "ERROR", ex.response.body[:300].decode("utf-8", "replace")]]
        finally:
            wd.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wpt", type=Path, required=True, help="a folder laid out like the WPT repository")
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
        gaps = [(n, b.get(n, ("MISSING", ""))) for n, s in a.items() if s == "PASS" and b.get(n, ("",))[0] != "PASS"]
        for n, (s, m) in gaps[:50]:
            print(f"    workerd-only pass: {n!r}: isogate {s} {m}")
        report[rel] = {"workerd": wd.get(rel), "isogate": iso.get(rel)}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
