// Read the upstream's set-cookie: parse the cookies, pass them on to the client.
function parseSetCookie(line) {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const [name, value] = pair.split('=');
  const options = {};
  for (const a of attrs) {
    const [k, v] = a.split('=');
    options[k.toLowerCase()] = v ?? true;
  }
  return { name, value, options };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(`${env.UPSTREAM}/cookies`);
    const lines = upstream.headers.getSetCookie();
    const cookies = lines.map(parseSetCookie);
    if (url.pathname === '/login') {
      const response = Response.json({ loggedIn: true, names: cookies.map((c) => c.name) });
      for (const line of lines) response.headers.append('Set-Cookie', line.replace('Path=/', 'Path=/app'));
      response.headers.append('set-cookie', 'edge=1; Secure');
      return response;
    }
    return Response.json({
      cookies,
      combined: upstream.headers.get('set-cookie'),
      session: cookies.find((c) => c.name === 'session')?.value ?? null,
      trace: upstream.headers.get('x-trace'),
    });
  },
};
