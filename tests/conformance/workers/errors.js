// Handlers that fail: workerd answers 500, isogate reports Outcome.JS_ERROR.
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case '/sync':
        throw new Error('thrown synchronously');
      case '/async':
        await null;
        throw new TypeError('thrown after await');
      case '/reject-string':
        return Promise.reject('a string');
      case '/string':
        return 'not a response';
      case '/undefined':
        return undefined;
      case '/object':
        return { status: 200, body: 'fake' };
      case '/caught':
        try {
          null.x;
        } catch (e) {
          return new Response(`caught ${e.name}`, { status: 200 });
        }
    }
    return new Response('no route', { status: 404 });
  },
};
