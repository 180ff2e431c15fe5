// Bulk redirects: a generated rule table (exact paths and prefixes), query kept.
const RULES = [];
for (let i = 1; i <= 40; i += 1) RULES.push({ from: `/promo/${i}`, to: `/offers/${i}?src=promo`, status: 301 });
RULES.push({ prefix: '/legacy/', to: 'https://new.example.com/archive/', status: 308 });
RULES.push({ prefix: '/kb/', to: '/help/', status: 302 });
RULES.push({ from: '/ünïcode', to: '/unicode', status: 301 });

function match(pathname) {
  for (const rule of RULES) {
    if (rule.from && rule.from === pathname) return [rule.to, rule.status];
    if (rule.prefix && pathname.startsWith(rule.prefix)) {
      return [rule.to + pathname.slice(rule.prefix.length), rule.status];
    }
  }
  return null;
}

export default {
  fetch(request) {
    const url = new URL(request.url);
    const found = match(decodeURIComponent(url.pathname));
    if (!found) return new Response(`no redirect for ${url.pathname}`, { status: 404 });
    const target = new URL(found[0], url.origin);
    for (const [k, v] of url.searchParams) target.searchParams.set(k, v);
    return new Response(null, { status: found[1], headers: { location: target.href, 'cache-control': 'max-age=3600' } });
  },
};
