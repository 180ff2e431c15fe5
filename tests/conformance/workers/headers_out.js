// Response headers as they go out on the wire: order, case, duplicates, set-cookie.
const routes = {
  '/object': () => new Response('x', { headers: { 'X-Zeta': 'z', 'x-alpha': 'a', 'Content-Type': 'text/plain', 'x-Mid': 'm' } }),
  '/pairs': () => new Response('x', { headers: [['x-b', '1'], ['X-A', '2'], ['x-b', '3'], ['x-a', '4']] }),
  '/headers-object': () => {
    const h = new Headers();
    h.set('X-Second', '2');
    h.set('X-First', '1');
    h.append('x-first', 'again');
    return new Response('x', { headers: h });
  },
  '/order': () => new Response('x', { headers: [['zz', '1'], ['aa', '2'], ['mm', '3'], ['Content-Type', 'text/x'], ['a-b', '4'], ['a', '5'], ['a_c', '6'], ['a.d', '7'], ['A0', '8']] }),
  '/case': () => new Response('x', { headers: [['X-UPPER', 'U'], ['x-lower', 'l'], ['X-Mixed-Case', 'M'], ['x-mixed-case', 'm2']] }),
  '/append-same': () => {
    const h = new Headers();
    h.append('X-A', '1');
    h.append('x-a', '2');
    h.append('X-A', '3');
    return new Response('x', { headers: h });
  },
  '/append-many': () => {
    const h = new Headers();
    for (const name of ['Vary', 'Cache-Control', 'Accept', 'Link', 'WWW-Authenticate', 'Content-Language', 'Allow', 'X-Custom', 'Access-Control-Allow-Headers', 'Via', 'Warning']) {
      h.append(name, 'one');
      h.append(name.toLowerCase(), 'two');
    }
    return new Response('x', { headers: h });
  },
  '/set-cookie': () => {
    const h = new Headers();
    h.append('Set-Cookie', 'a=1; Path=/; HttpOnly');
    h.append('Set-Cookie', 'b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT');
    h.append('set-cookie', 'c=3');
    h.append('X-After', 'z');
    return new Response('x', { headers: h });
  },
  '/set-cookie-case': () => {
    const h = new Headers();
    h.append('set-cookie', 'lower=1');
    h.append('SET-COOKIE', 'upper=2');
    return new Response('x', { headers: h });
  },
  '/set-overrides': () => {
    const h = new Headers({ 'X-A': '1' });
    h.append('x-a', '2');
    h.set('X-a', '3');
    return new Response('x', { headers: h });
  },
  '/delete': () => {
    const h = new Headers([['x-a', '1'], ['x-b', '2'], ['x-c', '3']]);
    h.delete('X-B');
    return new Response('x', { headers: h });
  },
  '/whitespace': () => new Response('x', { headers: [['x-pad', '  padded \t '], ['x-inner', 'a  b'], ['x-tab', '\tt']] }),
  '/empty-value': () => new Response('x', { headers: [['x-empty', ''], ['x-after', 'a']] }),
  '/content-type-set': () => {
    const r = new Response('x');
    r.headers.set('Content-Type', 'application/x-custom');
    r.headers.append('x-late', '1');
    return r;
  },
  '/latin1': () => new Response('x', { headers: [['x-latin', 'caf\u00e9'], ['x-high', '\u00ff\u00a0']] }),
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? route() : new Response('no route', { status: 404 });
  },
};
