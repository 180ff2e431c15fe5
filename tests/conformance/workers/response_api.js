// The Response object inside the Worker.
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, isTypeError: e instanceof TypeError };
  }
}
const routes = {
  '/props': async () => {
    const r = new Response('body', { status: 202, statusText: 'Accepted!', headers: { 'x-a': '1' } });
    return { status: r.status, statusText: r.statusText, ok: r.ok, type: r.type, url: r.url, redirected: r.redirected, bodyUsed: r.bodyUsed, headers: [...r.headers], hasBody: r.body !== null };
  },
  '/clone': async () => {
    const r = new Response('twice', { status: 201 });
    const c = r.clone();
    return { a: await r.text(), b: await c.text(), status: c.status };
  },
  '/body-used': async () => {
    const r = new Response('once');
    await r.text();
    let again;
    try {
      await r.text();
      again = 'ok';
    } catch (e) {
      again = { error: e.name, isTypeError: e instanceof TypeError };
    }
    return { again, used: r.bodyUsed, clone: attempt(() => r.clone()) };
  },
  '/text-json': async () => ({
    json: await new Response('{"x":[1]}').json(),
    text: await new Response(new Uint8Array([0xe2, 0x9c, 0x93, 0xff])).text(),
  }),
  '/array-buffer': async () => {
    const ab = await new Response('é').arrayBuffer();
    return { len: ab.byteLength, bytes: [...new Uint8Array(ab)] };
  },
  '/error': async () => {
    const r = Response.error();
    return { status: r.status, type: r.type, ok: r.ok, statusText: r.statusText, headers: [...r.headers] };
  },
  '/headers-mutable': async () => {
    const r = new Response('x');
    r.headers.set('x-added', '1');
    return [...r.headers];
  },
  '/null-body-status': async () => ({
    s204: attempt(() => new Response('x', { status: 204 }).status),
    s205: attempt(() => new Response('x', { status: 205 }).status),
    s304: attempt(() => new Response('x', { status: 304 }).status),
    s204null: attempt(() => new Response(null, { status: 204 }).status),
    s204empty: attempt(() => new Response('', { status: 204 }).status),
  }),
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? Response.json(await route()) : new Response('no route', { status: 404 });
  },
};
