// Fetch JSON and transform it: counts, grouping, a derived field.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/summary') {
      const [users, posts] = await Promise.all([
        fetch(`${env.UPSTREAM}/api/users`).then((r) => r.json()),
        fetch(`${env.UPSTREAM}/api/posts`).then((r) => r.json()),
      ]);
      const byTeam = {};
      for (const u of users) (byTeam[u.team] ||= []).push(u.name.split(' ')[0]);
      const top = [...posts].sort((a, b) => b.likes - a.likes || a.id - b.id).slice(0, 3);
      return Response.json({
        users: users.length,
        posts: posts.length,
        byTeam,
        top: top.map((p) => ({ title: p.title.toUpperCase(), likes: p.likes })),
        emailDomains: [...new Set(users.map((u) => u.email.split('@')[1]))],
      });
    }
    const m = url.pathname.match(/^\/initials\/(\d+)$/);
    if (m) {
      const r = await fetch(`${env.UPSTREAM}/api/users/${m[1]}`);
      if (r.status === 404) return Response.json({ error: 'not found' }, { status: 404 });
      const u = await r.json();
      return new Response(u.name.split(' ').map((w) => w[0]).join('.') + '.', {
        headers: { 'content-type': 'text/plain; charset=utf-8', etag: r.headers.get('etag') },
      });
    }
    return new Response('Not found', { status: 404 });
  },
};
