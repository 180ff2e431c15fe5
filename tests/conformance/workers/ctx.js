// The third handler argument: ctx.waitUntil / passThroughOnException.
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === '/wait-until') {
      let ran = false;
      ctx.waitUntil(Promise.resolve().then(() => { ran = true; }));
      await null;
      await null;
      return Response.json({ ran });
    }
    return Response.json({
      waitUntil: typeof ctx.waitUntil,
      passThroughOnException: typeof ctx.passThroughOnException,
      ctxType: typeof ctx,
    });
  },
};
