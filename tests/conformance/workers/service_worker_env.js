// Service-worker syntax: text bindings are globals (no env argument).
addEventListener('fetch', (event) => {
  event.respondWith(new Response(JSON.stringify({
    greeting: typeof GREETING === 'undefined' ? null : GREETING,
    onGlobal: typeof globalThis.GREETING,
  })));
});
