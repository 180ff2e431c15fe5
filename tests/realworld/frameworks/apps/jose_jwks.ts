// jose: JWT verification against a local JWKS (ES256, RS256) and a shared secret (HS256).
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader, errors } from "jose";

type Env = { JWKS: string; HS_SECRET: string };

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const auth = request.headers.get("authorization") ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (url.pathname === "/header") {
      try {
        return Response.json(decodeProtectedHeader(token));
      } catch (e) {
        return Response.json({ error: (e as Error).name }, { status: 400 });
      }
    }
    try {
      let payload;
      if (url.pathname === "/hs") {
        ({ payload } = await jwtVerify(token, new TextEncoder().encode(env.HS_SECRET), { algorithms: ["HS256"], issuer: "isogate-tests" }));
      } else {
        const jwks = createLocalJWKSet(JSON.parse(env.JWKS));
        ({ payload } = await jwtVerify(token, jwks, { issuer: "isogate-tests", audience: "frameworks" }));
      }
      return Response.json({ ok: true, sub: payload.sub });
    } catch (e) {
      const code = e instanceof errors.JOSEError ? e.code : "OTHER";
      return Response.json({ ok: false, code }, { status: 401 });
    }
  },
};
