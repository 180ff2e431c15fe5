// Hono's built-in middleware: cors, secureHeaders, etag, basicAuth, bearerAuth.
import { Hono } from "hono";
import { basicAuth } from "hono/basic-auth";
import { bearerAuth } from "hono/bearer-auth";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { secureHeaders } from "hono/secure-headers";

const app = new Hono();
app.use("/api/*", cors({ origin: ["https://app.example"], allowMethods: ["GET", "POST"], exposeHeaders: ["x-total"], maxAge: 600, credentials: true }));
app.use("/open/*", cors());
app.use("/secure/*", secureHeaders());
app.use("/etag/*", etag());
app.use("/admin/*", basicAuth({ username: "admin", password: "s3cret" }));
app.use("/token/*", bearerAuth({ token: "tok-123" }));

app.get("/api/items", (c) => {
  c.header("x-total", "2");
  return c.json(["a", "b"]);
});
app.post("/api/items", async (c) => c.json({ got: await c.req.text() }, 201));
app.get("/open/ping", (c) => c.text("pong"));
app.get("/secure/page", (c) => c.html("<h1>secure</h1>"));
app.get("/etag/doc", (c) => c.text("the same document every time"));
app.get("/admin/panel", (c) => c.text("welcome, admin"));
app.get("/token/data", (c) => c.json({ secret: 42 }));

export default app;
