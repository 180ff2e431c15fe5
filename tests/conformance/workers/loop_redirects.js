// fetch() and redirects: follow (default), manual and error, for each redirect status.
function errorInfo(e) {
  return { name: e && e.name, message: e && e.message };
}

function brief(r) {
  return {
    status: r.status, redirected: r.redirected, type: r.type,
    urlPath: r.url ? new URL(r.url).pathname : r.url,
    location: r.headers.get('location'),
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, mode, code] = url.pathname.split('/');
    const U = env.UPSTREAM;
    if (mode === 'follow' || mode === 'manual' || mode === 'error') {
      const target = url.searchParams.get('abs') ? `${U}/echo/abs` : '/echo/rel';
      const out = {};
      for (const method of ['GET', 'POST', 'PUT']) {
        const init = { method, redirect: mode, headers: { 'x-redirect-test': method } };
        if (method !== 'GET') init.body = `body of ${method}`;
        try {
          const r = await fetch(`${U}/redirect/${code}?to=${encodeURIComponent(target)}`, init);
          const text = await r.text();
          out[method] = { ...brief(r), body: text.startsWith('{') ? JSON.parse(text) : text };
        } catch (e) {
          out[method] = errorInfo(e);
        }
      }
      return Response.json(out);
    }
    if (mode === 'chain') {
      const n = Number(code);
      try {
        const r = await fetch(`${U}/chain/${n}`);
        return Response.json({ ...brief(r), body: await r.json() });
      } catch (e) {
        return Response.json(errorInfo(e));
      }
    }
    if (mode === 'odd') {
      const out = {};
      const cases = {
        noLocation: `${U}/status/302`,
        toClosedPort: `${U}/redirect/302?to=${encodeURIComponent(env.CLOSED + '/x')}`,
        toBadScheme: `${U}/redirect/302?to=${encodeURIComponent('ftp://127.0.0.1/x')}`,
        queryAndFragment: `${U}/redirect/301?to=${encodeURIComponent('/echo/q?a=1#frag')}`,
        dotSegments: `${U}/redirect/302?to=${encodeURIComponent('../echo/./dots')}`,
      };
      for (const [label, u] of Object.entries(cases)) {
        try {
          const r = await fetch(u);
          const text = await r.text();
          out[label] = { ...brief(r), body: text.startsWith('{') ? JSON.parse(text) : text };
        } catch (e) {
          out[label] = errorInfo(e);
        }
      }
      try {
        await fetch(`${U}/echo`, { redirect: 'bogus' });
        out.badMode = 'accepted';
      } catch (e) {
        out.badMode = errorInfo(e);
      }
      return Response.json(out);
    }
    return new Response('no route', { status: 404 });
  },
};
