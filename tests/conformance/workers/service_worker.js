// Service-worker syntax: addEventListener('fetch', ...) and event.respondWith().
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.pathname === '/async') {
    event.respondWith((async () => {
      await null;
      return new Response('async ' + event.request.method);
    })());
  } else if (url.pathname === '/headers') {
    event.respondWith(new Response(JSON.stringify([...event.request.headers]), { headers: { 'x-sw': '1' } }));
  } else {
    event.respondWith(new Response(JSON.stringify({
      type: event.type,
      isFetchEvent: event instanceof FetchEvent,
      hasWaitUntil: typeof event.waitUntil,
      selfIsGlobal: self === globalThis,
      path: url.pathname,
    })));
  }
});
