// A JSON API with an upstream deadline: AbortSignal.timeout or a setTimeout race,
// and a fallback answer when the upstream is too slow or down.
const FALLBACK = { source: 'fallback', items: [] };

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const delay = Number(url.searchParams.get('delay') ?? '0');
    const upstreamUrl = `${env.UPSTREAM}/slow?ms=${delay}`;
    if (url.pathname === '/signal') {
      try {
        const r = await fetch(upstreamUrl, { signal: AbortSignal.timeout(150) });
        return Response.json({ source: 'upstream', data: await r.json() });
      } catch (e) {
        return Response.json({ ...FALLBACK, reason: e.name }, { headers: { 'x-fallback': e.name } });
      }
    }
    if (url.pathname === '/race') {
      try {
        const r = await withTimeout(fetch(upstreamUrl), 150);
        return Response.json({ source: 'upstream', data: await r.json() });
      } catch (e) {
        return Response.json({ ...FALLBACK, reason: e.message }, { status: 200, headers: { 'x-fallback': 'race' } });
      }
    }
    if (url.pathname === '/down') {
      try {
        await fetch(`${env.CLOSED}/api`, { signal: AbortSignal.timeout(1000) });
        return Response.json({ source: 'upstream' });
      } catch (e) {
        return Response.json({ ...FALLBACK, reason: e.name }, { status: 503, headers: { 'retry-after': '5' } });
      }
    }
    return new Response('Not found', { status: 404 });
  },
};
