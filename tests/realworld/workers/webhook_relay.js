// A webhook relay: POSTed events are forwarded to the sink with a signature header.
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/hook') return new Response('Not found', { status: 404 });
    if (request.method !== 'POST') {
      return new Response('Method Not Allowed', { status: 405, headers: { allow: 'POST' } });
    }
    const body = await request.text();
    const type = request.headers.get('content-type') || 'application/octet-stream';
    const relayed = await fetch(`${env.UPSTREAM}/sink/relay`, {
      method: 'POST',
      body,
      headers: {
        'content-type': type,
        'x-relay-signature': fnv1a(body),
        'x-event': request.headers.get('x-event') || 'unknown',
      },
    });
    return Response.json(
      { relayed: relayed.status, bytes: body.length, signature: fnv1a(body) },
      { status: relayed.ok ? 202 : 502 },
    );
  },
};
