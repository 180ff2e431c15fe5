// A versioned API gateway: /v1/... maps to the upstream's /api/..., injects a key,
// tags responses, and refuses unknown versions.
const VERSIONS = { v1: '/api', v2: '/api' };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, version, ...rest] = url.pathname.split('/');
    if (!(version in VERSIONS)) {
      return Response.json({ error: `unknown API version ${version || '(none)'}` }, { status: 400 });
    }
    const headers = new Headers(request.headers);
    headers.set('x-api-key', 'k-123');
    headers.delete('host');
    const r = await fetch(`${env.UPSTREAM}${VERSIONS[version]}/${rest.join('/')}${url.search}`, {
      method: request.method,
      headers,
    });
    const out = new Response(r.body, r);
    out.headers.set('x-api-version', version);
    if (version === 'v1') out.headers.set('deprecation', 'true');
    return out;
  },
};
