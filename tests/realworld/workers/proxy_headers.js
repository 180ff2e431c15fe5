// A header-rewriting reverse proxy: the incoming request goes upstream unchanged
// (method, headers, body), with one header added; the response loses internal headers.
const STRIP = ['x-powered-by', 'x-internal-token'];

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, env.UPSTREAM);
    const upstreamRequest = new Request(target, request);
    upstreamRequest.headers.set('x-forwarded-host', url.host);
    upstreamRequest.headers.delete('cookie');
    const response = await fetch(upstreamRequest);
    const out = new Response(response.body, response);
    for (const name of STRIP) out.headers.delete(name);
    out.headers.set('x-proxied-by', 'edge-proxy');
    out.headers.append('vary', 'Origin');
    return out;
  },
};
