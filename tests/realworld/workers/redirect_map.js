// A redirect map: known short paths redirect, everything else passes through upstream.
const MAP = new Map([
  ['/docs', ['https://docs.example.com/', 301]],
  ['/blog', ['https://blog.example.com/latest', 302]],
  ['/old-pricing', ['/pricing', 308]],
  ['/signup', ['https://app.example.com/register?ref=edge', 307]],
]);

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const hit = MAP.get(url.pathname.replace(/\/+$/, '') || '/');
    if (hit) {
      const [to, status] = hit;
      const location = new URL(to, url.origin);
      for (const [k, v] of url.searchParams) location.searchParams.append(k, v);
      return Response.redirect(location.toString(), status);
    }
    const upstream = await fetch(new URL(url.pathname + url.search, env.UPSTREAM));
    return new Response(upstream.body, upstream);
  },
};
