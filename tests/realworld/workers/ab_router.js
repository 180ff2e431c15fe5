// An A/B router: the "ab" cookie picks the variant; without it, a stable hash of the
// user id assigns one and the response sets the cookie.
function getCookie(request, name) {
  const header = request.headers.get('cookie') || '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

function bucket(id) {
  let h = 7;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 1000;
  return h % 2 === 0 ? 'a' : 'b';
}

export default {
  async fetch(request, env) {
    let variant = getCookie(request, 'ab');
    let assigned = false;
    if (variant !== 'a' && variant !== 'b') {
      variant = bucket(request.headers.get('x-user-id') || 'anonymous');
      assigned = true;
    }
    const path = new URL(request.url).pathname;
    const upstream = await fetch(`${env.UPSTREAM}/echo/variant-${variant}${path}`);
    const seen = await upstream.json();
    const response = Response.json({ variant, assigned, upstreamTarget: seen.target });
    if (assigned) response.headers.append('set-cookie', `ab=${variant}; Path=/; Max-Age=86400`);
    response.headers.set('x-variant', variant);
    return response;
  },
};
