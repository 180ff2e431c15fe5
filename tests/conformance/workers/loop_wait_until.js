// ctx.waitUntil: the response goes out first; the waited work reaches the webhook sink.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let fired = false;

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === '/timer-then-post') {
      fired = false;
      ctx.waitUntil((async () => {
        await sleep(50);
        fired = true;
        await fetch(env.UPSTREAM + '/sink/timer', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ event: 'after-timer', fired }),
        });
      })());
      return Response.json({ firedBeforeResponse: fired });
    }
    if (pathname === '/two') {
      ctx.waitUntil(fetch(env.UPSTREAM + '/sink/one', { method: 'POST', body: 'first' }).then(async () => {
        await sleep(10);
        await fetch(env.UPSTREAM + '/sink/two', { method: 'PUT', body: 'second' });
      }));
      ctx.waitUntil(Promise.reject(new Error('a failed waitUntil does not affect the response')));
      return new Response('sent', { headers: { 'x-wait': 'two' } });
    }
    if (pathname === '/returns-value') {
      const r = ctx.waitUntil(sleep(1));
      return Response.json({ returned: String(r) });
    }
    return new Response('no route', { status: 404 });
  },
};
