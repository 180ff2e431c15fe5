// Hono: routing (params, wildcards, regexp), sub-apps, the built-in validator, cookies,
// middleware order, notFound/onError, HTTPException.
import { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";

type Env = { Bindings: { GREETING: string } };

const books = new Hono<Env>();
const DATA = [
  { id: 1, title: "Dune", year: 1965 },
  { id: 2, title: "Neuromancer", year: 1984 },
  { id: 3, title: "Hyperion", year: 1989 },
];
books.get("/", (c) => {
  const after = Number(c.req.query("after") ?? "0");
  return c.json(DATA.filter((b) => b.year > after));
});
books.get("/:id{[0-9]+}", (c) => {
  const book = DATA.find((b) => b.id === Number(c.req.param("id")));
  return book ? c.json(book) : c.json({ error: "no such book" }, 404);
});
books.post(
  "/",
  validator("json", (value, c) => {
    const title = (value as { title?: unknown }).title;
    if (typeof title !== "string" || title.length === 0) {
      return c.json({ error: "title is required" }, 400);
    }
    return { title };
  }),
  (c) => {
    const { title } = c.req.valid("json");
    c.header("location", "/books/4");
    return c.json({ id: 4, title }, 201);
  },
);

const app = new Hono<Env>();
app.use("*", async (c, next) => {
  await next();
  c.header("x-handled-by", "hono");
});
app.get("/", (c) => c.text(`${c.env.GREETING} from hono`));
app.route("/books", books);
app.get("/files/*", (c) => c.text(`file: ${c.req.path.slice("/files/".length)}`));
app.get("/search", (c) => c.json({ q: c.req.query("q"), tags: c.req.queries("tag") ?? [] }));
app.get("/headers", (c) => c.json({ ua: c.req.header("user-agent") ?? null, lang: c.req.header("accept-language") ?? null }));
app.get("/cookie/set", (c) => {
  setCookie(c, "session", "abc123", { path: "/", httpOnly: true, sameSite: "Lax", maxAge: 3600 });
  setCookie(c, "theme", "dark");
  return c.text("set");
});
app.get("/cookie/read", (c) => c.json({ session: getCookie(c, "session") ?? null, all: getCookie(c) }));
app.get("/cookie/clear", (c) => {
  deleteCookie(c, "session", { path: "/" });
  return c.text("cleared");
});
app.get("/redirect", (c) => c.redirect("/books", 302));
app.get("/boom", () => {
  throw new HTTPException(418, { message: "short and stout" });
});
app.get("/crash", () => {
  throw new Error("handler failed");
});
app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  return c.json({ error: err.message }, 500);
});
app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));

export default app;
