// Service-worker syntax (the older style many Workers still use): bindings are globals,
// event.respondWith answers, event.waitUntil reports to the sink after the answer.
addEventListener('fetch', (event) => {
  event.respondWith(handle(event));
});

async function handle(event) {
  const url = new URL(event.request.url);
  if (url.pathname === '/health') return new Response('ok');
  const upstream = await fetch(UPSTREAM + '/api' + url.pathname + url.search, {
    headers: { accept: 'application/json' },
  });
  event.waitUntil(
    fetch(UPSTREAM + '/sink/sw', {
      method: 'POST',
      body: `${event.request.method} ${url.pathname} -> ${upstream.status}`,
    }),
  );
  const data = await upstream.json();
  return new Response(JSON.stringify({ data, via: 'service-worker' }), {
    status: upstream.status,
    headers: { 'content-type': 'application/json', 'x-handled-by': 'sw' },
  });
}
