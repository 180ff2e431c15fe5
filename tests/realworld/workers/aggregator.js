// An API aggregator: one client call, two upstream calls in parallel, one merged answer.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const m = url.pathname.match(/^\/profile\/(\w+)$/);
    if (m) {
      const [userRes, postsRes] = await Promise.all([
        fetch(`${env.UPSTREAM}/api/users/${m[1]}`),
        fetch(`${env.UPSTREAM}/api/posts?userId=${m[1]}`),
      ]);
      if (!userRes.ok) {
        return Response.json({ error: 'unknown user', upstreamStatus: userRes.status }, { status: 404 });
      }
      const [user, posts] = await Promise.all([userRes.json(), postsRes.json()]);
      const likes = posts.reduce((sum, p) => sum + p.likes, 0);
      return Response.json(
        { user: { id: user.id, name: user.name }, posts: posts.map((p) => p.title), likes },
        { headers: { 'cache-control': 'private, max-age=30', etag: userRes.headers.get('etag') } },
      );
    }
    if (url.pathname === '/dashboard') {
      const results = await Promise.allSettled([
        fetch(`${env.UPSTREAM}/api/users`).then((r) => r.json()),
        fetch(`${env.UPSTREAM}/api/config`).then((r) => r.json()),
        fetch(`${env.CLOSED}/api/down`).then((r) => r.json()),
      ]);
      const [users, config, down] = results;
      return Response.json({
        userCount: users.status === 'fulfilled' ? users.value.length : null,
        version: config.status === 'fulfilled' ? config.value.version : null,
        down: down.status === 'rejected' ? `${down.reason.name}: ${down.reason.message}` : 'up',
      });
    }
    return new Response('Not found', { status: 404 });
  },
};
