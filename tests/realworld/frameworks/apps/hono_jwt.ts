// hono/jwt: the jwt() middleware (HS256) and sign/verify helpers.
import { Hono } from "hono";
import { jwt, sign, verify } from "hono/jwt";

type Env = { Bindings: { JWT_SECRET: string } };
const app = new Hono<Env>();

app.use("/private/*", (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: "HS256" })(c, next));
app.get("/private/me", (c) => c.json({ payload: c.get("jwtPayload") }));
app.get("/sign", async (c) => {
  const token = await sign({ sub: "user-1", role: "reader", exp: 4102444800 }, c.env.JWT_SECRET, "HS256");
  const back = await verify(token, c.env.JWT_SECRET, "HS256");
  return c.json({ token, back });
});

export default app;
