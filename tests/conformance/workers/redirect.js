// Response.redirect(url, status): every allowed status and the errors.
function err(e) {
  return Response.json({ error: e.name, message: e.message, isTypeError: e instanceof TypeError, isRangeError: e instanceof RangeError });
}
const routes = {
  '/default': () => Response.redirect('https://example.com/next?a=1'),
  '/301': () => Response.redirect('https://example.com/301', 301),
  '/302': () => Response.redirect('https://example.com/302', 302),
  '/303': () => Response.redirect('https://example.com/303', 303),
  '/307': () => Response.redirect('https://example.com/307', 307),
  '/308': () => Response.redirect('https://example.com/308', 308),
  '/relative': () => {
    try {
      return Response.redirect('/relative/path');
    } catch (e) {
      return err(e);
    }
  },
  '/bad-status': () => {
    try {
      return Response.redirect('https://example.com/', 200);
    } catch (e) {
      return err(e);
    }
  },
  '/unicode-url': () => Response.redirect('https://exämple.com/p ä?q=ü#f', 302),
  '/url-object': () => Response.redirect(new URL('https://example.com/a/../b'), 307),
  '/headers-immutable': () => {
    const r = Response.redirect('https://example.com/', 302);
    let threw = null;
    try {
      r.headers.set('x-extra', '1');
    } catch (e) {
      threw = e.name;
    }
    return Response.json({ threw, status: r.status, location: r.headers.get('location'), body: r.body === null, redirected: r.redirected, type: r.type, ok: r.ok });
  },
};

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    return route ? route() : new Response('no route', { status: 404 });
  },
};
