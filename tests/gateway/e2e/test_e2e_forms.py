"""End to end over real HTTP: a multipart upload parsed by a function, and bodies in
legacy encodings (Shift_JIS, GBK) decoded by one with TextDecoder."""

from __future__ import annotations

import pytest

from .conftest import Tenant, unique

FORMS = """export default {
  async fetch(request) {
    const form = await request.formData();
    const out = [];
    for (const [name, value] of form) {
      if (typeof value === "string") out.push({name, value});
      else {
        const bytes = new Uint8Array(await value.arrayBuffer());
        let digest = 0;
        for (const b of bytes) digest = (digest * 31 + b) >>> 0;
        out.push({name, file: value.name, type: value.type, size: value.size,
          head: Array.from(bytes.slice(0, 4)), digest});
      }
    }
    // Answer with a FormData body too: the client parses our multipart.
    const reply = new FormData();
    reply.append("count", String(out.length));
    reply.append("echo", new Blob([JSON.stringify(out)], {type: "application/json"}), "echo.json");
    return new Response(reply);
  }
};"""

DECODE = """export default {
  async fetch(request) {
    const charset = new URL(request.url).searchParams.get("charset");
    const bytes = new Uint8Array(await request.arrayBuffer());
    return Response.json({text: new TextDecoder(charset).decode(bytes),
      encoding: new TextDecoder(charset).encoding});
  }
};"""

pytestmark = pytest.mark.timeout(300)


def test_multipart_upload_parsed_by_a_function(tenant: Tenant) -> None:
    import json
    from email.parser import BytesParser
    from email.policy import HTTP

    fn = unique("forms")
    assert tenant.deploy(fn, FORMS).status_code == 201
    key = tenant.key()["key"]
    blob = bytes(range(256)) * 40  # every byte value, CR LF and "--" included
    r = tenant.http.post(
        f"/fn/{fn}",
        headers={"X-API-Key": key},
        data={"title": "héllo wörld", "tags": "a\r\nb"},
        files={"upload": ("data.bin", blob, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + r.content
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
    assert parts["count"].get_content() == "3"
    echo = parts["echo"]
    assert echo.get_filename() == "echo.json" and echo.get_content_type() == "application/json"
    got = json.loads(echo.get_payload(decode=True))
    assert got[0] == {"name": "title", "value": "héllo wörld"}
    assert got[1] == {"name": "tags", "value": "a\r\nb"}
    up = got[2]
    assert (up["name"], up["file"], up["type"], up["size"]) == (
        "upload",
        "data.bin",
        "application/octet-stream",
        len(blob),
    )
    assert up["head"] == [0, 1, 2, 3]
    digest = 0
    for b in blob:
        digest = (digest * 31 + b) & 0xFFFFFFFF
    assert up["digest"] == digest


def test_urlencoded_form_and_a_bad_form_body(tenant: Tenant) -> None:
    fn = unique("forms")
    assert tenant.deploy(fn, FORMS).status_code == 201
    key = tenant.key()["key"]
    r = tenant.http.post(f"/fn/{fn}", headers={"X-API-Key": key}, data={"a": "1 2", "b": "é"})
    assert r.status_code == 200, r.text
    assert '"value":"1 2"' in r.text and '"value":"\u00e9"' in r.text
    # Not a form: the function's formData() rejects, the function throws -> 500 problem.
    r = tenant.http.post(
        f"/fn/{fn}", headers={"X-API-Key": key, "content-type": "text/plain"}, content=b"x"
    )
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("charset", "text", "codec", "name"),
    [
        ("shift_jis", "日本語のテキスト ｱｲｳ", "cp932", "shift_jis"),
        ("gbk", "中文文本\uff0c你好", "gbk", "gbk"),
        ("sjis", "①髙", "cp932", "shift_jis"),
    ],
)
def test_legacy_encoded_bodies_are_decoded(
    tenant: Tenant, charset: str, text: str, codec: str, name: str
) -> None:
    fn = unique("decode")
    assert tenant.deploy(fn, DECODE).status_code == 201
    key = tenant.key()["key"]
    r = tenant.http.post(
        f"/fn/{fn}?charset={charset}", headers={"X-API-Key": key}, content=text.encode(codec)
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"text": text, "encoding": name}
