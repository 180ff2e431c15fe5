// Constructing Requests inside the Worker.
function err(e) {
  return { error: e.name, isTypeError: e instanceof TypeError };
}
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return err(e);
  }
}
const routes = {
  '/methods': async () => {
    const out = {};
    for (const m of ['get', 'post', 'put', 'delete', 'head', 'options', 'patch', 'PATCH', 'Custom', 'propfind']) {
      out[m] = attempt(() => new Request('https://example.com/', { method: m }).method);
    }
    out.connect = attempt(() => new Request('https://example.com/', { method: 'CONNECT' }).method);
    out.trace = attempt(() => new Request('https://example.com/', { method: 'TRACE' }).method);
    out.bad = attempt(() => new Request('https://example.com/', { method: 'bad method' }).method);
    return out;
  },
  '/url-resolution': async () => ({
    abs: new Request('https://Example.COM:443/a/./b/../c?x#y').url,
    http: new Request('http://example.com:80').url,
    spaces: new Request('https://example.com/a b?c d').url,
  }),
  '/get-with-body': async () => ({
    get: attempt(() => new Request('https://example.com/', { method: 'GET', body: 'x' }).method),
    head: attempt(() => new Request('https://example.com/', { method: 'HEAD', body: 'x' }).method),
    post: attempt(() => new Request('https://example.com/', { method: 'POST', body: 'x' }).method),
  }),
  '/headers-init': async () => {
    const r = new Request('https://example.com/', { method: 'POST', body: 'abc', headers: [['X-A', '1'], ['x-a', '2']] });
    return { headers: [...r.headers], text: await r.text() };
  },
  '/clone-props': async () => {
    const r = new Request('https://example.com/p', { method: 'PUT', body: 'b', headers: { a: '1' } });
    const c = r.clone();
    return { url: c.url, method: c.method, headers: [...c.headers], text: await c.text(), orig: await r.text() };
  },
  '/from-request': async () => {
    const base = new Request('https://example.com/p', { method: 'POST', body: 'orig', headers: { a: '1' } });
    const r = new Request(base, { headers: { b: '2' } });
    return { url: r.url, method: r.method, headers: [...r.headers], text: await r.text(), baseUsed: base.bodyUsed };
  },
  '/bad-url': async () => ({
    relative: attempt(() => new Request('/relative').url),
    garbage: attempt(() => new Request('http://exa mple.com/').url),
  }),
  '/body-types': async () => {
    const out = {};
    const bodies = {
      string: 'str',
      params: new URLSearchParams('a=1'),
      bytes: new Uint8Array([65, 66]),
      buffer: new Uint8Array([67]).buffer,
      blob: new Blob(['blob'], { type: 'text/x' }),
    };
    for (const [k, b] of Object.entries(bodies)) {
      const r = new Request('https://example.com/', { method: 'POST', body: b });
      out[k] = { type: r.headers.get('content-type'), text: await r.text() };
    }
    return out;
  },
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? Response.json(await route()) : new Response('no route', { status: 404 });
  },
};
