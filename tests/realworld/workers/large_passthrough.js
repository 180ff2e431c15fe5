// Large bodies through the edge: a download passed through, and an upload forwarded.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/download') {
      const r = await fetch(`${env.UPSTREAM}/large?bytes=${url.searchParams.get('bytes') || '2000000'}`);
      return new Response(r.body, {
        headers: { 'content-type': r.headers.get('content-type'), 'content-disposition': 'attachment; filename="blob.bin"' },
      });
    }
    if (url.pathname === '/upload' && request.method === 'POST') {
      const r = await fetch(`${env.UPSTREAM}/echo/upload`, { method: 'POST', body: request.body });
      const seen = await r.json();
      return Response.json({ received: seen.bodyLength, headers: seen.headers });
    }
    return new Response('Not found', { status: 404 });
  },
};
