// A small testharness.js stand-in for running WPT .any.js files inside one Worker
// invocation (isogate's or workerd's): the same file, the same shim, on both.
// Not a copy of testharness.js; it implements the asserts the streams, encoding and
// compression tests use, with testharness.js's semantics.
const __wptTests = [];
function __fmt(v) {
  try { return typeof v === 'string' ? JSON.stringify(v) : String(v); } catch (e) { return '?'; }
}
function __fail(msg, desc) { throw new Error((desc ? desc + ': ' : '') + msg); }
function __same(a, b) { return typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) || (a === b && a !== 0) : a === b; }
function assert_true(v, d) { if (v !== true) __fail('expected true got ' + __fmt(v), d); }
function assert_false(v, d) { if (v !== false) __fail('expected false got ' + __fmt(v), d); }
function assert_equals(a, b, d) { if (!__same(a, b)) __fail('expected ' + __fmt(b) + ' got ' + __fmt(a), d); }
function assert_not_equals(a, b, d) { if (__same(a, b)) __fail('got disallowed value ' + __fmt(a), d); }
function assert_in_array(a, arr, d) { if (!arr.includes(a)) __fail('value not in array ' + __fmt(a), d); }
function assert_array_equals(a, b, d) {
  if (a === null || typeof a !== 'object' || a.length !== b.length) __fail('array length differs', d);
  for (let i = 0; i < b.length; i++) if (!__same(a[i], b[i])) __fail('index ' + i + ' expected ' + __fmt(b[i]) + ' got ' + __fmt(a[i]), d);
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
function assert_less_than(a, b, d) { if (!(a < b)) __fail(__fmt(a) + ' not < ' + __fmt(b), d); }
function assert_greater_than(a, b, d) { if (!(a > b)) __fail(__fmt(a) + ' not > ' + __fmt(b), d); }
function assert_less_than_equal(a, b, d) { if (!(a <= b)) __fail(__fmt(a) + ' not <= ' + __fmt(b), d); }
function assert_greater_than_equal(a, b, d) { if (!(a >= b)) __fail(__fmt(a) + ' not >= ' + __fmt(b), d); }
function assert_between_inclusive(a, lo, hi, d) { if (!(a >= lo && a <= hi)) __fail('out of range', d); }
function assert_regexp_match(s, re, d) { if (!re.test(s)) __fail('no match', d); }
function assert_class_string(o, c, d) { assert_equals(Object.prototype.toString.call(o), '[object ' + c + ']', d); }
function assert_own_property(o, p, d) { if (!Object.prototype.hasOwnProperty.call(o, p)) __fail('no own property ' + p, d); }
function assert_unreached(d) { __fail('reached unreachable code', d); }
function assert_implements(c, d) { if (!c) __fail('not implemented', d); }
function assert_implements_optional(c, d) { if (!c) __fail('optional feature not implemented', d); }
function __throws(fn, check, d) {
  let threw = false, e;
  try { fn(); } catch (x) { threw = true; e = x; }
  if (!threw) __fail('did not throw', d);
  check(e);
}
function assert_throws_js(C, fn, d) {
  __throws(fn, (e) => { if (!(e instanceof C) && !(e && e.name === C.name)) __fail('threw ' + __fmt(e) + ', expected ' + C.name, d); }, d);
}
function assert_throws_exactly(v, fn, d) { __throws(fn, (e) => { if (!__same(e, v)) __fail('threw ' + __fmt(e), d); }, d); }
function assert_throws_dom(name, fn, d) {
  const n = typeof name === 'number' ? null : name;
  __throws(fn, (e) => { if (!(e instanceof DOMException) || (n !== null && e.name !== n)) __fail('threw ' + __fmt(e), d); }, d);
}
function assert_throws(expected, fn, d) {
  __throws(fn, (e) => {
    if (expected && typeof expected === 'object' && 'name' in expected && e && e.name !== expected.name) __fail('threw ' + __fmt(e), d);
  }, d);
}
async function __rejects(p, check, d) {
  let threw = false, e;
  try { await p; } catch (x) { threw = true; e = x; }
  if (!threw) __fail('did not reject', d);
  check(e);
}
function promise_rejects_js(t, C, p, d) {
  return __rejects(p, (e) => { if (!(e instanceof C) && !(e && e.name === C.name)) __fail('rejected with ' + __fmt(e) + ', expected ' + C.name, d); }, d);
}
function promise_rejects_exactly(t, v, p, d) { return __rejects(p, (e) => { if (!__same(e, v)) __fail('rejected with ' + __fmt(e), d); }, d); }
function promise_rejects_dom(t, name, p, d) {
  return __rejects(p, (e) => { if (!(e instanceof DOMException) || e.name !== name) __fail('rejected with ' + __fmt(e), d); }, d);
}
function promise_rejects(t, expected, p, d) {
  return __rejects(p, (e) => {
    if (expected && typeof expected === 'object' && 'name' in expected && !(e && e.name === expected.name)) __fail('rejected with ' + __fmt(e), d);
    else if (!(expected && typeof expected === 'object' && 'name' in expected) && !__same(e, expected)) __fail('rejected with ' + __fmt(e), d);
  }, d);
}
class __Test {
  constructor(name) { this.name = name; this.cleanups = []; this.error = null; this.resolve = null; }
  step(f, self, ...args) {
    try { return f.apply(self, args); } catch (e) { if (this.error === null) this.error = e; if (this.resolve) this.resolve(); throw e; }
  }
  step_func(f, self) { return (...a) => this.step(f, self === undefined ? this : self, ...a); }
  step_func_done(f, self) { return (...a) => { if (f) this.step(f, self, ...a); this.done(); }; }
  unreached_func(d) { return this.step_func(() => assert_unreached(d)); }
  step_timeout(f, ms) { return setTimeout(this.step_func(f), ms); }
  add_cleanup(f) { this.cleanups.push(f); }
  done() { if (this.resolve) this.resolve(); }
}
function test(fn, name) { __wptTests.push({ kind: 'sync', fn, name }); }
function promise_test(fn, name) { __wptTests.push({ kind: 'promise', fn, name }); }
function async_test(fn, name) {
  if (typeof fn === 'string') { name = fn; fn = null; }
  __wptTests.push({ kind: 'async', fn, name });
}
function done() {}
function setup() {}
function step_timeout(f, ms) { return setTimeout(f, ms); }
const __WPT_TIMEOUT_MS = 2000;
async function __runWpt() {
  const results = [];
  for (const t of __wptTests) {
    const tt = new __Test(t.name);
    let status = 'PASS', message = '';
    try {
      if (t.kind === 'sync') {
        t.fn.call(tt, tt);
      } else {
        let timer;
        const timeout = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('TIMEOUT')), __WPT_TIMEOUT_MS); });
        let body;
        if (t.kind === 'promise') body = Promise.resolve(t.fn.call(tt, tt));
        else body = new Promise((res) => { tt.resolve = res; if (t.fn) tt.step(t.fn, tt, tt); });
        try { await Promise.race([body, timeout]); } finally { clearTimeout(timer); }
        if (tt.error !== null) throw tt.error;
      }
    } catch (e) {
      status = e && e.message === 'TIMEOUT' ? 'TIMEOUT' : 'FAIL';
      message = String(e && e.message || e).slice(0, 300);
    }
    for (const c of tt.cleanups) { try { await c(); } catch (e) {} }
    results.push([t.name, status, message]);
  }
  return results;
}
