// Reading the request body in each way, and the errors.
function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
const routes = {
  '/json': async (r) => {
    try {
      const data = await r.json();
      return { data, type: Array.isArray(data) ? 'array' : typeof data };
    } catch (e) {
      return { error: e.name, isSyntaxError: e instanceof SyntaxError };
    }
  },
  '/ab': async (r) => {
    const ab = await r.arrayBuffer();
    return { isArrayBuffer: ab instanceof ArrayBuffer, len: ab.byteLength, hex: hex(ab) };
  },
  '/clone': async (r) => {
    const c = r.clone();
    const a = await r.text();
    const b = await c.text();
    return { a, b, usedA: r.bodyUsed, usedC: c.bodyUsed, sameUrl: r.url === c.url, method: c.method };
  },
  '/used': async (r) => {
    const first = await r.text();
    let second;
    try {
      second = await r.text();
    } catch (e) {
      second = { error: e.name, isTypeError: e instanceof TypeError };
    }
    let cloneAfter;
    try {
      r.clone();
      cloneAfter = 'ok';
    } catch (e) {
      cloneAfter = { error: e.name };
    }
    return { first, second, cloneAfter, bodyUsed: r.bodyUsed };
  },
  '/form': async (r) => {
    const text = await r.text();
    return { text, params: [...new URLSearchParams(text)], type: r.headers.get('content-type') };
  },
  '/text': async (r) => {
    const text = await r.text();
    return { text, len: text.length, codes: [...text].map((c) => c.codePointAt(0)), hasBody: r.body !== null, bodyUsed: r.bodyUsed };
  },
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? Response.json(await route(request)) : new Response('no route', { status: 404 });
  },
};
