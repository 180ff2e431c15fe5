// fetch() to the loopback upstream (env.UPSTREAM): methods, bodies, headers, responses.
function errorInfo(e) {
  return { name: e && e.name, message: e && e.message, isTypeError: e instanceof TypeError };
}

async function echo(env, init, path = '/echo') {
  const r = await fetch(env.UPSTREAM + path, init);
  return r.json();
}

function describe(r) {
  return {
    status: r.status, statusText: r.statusText, ok: r.ok, redirected: r.redirected,
    type: r.type, urlPath: r.url ? new URL(r.url).pathname : r.url,
    headers: [...r.headers], bodyUsed: r.bodyUsed, hasBody: r.body !== null,
  };
}

const routes = {
  async '/methods'(env) {
    const out = {};
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'post', 'Custom']) {
      const init = { method };
      if (!['GET', 'get', 'OPTIONS'].includes(method)) init.body = 'b-' + method;
      try {
        const r = await fetch(env.UPSTREAM + '/echo/m', init);
        out[method] = { status: r.status, echo: await r.json() };
      } catch (e) {
        out[method] = errorInfo(e);
      }
    }
    const head = await fetch(env.UPSTREAM + '/echo/head', { method: 'HEAD' });
    out.HEAD = { status: head.status, text: await head.text(), ctype: head.headers.get('content-type') };
    return out;
  },
  async '/bodies'(env) {
    const bodies = {
      string: 'plain string ✓',
      uint8: new Uint8Array([0, 1, 2, 253, 254, 255]),
      arraybuffer: new Uint8Array([104, 105]).buffer,
      dataview: new DataView(new Uint8Array([1, 2, 3]).buffer),
      params: new URLSearchParams({ a: '1', b: 'x y', c: 'é&=' }),
      blob: new Blob(['blob ', 'parts'], { type: 'text/x-blob' }),
      emptyString: '',
      json: JSON.stringify({ hello: 'world', n: [1, 2] }),
    };
    const out = {};
    for (const [label, body] of Object.entries(bodies)) {
      out[label] = await echo(env, { method: 'POST', body });
    }
    out.jsonTyped = await echo(env, {
      method: 'POST', body: JSON.stringify({ typed: true }), headers: { 'content-type': 'application/json' },
    });
    out.paramsOverride = await echo(env, {
      method: 'PUT', body: new URLSearchParams('q=1'), headers: { 'Content-Type': 'text/plain' },
    });
    return out;
  },
  async '/request-body'(env) {
    const req = new Request(env.UPSTREAM + '/echo/req', {
      method: 'POST', body: 'from a Request', headers: { 'x-from': 'request' },
    });
    const a = await (await fetch(req)).json();
    // init overrides the Request's fields
    const req2 = new Request(env.UPSTREAM + '/echo/req2', { method: 'PUT', body: 'original', headers: { 'x-a': '1' } });
    const b = await (await fetch(req2, { headers: { 'x-b': '2' } })).json();
    // a Request made from another one with a new URL
    const base = new Request(env.UPSTREAM + '/x', { method: 'PATCH', body: 'copied', headers: { 'x-c': '3' } });
    const c = await (await fetch(new Request(env.UPSTREAM + '/echo/req3', base))).json();
    const viaUrl = await (await fetch(new URL('/echo/url-object?z=1', env.UPSTREAM))).json();
    let bodyUsedError = null;
    const once = new Request(env.UPSTREAM + '/echo/once', { method: 'POST', body: 'once' });
    await fetch(once);
    try {
      await fetch(once);
    } catch (e) {
      bodyUsedError = errorInfo(e);
    }
    return { a, b, c, viaUrl, bodyUsed: once.bodyUsed, bodyUsedError };
  },
  async '/headers'(env) {
    const object = await echo(env, { headers: { 'X-One': '1', 'x-two': 'two', Accept: 'application/json' } });
    const pairs = await echo(env, { headers: [['x-dup', 'a'], ['X-Dup', 'b'], ['x-other', 'c']] });
    const h = new Headers();
    h.append('x-h', 'v1');
    h.set('user-agent', 'my-worker/1.0');
    h.append('cookie', 'a=1');
    h.append('cookie', 'b=2');
    const headersObj = await echo(env, { headers: h });
    const hostOverride = await echo(env, { headers: { host: 'example.com', 'x-keep': 'yes' } });
    return { object, pairs, headersObj, hostOverride };
  },
  async '/response'(env) {
    const r = await fetch(env.UPSTREAM + '/api/users/2');
    const d = describe(r);
    const json = await r.json();
    const used = r.bodyUsed;
    let again;
    try {
      await r.text();
    } catch (e) {
      again = errorInfo(e);
    }
    const t = await fetch(env.UPSTREAM + '/text');
    const text = await t.text();
    const ab = await (await fetch(env.UPSTREAM + '/text')).arrayBuffer();
    const cl = await fetch(env.UPSTREAM + '/api/config');
    const copy = cl.clone();
    return {
      describe: d, json, used, again, text,
      ab: { type: Object.prototype.toString.call(ab), byteLength: ab.byteLength, first: new Uint8Array(ab)[0] },
      clone: [await cl.json(), await copy.text()],
      blob: await (await fetch(env.UPSTREAM + '/text')).blob().then((b) => ({ size: b.size, type: b.type })),
    };
  },
  async '/statuses'(env) {
    const out = {};
    for (const code of [200, 201, 204, 304, 400, 401, 403, 404, 418, 429, 500, 502, 503]) {
      const r = await fetch(env.UPSTREAM + '/status/' + code);
      out[code] = { ...describe(r), text: await r.text() };
    }
    const missing = await fetch(env.UPSTREAM + '/api/users/99');
    out.missingUser = { status: missing.status, json: await missing.json() };
    return out;
  },
  async '/large'(env) {
    const r = await fetch(env.UPSTREAM + '/large?bytes=1048577');
    const buf = new Uint8Array(await r.arrayBuffer());
    let sum = 0;
    for (let i = 0; i < buf.length; i += 1) sum = (sum * 31 + buf[i]) >>> 0;
    // posting a large body too
    const big = 'x'.repeat(300000);
    const e = await echo(env, { method: 'POST', body: big });
    return { length: buf.length, sum, last: buf[buf.length - 1], posted: e.bodyLength, headers: e.headers };
  },
  async '/cookies'(env) {
    const r = await fetch(env.UPSTREAM + '/cookies');
    return {
      getSetCookie: r.headers.getSetCookie(),
      get: r.headers.get('set-cookie'),
      entries: [...r.headers],
      text: await r.text(),
    };
  },
  async '/gzip'(env) {
    const r = await fetch(env.UPSTREAM + '/gzip');
    const text = await r.text();
    return { status: r.status, encoding: r.headers.get('content-encoding'), length: text.length, start: text.slice(0, 17) };
  },
  async '/errors'(env) {
    const out = {};
    const attempts = {
      closedPort: () => fetch(env.CLOSED + '/anything'),
      closedPortPost: () => fetch(env.CLOSED + '/anything', { method: 'POST', body: 'x' }),
      notAUrl: () => fetch('not a url'),
      relative: () => fetch('/relative/path'),
      unsupportedScheme: () => fetch('ftp://127.0.0.1/file'),
      getWithBody: () => fetch(env.UPSTREAM + '/echo', { method: 'GET', body: 'no' }),
      badMethod: () => fetch(env.UPSTREAM + '/echo', { method: 'BAD METHOD' }),
      badHeader: () => fetch(env.UPSTREAM + '/echo', { headers: { 'bad name': 'x' } }),
      noArgs: () => fetch(),
    };
    for (const [label, attempt] of Object.entries(attempts)) {
      try {
        const r = await attempt();
        out[label] = { resolved: r.status };
      } catch (e) {
        out[label] = errorInfo(e);
      }
    }
    return out;
  },
  // RequestInit members Workers code passes around: which are accepted, which throw.
  async '/init-extras'(env) {
    const out = {};
    const inits = {
      cf: { cf: { cacheTtl: 60, cacheEverything: true } },
      cacheNoStore: { cache: 'no-store' },
      cacheNoCache: { cache: 'no-cache' },
      cacheDefault: { cache: 'default' },
      modeCors: { mode: 'cors' },
      credentialsInclude: { credentials: 'include' },
      keepalive: { keepalive: true },
      integrity: { integrity: '' },
      referrer: { referrer: 'https://example.com/' },
      referrerPolicy: { referrerPolicy: 'no-referrer' },
      priority: { priority: 'high' },
      duplex: { method: 'POST', body: 'd', duplex: 'half' },
      signalNull: { signal: null },
      windowNull: { window: null },
      unknownKey: { somethingElse: 1 },
    };
    for (const [label, init] of Object.entries(inits)) {
      try {
        const r = await fetch(env.UPSTREAM + '/echo/init', init);
        const seen = await r.json();
        out[label] = { status: r.status, headers: seen.headers.filter(([k]) => k !== 'host') };
      } catch (e) {
        out[label] = errorInfo(e);
      }
    }
    return out;
  },
  async '/concurrent'(env) {
    const ids = [1, 2, 3, 4, 5];
    const users = await Promise.all(ids.map((id) => fetch(`${env.UPSTREAM}/api/users/${id}`).then((r) => r.json())));
    return users.map((u) => u.name);
  },
};

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response('no route', { status: 404 });
    return Response.json(await route(env));
  },
};
