// status and statusText
function err(e) {
  return Response.json({ error: e.name, message: e.message });
}
const routes = {
  '/201': () => new Response('made', { status: 201 }),
  '/201-text': () => new Response('made', { status: 201, statusText: 'Made It' }),
  '/404-text': () => new Response('gone', { status: 404, statusText: 'Not Here' }),
  '/418': () => new Response('teapot', { status: 418 }),
  '/299': () => new Response('odd', { status: 299 }),
  '/599': () => new Response('odd', { status: 599 }),
  '/empty-text': () => new Response('x', { status: 200, statusText: '' }),
  '/bad-99': () => {
    try {
      return new Response('x', { status: 99 });
    } catch (e) {
      return err(e);
    }
  },
  '/bad-600': () => {
    try {
      return new Response('x', { status: 600 });
    } catch (e) {
      return err(e);
    }
  },
  '/bad-text': () => {
    try {
      return new Response('x', { status: 200, statusText: 'bad\ntext' });
    } catch (e) {
      return err(e);
    }
  },
  '/500-text': () => new Response('fine really', { status: 500, statusText: 'Everything Is Fine' }),
  '/status-props': () => {
    const out = [];
    for (const s of [200, 201, 204, 299, 300, 301, 399, 400, 404, 500, 599]) {
      const r = new Response(s === 204 ? null : 'x', { status: s });
      out.push([s, r.ok, r.statusText, r.type, r.redirected, r.url]);
    }
    return Response.json(out);
  },
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? route() : new Response('no route', { status: 404 });
  },
};
