// Service-worker syntax failures.
addEventListener('fetch', (event) => {
  const { pathname } = new URL(event.request.url);
  if (pathname === '/throw') throw new Error('listener threw');
  if (pathname === '/reject') {
    event.respondWith(Promise.reject(new Error('rejected')));
    return;
  }
  event.respondWith(new Response('ok'));
});
