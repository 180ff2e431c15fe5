"""URL hosts end to end: a function behind a real ``isogate serve`` parses URLs with
internationalised hosts sent in a request body, so the UTS #46 tables are generated and
used in a real worker process (the runtime tests use an in-process isolate)."""

from __future__ import annotations

from .conftest import Tenant

HOSTS = """export default {
  async fetch(request) {
    const out = [];
    for (const input of await request.json()) {
      try {
        const u = new URL(input);
        out.push({host: u.host, href: u.href});
      } catch (e) {
        out.push({error: e.name});
      }
    }
    return Response.json(out);
  }
};"""


def test_internationalised_hosts_through_the_gateway(tenant: Tenant) -> None:
    r = tenant.deploy("hosts", HOSTS, public=True)
    assert r.status_code == 201, r.text
    inputs = [
        "http://Bücher.example/path?q=1",
        "https://例え.テスト/",
        "https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com:8443/",  # full-width
        "https://a\u094d\u200cb/",
        "https://a\u200cb/",  # a joiner without a virama before it
        "https://ab\u0627/",  # Bidi rule: an L label with an Arabic letter
        "http://xn--a.ß/",
    ]
    r = tenant.http.post("/fn/hosts", json=inputs)
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"host": "xn--bcher-kva.example", "href": "http://xn--bcher-kva.example/path?q=1"},
        {"host": "xn--r8jz45g.xn--zckzah", "href": "https://xn--r8jz45g.xn--zckzah/"},
        {"host": "example.com:8443", "href": "https://example.com:8443/"},
        {"host": "xn--ab-fsf604u", "href": "https://xn--ab-fsf604u/"},
        {"error": "TypeError"},
        {"error": "TypeError"},
        {"error": "TypeError"},
    ]
