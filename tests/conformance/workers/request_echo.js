// Everything the Worker can see of the incoming request, echoed as JSON.
function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const copy = request.clone();
    const text = await request.text();
    const bytes = await copy.arrayBuffer();
    return Response.json({
      method: request.method,
      url: request.url,
      pathname: url.pathname,
      search: url.search,
      query: [...url.searchParams],
      headers: [...request.headers],
      text,
      hex: hex(bytes),
      length: bytes.byteLength,
      bodyUsed: request.bodyUsed,
      redirect: request.redirect,
      keepalive: request.keepalive,
      hasBody: request.body !== null,
    });
  },
};
