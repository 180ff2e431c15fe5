// @tsndr/cloudflare-worker-jwt: sign, verify and decode (HS256).
import jwt from "@tsndr/cloudflare-worker-jwt";

type Env = { HS_SECRET: string };

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    if (url.pathname === "/decode") {
      const { header, payload } = jwt.decode(token);
      return Response.json({ header, payload });
    }
    if (url.pathname === "/verify") {
      const ok = await jwt.verify(token, env.HS_SECRET, { algorithm: "HS256" }).catch(() => false);
      return Response.json({ ok: Boolean(ok) }, { status: ok ? 200 : 401 });
    }
    if (url.pathname === "/roundtrip") {
      const t = await jwt.sign({ sub: "u1", exp: 4102444800 }, env.HS_SECRET);
      const ok = await jwt.verify(t, env.HS_SECRET);
      return Response.json({ ok: Boolean(ok), parts: t.split(".").length });
    }
    return new Response("no route", { status: 404 });
  },
};
