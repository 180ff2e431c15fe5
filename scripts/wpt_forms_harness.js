// A small testharness for scripts/wpt.py (test, async_test, promise_test, assert_*):
// enough for the WPT .any.js files measured there, written for isogate.
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
  // promise_tests added while others run (from a data file's .then) join the chain late
  const settled = async () => { let c; do { c = __chain; await Promise.all([c, ...__pending]); } while (c !== __chain); };
  await Promise.race([settled(), timeout]);
  return __results.map((t) => [t.name, t.status || 'TIMEOUT', t.message.slice(0, 400)]);
}
function assert_regexp_match(s, re, d) { if (!re.test(s)) __fail(`${d || ''} ${format_value(s)} does not match ${re}`); }
