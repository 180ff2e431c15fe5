// `export default { fetch }` with a named (async) function declared elsewhere, and `this`.
async function handleRequest(request, env, ctx) {
  return new Response(JSON.stringify({
    name: handleRequest.name,
    thisIsExport: this === exported,
    args: arguments.length,
    envType: typeof env,
    ctxType: typeof ctx,
    method: request.method,
  }), { headers: { 'content-type': 'application/json' } });
}
const exported = { fetch: handleRequest, other: 1 };
export default exported;
