"""End to end (Hypercorn, real runtime): multi-module uploads, as a multipart form and
as JSON; limits; errors naming the module; rollback across a multi-module version."""

from __future__ import annotations

import base64
import json

import pytest

from isogate.runtime.modules import MAGIC, Module, ModuleSet, dumps

from .conftest import Tenant, unique

pytestmark = pytest.mark.timeout(300)

MAIN = """import util, { twice as t } from "./lib/util.js";
import * as u from "./lib/util.js";
import cjs from "./lib/c.js";
import txt from "./hello.txt";
import data from "./d.bin";
import j from "./conf.json";
import wasm from "./add.wasm";
export { helper } from "./lib/util.js";
export default {
  fetch(request) {
    if (new URL(request.url).searchParams.has("throw")) u.boom();
    u.bump();
    return Response.json({
      util: util(), twice: t(21), count: u.count, cjs: cjs.x, txt,
      data: [...new Uint8Array(data)], json: j.a,
      wasm: new WebAssembly.Instance(wasm).exports.add(40, 2),
    });
  },
};
"""
UTIL = """export let count = 0;
export function bump() { count++; }
export function twice(x) { return 2 * x; }
export const helper = 1;
export function boom() {
  throw new Error("from util");
}
export default function () { return "u"; }
"""
CJS = "const inner = require('./inner.js');\nmodule.exports = { x: inner.v * 2 };\n"
INNER = "module.exports = { v: 21 };\n"


def multipart(main: str, parts: list[tuple[str, str, bytes]], **meta) -> tuple[bytes, str]:
    b = "isogate-test-boundary"
    out = []
    md = json.dumps({"main_module": main, **meta}).encode()
    out.append(
        f'--{b}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + md
        + b"\r\n"
    )
    for name, ctype, data in parts:
        out.append(
            f'--{b}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{b}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={b}"


PARTS = [
    ("index.js", "application/javascript+module", MAIN.encode()),
    ("lib/util.js", "application/javascript+module", UTIL.encode()),
    ("lib/c.js", "application/javascript", CJS.encode()),
    ("lib/inner.js", "application/javascript", INNER.encode()),
    ("hello.txt", "text/plain", "héllo".encode()),
    ("d.bin", "application/octet-stream", bytes([0, 1, 255])),
    ("conf.json", "application/json", b'{"a": 5}'),
    # (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
    (
        "add.wasm",
        "application/wasm",
        bytes.fromhex(
            "0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b"
        ),
    ),
]


def upload(tenant: Tenant, fn: str, body: bytes, ctype: str):
    return tenant.http.put(
        f"/v1/functions/{fn}", headers={**tenant.auth, "Content-Type": ctype}, content=body
    )


def call(tenant: Tenant, key: str, fn: str, query: str = ""):
    return tenant.http.get(f"/fn/{fn}?{query}", headers={"X-API-Key": key})


def test_a_multipart_upload_deploys_and_answers(tenant: Tenant) -> None:
    fn = unique("mm")
    body, ctype = multipart("index.js", PARTS)
    r = upload(tenant, fn, body, ctype)
    assert r.status_code == 201, r.text
    key = tenant.key()["key"]
    r = call(tenant, key, fn)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "util": "u",
        "twice": 42,
        "count": 1,
        "cjs": 42,
        "txt": "héllo",
        "data": [0, 1, 255],
        "json": 5,
        "wasm": 42,
    }
    # the namespace import reads the exporter's live binding
    assert call(tenant, key, fn).json()["count"] == 2
    # a stack trace names the module and its own line
    r = call(tenant, key, fn, "throw")
    assert r.status_code == 500
    recs = tenant.http.get(f"/v1/functions/{fn}/invocations", headers=tenant.auth).json()
    err = json.dumps(recs)
    assert "lib/util.js:6:9" in err, err
    # the stored code is the module set
    code = tenant.http.get(f"/v1/functions/{fn}/code", headers=tenant.auth)
    assert code.headers["content-type"].startswith("application/vnd.isogate.modules+json")


def test_the_json_form_deploys_and_rolls_back(tenant: Tenant) -> None:
    fn = unique("mmjson")
    r = tenant.deploy(fn, 'export default { fetch() { return new Response("v1") } }')
    assert r.status_code == 201, r.text
    r = tenant.http.put(
        f"/v1/functions/{fn}",
        headers=tenant.auth,
        json={
            "main_module": "src/index.ts",
            "modules": [
                {
                    "name": "src/index.ts",
                    "type": "esm",
                    "content": 'import { greet } from "./greet.ts";\n'
                    "import raw from '../d.bin';\n"
                    "export default { fetch(): Response { return new Response("
                    "greet('v2', new Uint8Array(raw).length)) } };\n",
                },
                {
                    "name": "src/greet.ts",
                    "type": "esm",
                    "content": "export const greet = (s: string, n: number): string => `${s}:${n}`;\n",
                },
                {"name": "d.bin", "type": "data", "content": base64.b64encode(b"abcd").decode()},
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    key = tenant.key()["key"]
    assert call(tenant, key, fn).text == "v2:4"
    r = tenant.http.post(f"/v1/functions/{fn}/rollback", headers=tenant.auth, json={"version": 1})
    assert r.status_code == 200, r.text
    assert call(tenant, key, fn).text == "v1"
    r = tenant.http.post(f"/v1/functions/{fn}/rollback", headers=tenant.auth, json={"version": 2})
    assert r.status_code == 200, r.text
    assert call(tenant, key, fn).text == "v2:4"


def deploy_modules(tenant: Tenant, fn: str, modules: list[dict], main: str = "index.js"):
    return tenant.http.put(
        f"/v1/functions/{fn}", headers=tenant.auth, json={"main_module": main, "modules": modules}
    )


def esm(name: str, content: str) -> dict:
    return {"name": name, "type": "esm", "content": content}


def test_an_unknown_import_names_the_importer_and_position(tenant: Tenant) -> None:
    r = deploy_modules(
        tenant,
        unique("mmbad"),
        [
            esm(
                "index.js",
                'import a from "./a.js";\nexport default {fetch(){return new Response(a)}}',
            ),
            esm("a.js", 'const x = 1;\n  import y from "./nope.js";\nexport default x;'),
        ],
    )
    assert r.status_code == 400, r.text
    p = r.json()
    assert (p["line"], p["column"]) == (2, 3)
    assert "a.js" in p["detail"] and "./nope.js" in p["detail"]


def test_an_import_cycle_deploys_and_runs_as_es_modules_do(tenant: Tenant) -> None:
    fn = unique("mmcycle")
    r = deploy_modules(
        tenant,
        fn,
        [
            esm(
                "index.js",
                'import { a } from "./a.js";\nimport { viaA, calls } from "./b.js";\n'
                "export default {fetch(){ return new Response(a() + viaA() + calls) }}",
            ),
            esm("a.js", 'import { b } from "./b.js";\nexport const a = () => "a" + b();\n'),
            esm(
                "b.js",
                'import { a } from "./a.js";\nexport let calls = 0;\n'
                'export function b() { calls++; return "b" }\n'
                "export const viaA = () => a();\n",
            ),
        ],
    )
    assert r.status_code == 201, r.text
    r = call(tenant, tenant.key()["key"], fn)
    assert (r.status_code, r.text) == (200, "abab2")
    # b runs first (a is on the way): reading a's default export there is its dead zone
    r = deploy_modules(
        tenant,
        unique("mmcycle"),
        [
            esm(
                "index.js",
                'import a from "./a.js";\nexport default {fetch(){return new Response(a)}}',
            ),
            esm("a.js", 'import b from "./b.js";\nexport default b;'),
            esm("b.js", '\nimport a from "./a.js";\nexport default [a];'),
        ],
    )
    assert r.status_code == 400, r.text
    p = r.json()
    assert "ReferenceError" in p["detail"] and "before initialization" in p["detail"], p
    assert "b.js" in p["detail"] and (p["line"], p["column"]) == (3, 17)


def test_a_syntax_error_names_the_module(tenant: Tenant) -> None:
    r = deploy_modules(
        tenant,
        unique("mmsyntax"),
        [
            esm(
                "index.js",
                'import a from "./a.js";\nexport default {fetch(){return new Response(a)}}',
            ),
            esm("a.js", "export default 1;\nlet x = = 2;\n"),
        ],
    )
    assert r.status_code == 400, r.text
    p = r.json()
    assert "a.js" in p["detail"] and (p["line"], p["column"]) == (2, 9)


def test_limits(tenant: Tenant) -> None:
    ok = esm("index.js", "export default {fetch(){return new Response('x')}}")
    r = deploy_modules(tenant, unique("mmmany"), [ok] + [esm(f"m{i}.js", "") for i in range(100)])
    assert r.status_code == 422, r.text
    big = {"name": "big.txt", "type": "text", "content": "x" * ((1 << 20) + 1)}
    r = deploy_modules(tenant, unique("mmbig"), [ok, big])
    assert r.status_code == 413, r.text
    assert r.json()["module"] == "big.txt"
    r = deploy_modules(tenant, unique("mmmain"), [ok], main="other.js")
    assert r.status_code == 422, r.text


def test_malformed_multipart_uploads_are_problems(tenant: Tenant) -> None:
    fn = unique("mmform")
    main = [("index.js", "application/javascript+module", b"export default {fetch() {}}")]
    body, ctype = multipart("index.js", [*main, ("x.coffee", "text/coffeescript", b"x")])
    r = upload(tenant, fn, body, ctype)
    assert (r.status_code, r.json()["type"].rsplit("/", 1)[1]) == (422, "invalid-module")
    assert r.json()["module"] == "x.coffee"
    # no metadata part
    body, ctype = multipart("index.js", main)
    body = body.split(b"--isogate-test-boundary\r\n", 2)
    body = b"--isogate-test-boundary\r\n" + body[2]
    r = upload(tenant, fn, body, ctype)
    assert r.status_code == 422 and "metadata" in r.json()["detail"], r.text
    # no boundary
    r = upload(tenant, fn, b"garbage", "multipart/form-data")
    assert r.status_code == 400, r.text
    # an option the form does not know
    body, ctype = multipart("index.js", main, compatibility_flags=["x"])
    assert upload(tenant, fn, body, ctype).status_code == 422
    # options in the metadata apply
    body, ctype = multipart("index.js", main, env={"A": "1"}, timeout_ms=500)
    r = upload(tenant, fn, body, ctype)
    assert r.status_code == 201, r.text
    fn_view = tenant.http.get(f"/v1/functions/{fn}", headers=tenant.auth).json()
    assert fn_view["versions"][-1]["timeout_ms"] == 500, fn_view


def test_a_set_sent_as_code_gets_the_same_checks(tenant: Tenant) -> None:
    mset = ModuleSet(
        "index.js",
        (
            Module("index.js", "esm", "export default {fetch() {}}"),
            Module("../up.js", "esm", ""),
        ),
    )
    r = tenant.deploy(unique("mmcode"), dumps(mset))
    assert r.status_code == 422 and r.json()["module"] == "../up.js", r.text
    r = tenant.deploy(unique("mmcode"), MAGIC + "{not json")
    assert r.status_code == 422, r.text
