// The Headers API, echoed as JSON.
function err(e) {
  return { error: e.name, message: e.message, isTypeError: e instanceof TypeError };
}
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return err(e);
  }
}
const sample = () => new Headers([
  ['X-Zeta', '1'], ['x-alpha', '2'], ['Set-Cookie', 'a=1'], ['X-Alpha', '3'], ['set-cookie', 'b=2'], ['Accept', 'text/html'], ['content-type', 'text/plain'],
]);
const routes = {
  '/iterate': () => [...sample()],
  '/keys-values': () => ({ keys: [...sample().keys()], values: [...sample().values()], entries: [...sample().entries()] }),
  '/foreach': () => {
    const out = [];
    sample().forEach((v, k, h) => out.push([k, v, h instanceof Headers]));
    return out;
  },
  '/get-combined': () => {
    const h = sample();
    return { alpha: h.get('X-ALPHA'), cookie: h.get('set-cookie'), missing: h.get('nope'), ctype: h.get('Content-Type') };
  },
  '/get-set-cookie': () => {
    const h = sample();
    return { list: h.getSetCookie(), empty: new Headers().getSetCookie() };
  },
  '/has-delete': () => {
    const h = sample();
    const before = h.has('X-ZETA');
    h.delete('x-zeta');
    h.delete('set-cookie');
    return { before, after: h.has('x-zeta'), rest: [...h] };
  },
  '/invalid-name': () => ({
    space: attempt(() => new Headers([['bad name', 'x']])),
    colon: attempt(() => new Headers({ 'a:b': 'x' })),
    empty: attempt(() => new Headers({ '': 'x' })),
    unicode: attempt(() => new Headers({ 'é': 'x' })),
    get: attempt(() => new Headers().get('bad name')),
  }),
  '/invalid-value': () => ({
    newline: attempt(() => new Headers({ a: 'x\ny' })),
    cr: attempt(() => new Headers({ a: 'x\ry' })),
    nul: attempt(() => new Headers({ a: 'x\0y' })),
    nonLatin1: attempt(() => new Headers({ a: '✓' })),
  }),
  '/constructor-forms': () => ({
    record: [...new Headers({ B: '1', a: '2' })],
    pairs: [...new Headers([['B', '1'], ['a', '2']])],
    copy: [...new Headers(new Headers({ x: '1' }))],
    badPair: attempt(() => new Headers([['a', 'b', 'c']])),
    numbers: [...new Headers({ n: 1, b: true, u: undefined, o: null })],
    iterable: [...new Headers(new Map([['m', 'v']]))],
  }),
  '/guard-request': () => {
    const r = new Request('https://example.com/', { headers: { a: '1' } });
    r.headers.set('b', '2');
    return [...r.headers];
  },
  '/guard-response': () => {
    const r = new Response('x', { headers: { a: '1' } });
    r.headers.append('set-cookie', 's=1');
    return [...r.headers];
  },
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? Response.json(route()) : new Response('no route', { status: 404 });
  },
};
