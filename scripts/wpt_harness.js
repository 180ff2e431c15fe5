// The small testharness.js stand-in scripts/wpt.py runs inside a function, the same on
// workerd and on isogate, so the counts compare. It is this repository's own code (not a
// copy of testharness.js): the test API the measured WPT areas use (test, async_test,
// promise_test, setup/done, the assert_* and promise_rejects_* families), with
// testharness.js's semantics where the tests depend on them: sync tests run at once,
// promise tests one after another (each with a timeout, cleanups awaited), promise tests
// a running one adds join the queue, async tests are awaited, setup({explicit_done}).
// Results are kept in __results as [name, status, message].
const __results = [];
const __queue = [];
const __asyncTests = [];
const __WPT_TIMEOUT_MS = globalThis.__WPT_TIMEOUT_MS || 5000;
let __explicitDone = false;
let __doneCalled = false;
let __running = false;
let __finish;
const __finished = new Promise((r) => { __finish = r; });
function __fmt(v) {
  try {
    if (typeof v === 'string') return JSON.stringify(v);
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return Object.prototype.toString.call(v);
    return String(v);
  } catch (e) { return '<value>'; }
}
class AssertionError extends Error { constructor(m) { super(m); this.name = 'AssertionError'; } }
function __fail(msg, desc) { throw new AssertionError((desc ? desc + ': ' : '') + msg); }
function format_value(v) { return __fmt(v); }
// testharness.js's same_value: NaN equals NaN, +0 and -0 differ
function __same(a, b) { return Object.is(a, b); }
function assert_true(v, d) { if (v !== true) __fail(`expected true got ${__fmt(v)}`, d); }
function assert_false(v, d) { if (v !== false) __fail(`expected false got ${__fmt(v)}`, d); }
function assert_equals(a, e, d) { if (!__same(a, e)) __fail(`expected ${__fmt(e)} but got ${__fmt(a)}`, d); }
function assert_not_equals(a, e, d) { if (__same(a, e)) __fail(`got disallowed value ${__fmt(a)}`, d); }
function assert_in_array(a, arr, d) { if (arr.indexOf(a) === -1) __fail(`value ${__fmt(a)} not in array`, d); }
function assert_array_equals(a, e, d) {
  if (typeof a !== 'object' || a === null || !('length' in a)) __fail('value is not array-like', d);
  if (a.length !== e.length) __fail(`lengths differ, expected ${e.length} got ${a.length}`, d);
  for (let i = 0; i < a.length; i++) if (!__same(a[i], e[i])) __fail(`expected property ${i} to be ${__fmt(e[i])} but got ${__fmt(a[i])}`, d);
}
function assert_object_equals(a, b, d) {
  const seen = [];
  function eq(x, y) {
    if (typeof y !== 'object' || y === null) return __same(x, y);
    if (typeof x !== 'object' || x === null) return false;
    if (seen.includes(y)) return true;
    seen.push(y);
    const kx = Object.keys(x), ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of ky) if (!eq(x[k], y[k])) return false;
    return true;
  }
  if (!eq(a, b)) __fail('objects differ', d);
}
function assert_unreached(d) { __fail('Reached unreachable code', d); }
function assert_own_property(o, p, d) { if (!Object.prototype.hasOwnProperty.call(o, p)) __fail(`expected property ${String(p)} missing`, d); }
function assert_not_own_property(o, p, d) { if (Object.prototype.hasOwnProperty.call(o, p)) __fail(`unexpected property ${String(p)}`, d); }
function assert_inherits(o, p, d) { if (Object.prototype.hasOwnProperty.call(o, p) || !(p in o)) __fail(`property ${String(p)} not inherited`, d); }
function assert_class_string(o, c, d) { assert_equals(Object.prototype.toString.call(o), `[object ${c}]`, d); }
function assert_greater_than(a, b, d) { if (!(a > b)) __fail(`expected a number greater than ${b} but got ${a}`, d); }
function assert_less_than(a, b, d) { if (!(a < b)) __fail(`expected a number less than ${b} but got ${a}`, d); }
function assert_greater_than_equal(a, b, d) { if (!(a >= b)) __fail(`expected >= ${b} but got ${a}`, d); }
function assert_less_than_equal(a, b, d) { if (!(a <= b)) __fail(`expected <= ${b} but got ${a}`, d); }
function assert_between_inclusive(a, lo, hi, d) { if (!(a >= lo && a <= hi)) __fail(`expected ${a} in [${lo}, ${hi}]`, d); }
function assert_approx_equals(a, e, eps, d) { if (Math.abs(a - e) > eps) __fail(`expected ${e} +/- ${eps} got ${a}`, d); }
function assert_regexp_match(a, re, d) { if (!re.test(a)) __fail(`expected ${__fmt(a)} to match ${re}`, d); }
function assert_implements(c, d) { if (!c) __fail('not implemented', d); }
function assert_implements_optional(c, d) { if (!c) { const e = new AssertionError(d || 'optional'); e.optional = true; throw e; } }
const __DOM_CODES = { IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
  NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
  InvalidNodeTypeError: 24, DataCloneError: 25 };
// the legacy constant names older tests pass (INDEX_SIZE_ERR, ...)
const __DOM_LEGACY = { INDEX_SIZE_ERR: 'IndexSizeError', SYNTAX_ERR: 'SyntaxError', INVALID_STATE_ERR: 'InvalidStateError',
  NOT_SUPPORTED_ERR: 'NotSupportedError', DATA_CLONE_ERR: 'DataCloneError', ABORT_ERR: 'AbortError',
  INVALID_ACCESS_ERR: 'InvalidAccessError', NOT_FOUND_ERR: 'NotFoundError', QUOTA_EXCEEDED_ERR: 'QuotaExceededError',
  INVALID_CHARACTER_ERR: 'InvalidCharacterError', TIMEOUT_ERR: 'TimeoutError', NETWORK_ERR: 'NetworkError' };
function __checkDom(e, name, d) {
  if (typeof name === 'number') { for (const k in __DOM_CODES) if (__DOM_CODES[k] === name) { name = k; break; } }
  if (__DOM_LEGACY[name]) name = __DOM_LEGACY[name];
  if (!(e instanceof Error) && !(typeof DOMException !== 'undefined' && e instanceof DOMException)) __fail(`threw ${__fmt(e)}, not a DOMException`, d);
  if (e.name !== name) __fail(`expected DOMException ${name} but got ${e && e.name}: ${e && e.message}`, d);
}
function __checkJs(e, ctor, d) {
  if (typeof e !== 'object' || e === null || e.constructor !== ctor) __fail(`expected ${ctor.name} but got ${e && e.name}: ${e && e.message}`, d);
}
function assert_throws_dom(name, fn, d) {
  // assert_throws_dom(type, constructor, fn, d) names the realm's DOMException; one realm here
  if (typeof fn !== 'function' && typeof arguments[2] === 'function') { fn = arguments[2]; d = arguments[3]; }
  try { fn(); } catch (e) { __checkDom(e, name, d); return; }
  __fail(`expected DOMException ${name} to be thrown`, d);
}
function assert_throws_js(ctor, fn, d) {
  try { fn(); } catch (e) { __checkJs(e, ctor, d); return; }
  __fail(`expected ${ctor.name} to be thrown`, d);
}
function assert_throws_exactly(v, fn, d) {
  try { fn(); } catch (e) { assert_equals(e, v, d); return; }
  __fail('expected an exception', d);
}
// the pre-2020 assert_throws(code-or-object, fn): checks the name when one is given
function assert_throws(code, fn, d) {
  try { fn(); } catch (e) {
    if (typeof code === 'string') __checkDom(e, code, d);
    else if (code && typeof code === 'object' && 'name' in code && code.name !== e.name) __fail(`threw ${e.name} not ${code.name}`, d);
    return;
  }
  __fail('did not throw', d);
}
function promise_rejects_js(t, ctor, p, d) {
  return p.then(() => __fail(`expected ${ctor.name} rejection but resolved`, d), (e) => __checkJs(e, ctor, d));
}
function promise_rejects_dom(t, name, p, d) {
  if (typeof p === 'function' || (p && typeof p.then !== 'function' && arguments.length > 4)) { p = arguments[3]; d = arguments[4]; }
  return p.then(() => __fail(`expected ${name} rejection but resolved`, d), (e) => __checkDom(e, name, d));
}
function promise_rejects_exactly(t, v, p, d) {
  return p.then(() => __fail('expected a rejection', d), (e) => assert_equals(e, v, d));
}
function promise_rejects(t, expected, p, d) {
  return p.then(() => __fail('expected a rejection', d), (e) => {
    if (typeof expected === 'string') __checkDom(e, expected, d);
    else if (expected && typeof expected === 'object' && 'name' in expected) { if (!(e && e.name === expected.name)) __fail(`rejected with ${__fmt(e)}`, d); }
    else assert_equals(e, expected, d);
  });
}
class Test {
  constructor(name) { this.name = name; this.cleanups = []; this.status = null; this.message = null; this.__resolve = null; }
  step(fn, self, ...args) {
    if (this.status !== null) return undefined;
    try { return fn.apply(self === undefined ? this : self, args); } catch (e) { this.fail(e); return undefined; }
  }
  step_func(fn, self) { return (...a) => this.step(fn, self, ...a); }
  step_func_done(fn, self) { return (...a) => { if (fn) this.step(fn, self, ...a); this.done(); }; }
  unreached_func(d) { return this.step_func(() => assert_unreached(d)); }
  step_timeout(fn, ms, ...a) { return setTimeout(this.step_func(() => fn(...a)), ms); }
  step_wait(cond, d, timeout = 3000, interval = 100) {
    const start = Date.now();
    return new Promise((res, rej) => {
      const poll = () => { if (cond()) res(); else if (Date.now() - start > timeout) rej(new AssertionError(d || 'step_wait timed out')); else setTimeout(poll, interval); };
      poll();
    });
  }
  add_cleanup(fn) { this.cleanups.push(fn); }
  fail(e) {
    if (this.status !== null) return;
    this.status = e && e.optional ? 'PRECONDITION_FAILED' : 'FAIL';
    this.message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.__end();
  }
  done() { if (this.status === null) { this.status = 'PASS'; this.__end(); } }
  __end() {
    this.__cleaned = (async () => { for (const c of this.cleanups) { try { await c(); } catch (e) {} } })();
    __results.push([this.name, this.status, String(this.message || '').slice(0, 400)]);
    if (this.__resolve) this.__resolve();
  }
}
let __unnamed = 0;
function test(fn, name) {
  const t = new Test(name || `test ${++__unnamed}`);
  t.step(fn, t, t);
  t.done();
}
function async_test(fn, name) {
  if (typeof fn === 'string') { name = fn; fn = undefined; }
  const t = new Test(name || `async ${++__unnamed}`);
  __asyncTests.push(t);
  t.__promise = new Promise((r) => { t.__resolve = r; });
  if (fn) t.step(fn, t, t);
  return t;
}
function promise_test(fn, name) {
  const t = new Test(name || `promise ${++__unnamed}`);
  __queue.push([t, fn]);
  __pump();
}
function setup(f, o) {
  if (typeof f === 'object') o = f;
  else if (typeof f === 'function') { try { f(); } catch (e) { __results.push(['(setup)', 'FAIL', String(e)]); } }
  if (o && o.explicit_done) __explicitDone = true;
}
function promise_setup(f) { promise_test(async () => { await f(); }, '(promise_setup)'); }
function done() { __doneCalled = true; __pump(); }
function add_completion_callback() {}
function add_result_callback() {}
function step_timeout(f, ms, ...a) { return setTimeout(f, ms, ...a); }
function __withTimeout(p, ms) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => { timer = setTimeout(() => rej(Object.assign(new Error('timeout'), { timeout: true })), ms); })])
    .finally(() => clearTimeout(timer));
}
async function __pump() {
  if (__running) return;
  __running = true;
  await Promise.resolve();
  while (__queue.length) {
    const [t, fn] = __queue.shift();
    t.__promise = new Promise((r) => { t.__resolve = r; });
    try {
      const r = fn(t);
      if (!r || typeof r.then !== 'function') __fail('promise_test did not return a promise');
      await __withTimeout(r, __WPT_TIMEOUT_MS);
      t.done();
    } catch (e) {
      if (e && e.timeout) { t.status = 'TIMEOUT'; t.message = 'timeout'; t.__end(); } else t.fail(e);
    }
    await t.__cleaned;
  }
  __running = false;
  if (!__explicitDone || __doneCalled) __finish();
}
// The whole file's results, once promise tests, async tests and (with explicit_done)
// done() have all finished, or the file's deadline passed.
async function __wptResults(deadlineMs) {
  if (!__explicitDone) __pump();
  const asyncs = async () => {
    await __finished;
    for (const t of __asyncTests) {
      try { await __withTimeout(t.__promise, __WPT_TIMEOUT_MS); } catch (e) { if (t.status === null) { t.status = 'TIMEOUT'; t.message = 'timeout'; t.__end(); } }
    }
  };
  await Promise.race([asyncs(), new Promise((r) => setTimeout(r, deadlineMs))]);
  for (const [t] of __queue) __results.push([t.name, 'NOTRUN', 'file deadline']);
  return __results;
}
// /common/utils/subset-tests.js (when the file is not there): every subset runs
function subsetTest(testFunc, ...args) { return testFunc(...args); }
function shouldRunSubTest() { return true; }
// QuotaExceededError is a DOMException (an interface of its own in newer HTML); the
// requested/quota properties are checked only when the test gives them.
function assert_throws_quotaexceedederror(fn, requested, quota, d) {
  try { fn(); } catch (e) {
    __checkDom(e, 'QuotaExceededError', d);
    if (requested !== null && requested !== undefined) assert_equals(e.requested, requested, d);
    if (quota !== null && quota !== undefined) assert_equals(e.quota, quota, d);
    return;
  }
  __fail('expected QuotaExceededError to be thrown', d);
}
