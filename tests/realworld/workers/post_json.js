// Post JSON to an upstream: validate the client's JSON, enrich it, send it on.
export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('POST only', { status: 405 });
    let order;
    try {
      order = await request.json();
    } catch (e) {
      return Response.json({ error: 'invalid JSON', name: e.name }, { status: 400 });
    }
    if (!Array.isArray(order.items) || order.items.length === 0) {
      return Response.json({ error: 'items required' }, { status: 422 });
    }
    const payload = {
      ...order,
      total: order.items.reduce((s, i) => s + i.qty * i.price, 0),
      currency: order.currency ?? 'EUR',
    };
    const r = await fetch(`${env.UPSTREAM}/echo/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer test-token' },
      body: JSON.stringify(payload),
    });
    const seen = await r.json();
    return Response.json({ status: r.status, upstreamSaw: seen }, { status: 201 });
  },
};
