// itty-router's Router with explicit before/catch/finally stages.
import { Router, error, json, text, withParams, cors } from "itty-router";

const { preflight, corsify } = cors({ origin: "https://app.example", allowMethods: ["GET", "POST"] });

const router = Router({
  before: [preflight, withParams],
  catch: error,
  finally: [corsify],
});
router
  .get("/todos", () => json([{ id: 1, done: false }]))
  .get("/todos/:id", ({ id }) => (id === "1" ? json({ id: 1, done: false }) : error(404, "todo not found")))
  .post("/todos", async (req) => json({ created: await req.json() }, { status: 201 }))
  .get("/plain", () => text("plain text"))
  .all("*", () => error(404));

export default { fetch: router.fetch };
