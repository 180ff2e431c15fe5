// Response bodies of every kind and the content-type each one implies.
const routes = {
  '/string': () => new Response('hello'),
  '/empty-string': () => new Response(''),
  '/unicode': () => new Response('héllo ✓ 😀 \u0000 end'),
  '/lone-surrogate': () => new Response('a\uD800b\uDC00c'),
  '/uint8array': () => new Response(new Uint8Array([0, 1, 2, 127, 128, 255])),
  '/arraybuffer': () => new Response(new Uint8Array([104, 105, 0, 200]).buffer),
  '/dataview': () => new Response(new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3)),
  '/null': () => new Response(null),
  '/undefined': () => new Response(undefined),
  '/no-args': () => new Response(),
  '/status-204': () => new Response(null, { status: 204 }),
  '/urlsearchparams': () => new Response(new URLSearchParams('a=1&b=x y&c=é')),
  '/blob': () => new Response(new Blob(['ab', 'cd'])),
  '/blob-typed': () => new Response(new Blob(['<p>hi</p>'], { type: 'text/html' })),
  '/string-with-type': () => new Response('{"a":1}', { headers: { 'content-type': 'application/json' } }),
  '/type-overrides-case': () => new Response('x', { headers: { 'Content-Type': 'text/csv' } }),
  '/json-string-body': () => new Response(JSON.stringify({ ok: true, n: 1.5, s: 'é' })),
  '/number-body': () => new Response(12345),
  '/object-body': () => new Response({ a: 1 }),
  '/int16array': () => new Response(new Int16Array([1, -1, 256])),
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? route() : new Response('no route', { status: 404 });
  },
};
