// Return JSON or HTML: content negotiation on Accept, data from the upstream.
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/team') return new Response('Not found', { status: 404 });
    const users = await (await fetch(`${env.UPSTREAM}/api/users`)).json();
    const accept = request.headers.get('accept') || '';
    if (accept.includes('text/html')) {
      const rows = users.map((u) => `<li data-id="${u.id}">${escape(u.name)} &lt;${escape(u.email)}&gt;</li>`).join('');
      return new Response(`<!doctype html><title>Team</title><ul>${rows}</ul>`, {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      });
    }
    if (accept.includes('text/csv')) {
      const csv = ['id,name,team', ...users.map((u) => `${u.id},"${u.name}",${u.team}`)].join('\r\n');
      return new Response(csv, { headers: { 'content-type': 'text/csv' } });
    }
    return Response.json({ team: users.map((u) => u.name) }, { headers: { vary: 'Accept' } });
  },
};
