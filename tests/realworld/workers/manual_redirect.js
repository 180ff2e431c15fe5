// redirect: "manual": inspect the upstream's redirect and rewrite Location for our host.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const code = url.searchParams.get('code') || '302';
    const to = url.searchParams.get('to') || '/echo/next';
    const upstreamUrl = `${env.UPSTREAM}/redirect/${code}?to=${encodeURIComponent(to)}`;
    if (url.pathname === '/rewrite') {
      const r = await fetch(upstreamUrl, { redirect: 'manual' });
      if (r.status >= 300 && r.status < 400) {
        const location = new URL(r.headers.get('location'), env.UPSTREAM);
        const mine = new URL(location.pathname + location.search, url.origin);
        return new Response(null, { status: r.status, headers: { location: mine.href, 'x-upstream-status': String(r.status) } });
      }
      return new Response(r.body, r);
    }
    if (url.pathname === '/hops') {
      // follow by hand, counting hops, at most 5
      let next = `${env.UPSTREAM}/chain/${url.searchParams.get('n') || '3'}`;
      const hops = [];
      for (let i = 0; i < 5; i += 1) {
        const r = await fetch(next, { redirect: 'manual' });
        if (r.status < 300 || r.status >= 400) {
          return Response.json({ hops, final: await r.json() });
        }
        hops.push(r.headers.get('location'));
        next = new URL(r.headers.get('location'), next).href;
      }
      return Response.json({ hops, error: 'too many hops' }, { status: 508 });
    }
    if (url.pathname === '/follow') {
      const r = await fetch(upstreamUrl, { method: 'POST', body: 'payload' });
      const seen = await r.json();
      return Response.json({ status: r.status, redirected: r.redirected, method: seen.method, target: seen.target, body: seen.body });
    }
    return new Response('Not found', { status: 404 });
  },
};
