// Request logging with ctx.waitUntil: the client gets its answer at once; the log
// line goes to the sink afterwards (after a short batching delay).
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const response = url.pathname === '/missing'
      ? new Response('Not found', { status: 404 })
      : Response.json({ hello: url.searchParams.get('name') || 'world' });
    const entry = {
      method: request.method,
      path: url.pathname,
      query: url.search,
      status: response.status,
      ua: request.headers.get('user-agent'),
    };
    ctx.waitUntil((async () => {
      await sleep(20);
      await fetch(`${env.UPSTREAM}/sink/log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(entry),
      });
    })());
    return response;
  },
};
