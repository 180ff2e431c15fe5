// Cache-aside with expiry: a module-level Map in front of the upstream, entries expire
// by Date.now() and are evicted by a timer. Each request uses its own keys (a
// per-isolate sequence number) so answers do not depend on earlier requests.
const cache = new Map();
let seq = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function cached(key, url, ttlMs, log) {
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) {
    log.push(`HIT ${key.split('#')[0]}`);
    return hit.value;
  }
  log.push(hit ? `EXPIRED ${key.split('#')[0]}` : `MISS ${key.split('#')[0]}`);
  const value = await (await fetch(url)).json();
  cache.set(key, { value, expires: Date.now() + ttlMs });
  setTimeout(() => {
    const entry = cache.get(key);
    if (entry && entry.expires <= Date.now()) cache.delete(key);
  }, ttlMs + 20);
  return value;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const id = url.searchParams.get('id') || '1';
    const ttl = Number(url.searchParams.get('ttl') || '40');
    const key = `user:${id}#${(seq += 1)}`;
    const log = [];
    const first = await cached(key, `${env.UPSTREAM}/api/users/${id}`, ttl, log);
    const second = await cached(key, `${env.UPSTREAM}/api/users/${id}`, ttl, log);
    if (url.pathname === '/expire') {
      await sleep(ttl + 5);
      await cached(key, `${env.UPSTREAM}/api/users/${id}`, ttl, log);
      await sleep(ttl + 60); // the eviction timer (ttl + 20 after the refill) has run
      log.push(cache.has(key) ? 'still cached' : 'evicted');
    }
    return Response.json({ name: first.name ?? first.error, same: first === second, log });
  },
};
