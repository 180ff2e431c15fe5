// Retry with exponential backoff (setTimeout) on 5xx answers from the upstream.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchWithRetry(url, { retries, baseMs }) {
  const attempts = [];
  for (let i = 0; ; i += 1) {
    const r = await fetch(url);
    attempts.push(r.status);
    if (r.status < 500 || i >= retries) return { r, attempts };
    await sleep(baseMs * 2 ** i);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const fail = url.searchParams.get('fail') || '2';
    const retries = Number(url.searchParams.get('retries') || '3');
    const key = url.pathname.slice(1) || 'root';
    const { r, attempts } = await fetchWithRetry(`${env.UPSTREAM}/flaky/${key}?fail=${fail}`, { retries, baseMs: 5 });
    const body = await r.json();
    if (!r.ok) return Response.json({ error: 'upstream kept failing', attempts }, { status: 502 });
    return Response.json({ attempts, body }, { headers: { 'x-attempts': String(attempts.length) } });
  },
};
