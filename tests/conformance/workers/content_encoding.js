// A Worker that sets Content-Encoding: workerd compresses the body itself.
export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const enc = pathname === '/gzip' ? 'gzip' : 'identity';
    return new Response('hello hello hello hello', { headers: { 'content-encoding': enc } });
  },
};
