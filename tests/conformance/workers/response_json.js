// Response.json(data, init)
const routes = {
  '/plain': () => Response.json({ a: 1, b: [true, null], c: 'x' }),
  '/init': () => Response.json({ created: true }, { status: 201, statusText: 'Made', headers: { 'x-a': '1', 'X-B': '2' } }),
  '/override-type': () => Response.json([1], { headers: { 'content-type': 'application/vnd.api+json' } }),
  '/array': () => Response.json([1, 'two', { three: 3 }]),
  '/unicode': () => Response.json({ s: 'héllo ✓ 😀 \u2028 \u0007' }),
  '/string': () => Response.json('just a string'),
  '/null': () => Response.json(null),
  '/nested-undefined': () => Response.json({ a: undefined, b: [undefined, () => 1], d: new Date(0) }),
  '/bigint': () => {
    try {
      return Response.json({ n: 1n });
    } catch (e) {
      return Response.json({ name: e.name, ctor: e.constructor.name });
    }
  },
  '/headers-object': () => Response.json({}, { headers: new Headers([['x-z', '1'], ['x-a', '2']]) }),
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? route() : new Response('no route', { status: 404 });
  },
};
