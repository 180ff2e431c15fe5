// zod schemas with @hono/zod-validator: json, query and param targets, custom hook.
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { z } from "zod";

const User = z.object({
  name: z.string().min(2),
  email: z.email(),
  age: z.number().int().min(13).optional(),
});
const Paging = z.object({ page: z.coerce.number().int().min(1).default(1), size: z.coerce.number().int().max(50).default(10) });

const app = new Hono();
app.post("/users", zValidator("json", User), (c) => c.json({ created: c.req.valid("json") }, 201));
app.get("/users", zValidator("query", Paging), (c) => c.json(c.req.valid("query")));
app.get(
  "/users/:id",
  zValidator("param", z.object({ id: z.string().regex(/^u[0-9]+$/) }), (result, c) => {
    if (!result.success) return c.json({ error: "bad id", issues: result.error.issues.length }, 422);
  }),
  (c) => c.json({ id: c.req.valid("param").id }),
);
app.post("/parse", async (c) => {
  const r = User.safeParse(await c.req.json());
  return c.json(r.success ? { ok: true } : { ok: false, paths: r.error.issues.map((i) => i.path.join(".")) });
});

export default app;
