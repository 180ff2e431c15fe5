// A Basic-auth gate in front of an upstream API.
const USER = 'admin';
const PASS = 'open sesame';

function unauthorized(reason) {
  return new Response(reason, {
    status: 401,
    headers: { 'www-authenticate': 'Basic realm="edge", charset="UTF-8"', 'content-type': 'text/plain' },
  });
}

export default {
  async fetch(request, env) {
    const header = request.headers.get('authorization');
    if (!header) return unauthorized('credentials required');
    const [scheme, encoded] = header.split(' ');
    if (scheme !== 'Basic' || !encoded) return new Response('malformed authorization', { status: 400 });
    let decoded;
    try {
      decoded = atob(encoded);
    } catch (e) {
      return new Response(`bad base64: ${e.name}`, { status: 400 });
    }
    const i = decoded.indexOf(':');
    if (decoded.slice(0, i) !== USER || decoded.slice(i + 1) !== PASS) return unauthorized('wrong credentials');
    const r = await fetch(`${env.UPSTREAM}/api/config`, { headers: { 'x-authenticated-user': USER } });
    return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json', 'cache-control': 'private' } });
  },
};
