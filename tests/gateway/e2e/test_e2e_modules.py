"""End to end (Hypercorn, real runtime): an esbuild-shaped bundle and a TypeScript
function deploy and answer; errors name lines and columns of the uploaded code."""

from __future__ import annotations

import pytest

from .conftest import Tenant, unique

pytestmark = pytest.mark.timeout(300)

# the shape esbuild (wrangler) gives a bundle: modules inlined, named helpers, and
# `export { app as default }` at the end
BUNDLE = """// src/util.ts
var greet = (name) => `hello ${name}`;
// src/index.ts
var app = {
  async fetch(request, env) {
    const url = new URL(request.url);
    return Response.json({ msg: greet(url.searchParams.get("n") ?? env.WHO), meta: import.meta.url });
  }
};
var config = await Promise.resolve({ ok: true });
export {
  config,
  app as default
};
"""

TS = """interface Env { WHO: string }
type Greeting = { msg: string };
function greet<T extends string>(name: T): Greeting {
  return { msg: `hi ${name}` } satisfies Greeting;
}
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const n = new URL(request.url).searchParams.get("n")!;
    if (n === "throw") (null as any).boom;
    return Response.json(greet<string>(n ?? env.WHO));
  },
};
"""


def call(tenant: Tenant, fn: str, query: str) -> dict:
    key = tenant.key()["key"]
    r = tenant.http.get(f"/fn/{fn}?{query}", headers={"X-API-Key": key})
    return {"status": r.status_code, "body": r.json() if r.status_code == 200 else r.text}


def test_an_esbuild_bundle_deploys_and_answers(tenant: Tenant) -> None:
    fn = unique("bundle")
    r = tenant.deploy(fn, BUNDLE, env={"WHO": "env"})
    assert r.status_code == 201, r.text
    got = call(tenant, fn, "n=you")
    assert got == {"status": 200, "body": {"msg": "hello you", "meta": "file:///worker.js"}}


def test_a_typescript_function_deploys_and_answers(tenant: Tenant) -> None:
    fn = unique("ts")
    r = tenant.deploy(fn, TS, env={"WHO": "env"}, main_module="worker.ts")
    assert r.status_code == 201, r.text
    assert call(tenant, fn, "n=ts") == {"status": 200, "body": {"msg": "hi ts"}}
    # raw TypeScript body
    r = tenant.http.put(
        f"/v1/functions/{fn}",
        headers={**tenant.auth, "content-type": "application/typescript"},
        content=TS.replace("hi ", "hey ").encode(),
    )
    assert r.status_code == 201, r.text
    assert call(tenant, fn, "n=raw") == {"status": 200, "body": {"msg": "hey raw"}}


def test_typescript_errors_name_the_uploaded_position(tenant: Tenant) -> None:
    fn = unique("tsbad")
    bad = {
        # a syntax error the TypeScript parser finds (where its error node starts)
        "const a: number = ;\nexport default {}": (1, 17),
        # one V8 finds after erasure: the column is the TypeScript's
        "const a: number = 1;\nconst o: number = 010;\nexport default {}": (2, 19),
        # code-generating TypeScript is refused where it stands
        "export default {}\n  enum E { A }": (2, 3),
        # a top-level failure on a line full of types
        "const x: { a: number } = null as any; x.a;\nexport default {}": (1, 41),
    }
    for code, (line, column) in bad.items():
        r = tenant.deploy(fn, code, main_module="worker.ts")
        assert r.status_code == 400, r.text
        body = r.json()
        assert (body["line"], body["column"]) == (line, column), (code, body)
