"""The gateway's bounded caches over the in-process app (fake runtime): their sizes come
from the settings, and /metrics counts their hits, misses and evictions."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from isogate.gateway.app import create_app

from .conftest import bearer, make_settings, register
from .fake_runtime import FakeRuntime

HELLO = "export default { fetch() { return new Response('hi') } }"


def _samples(text: str, cache: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("isogate_cache_") and s.labels.get("cache") == cache:
                out[s.name.removeprefix("isogate_cache_")] = s.value
    return out


async def test_function_cache_is_bounded_and_counted(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, function_cache_entries=1), runtime_factory=FakeRuntime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as c:
            h = bearer(await register(c, "acme"))
            for name in ("one", "two"):
                r = await c.put(
                    f"/v1/functions/{name}", headers=h, json={"code": HELLO, "public": True}
                )
                assert r.status_code == 201, r.text
            functions = app.state.services.resolver._functions
            assert functions.maxsize == 1
            held = functions.currsize
            before = _samples((await c.get("/metrics")).text, "functions")
            # one (evicts what deploying left, if anything), one (a hit), two (evicts one:
            # the bound is 1), one (a miss again, evicts two)
            for name in ("one", "one", "two", "one"):
                assert (await c.get(f"/fn/{name}")).status_code == 200
            after = _samples((await c.get("/metrics")).text, "functions")
    # (deltas: caches of other apps in this process count under the same name)
    assert after["hits_total"] - before.get("hits_total", 0) == 1
    assert after["misses_total"] - before.get("misses_total", 0) == 3
    evicted = after["evictions_total"] - before.get("evictions_total", 0)
    assert evicted == 2 + held
    assert functions.currsize == 1
