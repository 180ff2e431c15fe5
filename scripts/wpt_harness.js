// The small testharness.js stand-in scripts/wpt_webcrypto.py runs inside a function (on
// workerd and on isogate alike): the test API the WebCryptoAPI tests use, results kept
// in __results as [name, status, message].
const __results = [];
const __queue = [];
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
function assert_object_equals(a, e, d) {
  const ka = Object.keys(a).sort(), ke = Object.keys(e).sort();
  assert_array_equals(ka, ke, d);
  for (const k of ka) {
    if (typeof e[k] === 'object' && e[k] !== null) assert_object_equals(a[k], e[k], d);
    else assert_equals(a[k], e[k], d);
  }
}
function assert_unreached(d) { __fail('Reached unreachable code', d); }
function assert_own_property(o, p, d) { if (!Object.prototype.hasOwnProperty.call(o, p)) __fail(`expected property ${p} missing`, d); }
function assert_class_string(o, c, d) { assert_equals(Object.prototype.toString.call(o), `[object ${c}]`, d); }
function assert_greater_than(a, b, d) { if (!(a > b)) __fail(`expected a number greater than ${b} but got ${a}`, d); }
function assert_less_than(a, b, d) { if (!(a < b)) __fail(`expected a number less than ${b} but got ${a}`, d); }
function assert_greater_than_equal(a, b, d) { if (!(a >= b)) __fail(`expected >= ${b} but got ${a}`, d); }
function assert_less_than_equal(a, b, d) { if (!(a <= b)) __fail(`expected <= ${b} but got ${a}`, d); }
function assert_approx_equals(a, e, eps, d) { if (Math.abs(a - e) > eps) __fail(`expected ${e} +/- ${eps} got ${a}`, d); }
function assert_regexp_match(a, re, d) { if (!re.test(a)) __fail(`expected ${__fmt(a)} to match ${re}`, d); }
function assert_implements(c, d) { if (!c) __fail('not implemented', d); }
function assert_implements_optional(c, d) { if (!c) { const e = new AssertionError(d || 'optional'); e.optional = true; throw e; } }
const __DOM_CODES = { IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
  NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, DataCloneError: 25,
  EncodingError: 0, NotReadableError: 0, UnknownError: 0, ConstraintError: 0, DataError: 0, TransactionInactiveError: 0,
  ReadOnlyError: 0, VersionError: 0, OperationError: 0, NotAllowedError: 0 };
function __checkDom(e, name, d) {
  if (typeof name === 'number') { for (const k in __DOM_CODES) if (__DOM_CODES[k] === name) { name = k; break; } }
  if (!(e instanceof Error) && !(typeof DOMException !== 'undefined' && e instanceof DOMException)) __fail(`threw ${__fmt(e)}, not a DOMException`, d);
  if (e.name !== name) __fail(`expected DOMException ${name} but got ${e && e.name}`, d);
}
function __checkJs(e, ctor, d) {
  if (typeof e !== 'object' || e === null || e.constructor !== ctor) __fail(`expected ${ctor.name} but got ${e && e.name}: ${e && e.message}`, d);
}
function assert_throws_dom(name, fn, d) {
  if (typeof name === 'function' && typeof fn !== 'function') { d = fn; fn = name; }
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
function promise_rejects_js(t, ctor, p, d) {
  return p.then(() => __fail(`expected ${ctor.name} rejection but resolved`, d), (e) => __checkJs(e, ctor, d));
}
function promise_rejects_dom(t, name, p, d) {
  return p.then(() => __fail(`expected ${name} rejection but resolved`, d), (e) => __checkDom(e, name, d));
}
function promise_rejects_exactly(t, v, p, d) {
  return p.then(() => __fail('expected a rejection', d), (e) => assert_equals(e, v, d));
}
class Test {
  constructor(name) { this.name = name; this.phase = 0; this.cleanups = []; this.status = null; this.message = null; }
  step(fn, self, ...args) {
    if (this.status !== null) return undefined;
    try { return fn.apply(self === undefined ? this : self, args); } catch (e) { this.fail(e); return undefined; }
  }
  step_func(fn, self) { return (...a) => this.step(fn, self, ...a); }
  step_func_done(fn, self) { return (...a) => { if (fn) this.step(fn, self, ...a); this.done(); }; }
  unreached_func(d) { return this.step_func(() => assert_unreached(d)); }
  step_timeout(fn, ms, ...a) { return setTimeout(this.step_func(() => fn(...a)), ms); }
  add_cleanup(fn) { this.cleanups.push(fn); }
  fail(e) {
    if (this.status !== null) return;
    this.status = e && e.optional ? 'PRECONDITION_FAILED' : 'FAIL';
    this.message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.__end();
  }
  done() { if (this.status === null) { this.status = 'PASS'; this.__end(); } }
  __end() {
    for (const c of this.cleanups) { try { c(); } catch (e) {} }
    __results.push([this.name, this.status, this.message]);
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
function done() { __doneCalled = true; __pump(); }
function add_completion_callback() {}
function add_result_callback() {}
function __withTimeout(p, ms) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(Object.assign(new Error('timeout'), { timeout: true })), ms))]);
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
      await __withTimeout(r, 20000);
      t.done();
    } catch (e) {
      if (e && e.timeout) { t.status = 'TIMEOUT'; t.message = 'timeout'; t.__end(); } else t.fail(e);
    }
  }
  __running = false;
  if (!__explicitDone || __doneCalled) __finish();
}
// /common/utils/subset-tests.js: every subset runs
function subsetTest(testFunc, ...args) { return testFunc(...args); }
function shouldRunSubTest() { return true; }
