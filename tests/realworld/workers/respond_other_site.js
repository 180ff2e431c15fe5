// Respond with another site: fetch the upstream page and rewrite its text for our host.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const page = url.pathname === '/' ? '/html' : url.pathname;
    const upstream = await fetch(env.UPSTREAM + page + url.search);
    const type = upstream.headers.get('content-type') || '';
    if (!type.startsWith('text/')) {
      return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': type } });
    }
    const text = (await upstream.text())
      .replaceAll('http://upstream.example', url.origin)
      .replaceAll('Upstream Shop', 'Edge Shop');
    return new Response(text, {
      status: upstream.status,
      headers: { 'content-type': type, 'x-rewritten': 'true' },
    });
  },
};
