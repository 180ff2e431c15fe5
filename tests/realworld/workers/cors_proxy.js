// A CORS proxy: answers preflights itself, forwards the rest and adds CORS headers.
const ALLOWED = new Set(['https://app.example.com', 'http://localhost:3000']);

function corsHeaders(origin) {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'access-control-allow-headers': 'content-type, authorization, x-requested-with',
    'access-control-max-age': '86400',
    vary: 'Origin',
  };
}

export default {
  async fetch(request, env) {
    const origin = request.headers.get('origin');
    if (origin && !ALLOWED.has(origin)) {
      return new Response('origin not allowed', { status: 403 });
    }
    if (request.method === 'OPTIONS') {
      if (origin && request.headers.get('access-control-request-method')) {
        return new Response(null, { status: 204, headers: corsHeaders(origin) });
      }
      return new Response(null, { headers: { allow: 'GET, POST, PUT, DELETE, OPTIONS' } });
    }
    const url = new URL(request.url);
    const upstream = await fetch(new URL(url.pathname.replace(/^\/proxy/, '') + url.search, env.UPSTREAM), {
      method: request.method,
      headers: { 'content-type': request.headers.get('content-type') || 'text/plain' },
      body: ['GET', 'HEAD'].includes(request.method) ? undefined : await request.arrayBuffer(),
    });
    const response = new Response(upstream.body, upstream);
    if (origin) {
      response.headers.set('access-control-allow-origin', origin);
      response.headers.append('vary', 'Origin');
      response.headers.set('access-control-expose-headers', 'x-upstream');
    }
    return response;
  },
};
