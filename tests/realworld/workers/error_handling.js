// Upstream failures turned into clean answers: 404 passthrough, 5xx to 502,
// unreachable upstream to 503, unparseable upstream JSON to 502.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const targets = {
      '/user': `${env.UPSTREAM}/api/users/${url.searchParams.get('id') || '1'}`,
      '/broken': `${env.UPSTREAM}/status/${url.searchParams.get('code') || '500'}`,
      '/down': `${env.CLOSED}/api/users/1`,
      '/not-json': `${env.UPSTREAM}/text`,
    };
    const target = targets[url.pathname];
    if (!target) return new Response('Not found', { status: 404 });
    let r;
    try {
      r = await fetch(target);
    } catch (e) {
      return Response.json({ error: 'upstream unreachable', name: e.name, message: e.message }, { status: 503 });
    }
    if (r.status === 404) {
      return Response.json({ error: 'not found', upstream: await r.json().catch(() => null) }, { status: 404 });
    }
    if (r.status >= 500) {
      return Response.json({ error: 'bad gateway', upstreamStatus: r.status, upstreamText: await r.text() }, { status: 502 });
    }
    try {
      return Response.json({ ok: true, data: await r.json() });
    } catch (e) {
      return Response.json({ error: 'upstream sent invalid JSON', name: e.name, isSyntaxError: e instanceof SyntaxError }, { status: 502 });
    }
  },
};
