// ReadableStream bodies (workerd sends them chunked).
export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    const enc = new TextEncoder();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(enc.encode('chunk one, '));
        controller.enqueue(enc.encode('chunk two'));
        controller.close();
      },
    });
    if (pathname === '/tee') {
      const [a] = stream.tee();
      return new Response(a, { headers: { 'x-teed': '1' } });
    }
    return new Response(stream);
  },
};
