// itty-router's AutoRouter: JSON by default, 404 for unmatched routes, withParams.
import { AutoRouter, error, json, StatusError } from "itty-router";

const router = AutoRouter();
router
  .get("/", () => ({ router: "AutoRouter" }))
  .get("/hello/:name", ({ name }) => `Hello, ${name}!`)
  .get("/sum", ({ query }) => ({ sum: Number(query.a) + Number(query.b) }))
  .post("/echo", async (request) => ({ received: await request.json() }))
  .get("/teapot", () => error(418, "I'm a teapot"))
  .get("/forbidden", () => {
    throw new StatusError(403, "no entry");
  })
  .get("/custom", () => json({ custom: true }, { status: 202, headers: { "x-custom": "1" } }));

export default router;
