// structuredClone of the value types, cycles, and the errors.
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, code: e.code, isDOMException: e instanceof DOMException };
  }
}
export default {
  fetch() {
    const cyclic = { name: 'root' };
    cyclic.self = cyclic;
    const c = structuredClone(cyclic);
    const m = structuredClone(new Map([['a', 1], [{ k: 1 }, [2]]]));
    const s = structuredClone(new Set([1, 'two', 1]));
    const d = structuredClone(new Date(86400000));
    const r = structuredClone(/ab+c/gi);
    const ta = structuredClone(new Uint8Array([1, 2, 3]));
    const nested = structuredClone({ a: [1, { b: [2, 3] }], u: undefined, n: null, big: 10n, neg0: -0, nan: NaN });
    const shared = { x: 1 };
    const twice = structuredClone([shared, shared]);
    const err = structuredClone(new RangeError('boom'));
    class K { constructor() { this.v = 1; } get g() { return 2; } }
    const inst = structuredClone(new K());
    return Response.json({
      cycle: c.self === c && c !== cyclic,
      map: [m instanceof Map, m.size, m.get('a')],
      set: [s instanceof Set, [...s]],
      date: [d instanceof Date, d.toISOString()],
      regexp: [r instanceof RegExp, r.source, r.flags],
      typed: [ta instanceof Uint8Array, [...ta]],
      nested: { a: nested.a, hasU: 'u' in nested, n: nested.n, big: typeof nested.big, neg0: Object.is(nested.neg0, -0), nan: Number.isNaN(nested.nan) },
      sharedIdentity: twice[0] === twice[1],
      error: [err instanceof RangeError, err.name, err.message],
      classInstance: [inst instanceof K, inst.v, inst.g, Object.keys(inst)],
      fn: attempt(() => structuredClone(() => 1)),
      symbol: attempt(() => structuredClone(Symbol('x'))),
      weakmap: attempt(() => structuredClone(new WeakMap())),
      primitives: [structuredClone(1), structuredClone('s'), structuredClone(true), structuredClone(null), structuredClone(undefined) === undefined],
      noArg: attempt(() => structuredClone()),
    });
  },
};
