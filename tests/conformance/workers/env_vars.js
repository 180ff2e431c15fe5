// Module syntax: text bindings arrive as the env argument.
export default {
  fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/keys') {
      return Response.json({ keys: Object.keys(env).sort(), type: typeof env, frozen: Object.isFrozen(env), globalLeak: typeof globalThis.API_BASE });
    }
    return Response.json({ API_BASE: env.API_BASE, EMPTY: env.EMPTY, UNICODE: env.UNICODE, JSONISH: env.JSONISH, missing: env.MISSING ?? null });
  },
};
