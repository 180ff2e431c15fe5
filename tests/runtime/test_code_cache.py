"""The caches a worker's executor threads share (sources, prepared sources)."""

from __future__ import annotations

import asyncio
import threading

from prometheus_client.parser import text_string_to_metric_families

from isogate.caches import live_caches
from isogate.gateway.metrics import GatewayMetrics
from isogate.runtime.code_cache import SharedLRU, prepared_cache, source_cache
from isogate.runtime.source import PreparedSource
from isogate.runtime.types import Outcome

from .conftest import fn, get


def test_least_recently_used_goes_first_when_over_budget() -> None:
    cache: SharedLRU[str] = source_cache(max_bytes=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # now b is the least recently used
    cache.put("c", "cccc")  # 12 bytes > 10: b goes
    assert cache.get("b") is None
    assert cache.get("a") == "aaaa" and cache.get("c") == "cccc"
    assert cache.stats.evictions == 1 and cache.currsize == 8


def test_an_item_larger_than_the_budget_is_not_kept_and_drops_nothing() -> None:
    cache = source_cache(max_bytes=4)
    cache.put("a", "aa")
    cache.put("big", "x" * 100)
    assert cache.get("big") is None and cache.get("a") == "aa"


def test_prepared_sources_count_key_and_script() -> None:
    cache = prepared_cache(max_bytes=30)
    one = PreparedSource(script="s" * 10, module=True)
    cache.put("k" * 10, one)  # 20 bytes
    cache.put("j" * 5, PreparedSource(script="t" * 5, module=False))  # 10 bytes: 30, fits
    assert cache.get("k" * 10) is one
    cache.put("i", PreparedSource(script="u", module=False))  # 32: the oldest unused goes
    assert cache.get("j" * 5) is None and cache.get("k" * 10) is one


def test_hits_and_misses_are_counted_and_the_cache_is_listed_for_metrics() -> None:
    cache = source_cache(max_bytes=100)
    assert cache.get("a") is None
    cache.put("a", "x")
    cache.put("a", "y")  # already held: kept as it is (a hit)
    assert cache.get("a") == "x"
    assert (cache.stats.hits, cache.stats.misses) == (2, 2)
    names = {name for name, stats, _, _ in live_caches() if stats is cache.stats}
    assert names == {"worker_sources"}


def test_threads_sharing_it_keep_it_within_its_bound() -> None:
    cache = source_cache(max_bytes=1000)

    def churn(n: int) -> None:
        for i in range(2000):
            cache.put(f"{n}-{i % 300}", "x" * (i % 17 + 1))
            cache.get(f"{n}-{(i * 7) % 300}")

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0 < cache.currsize <= 1000


async def test_the_workers_caches_reach_the_gateway_metrics(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1)
    src = "export default { fetch() { return new Response('hi') } }"
    for _ in range(2):  # a cold load (sources and prepared: a miss each), then warm
        r = await rt.invoke(fn(src), get())
        assert r.outcome is Outcome.OK, r
    empty = (0, 0, 0, 0, 0)
    for _ in range(100):  # the worker reports twice a second (a report may fall between
        # a lookup and its insertion: wait for one with both entries)
        caches = rt.stats().worker_caches
        sources, prepared = (caches.get(n, empty) for n in ("worker_sources", "worker_prepared"))
        if sources[3] >= len(src) and prepared[3] > len(src):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"never reported: {rt.stats().worker_caches}")
    _hits, misses, evictions, size, bound = sources
    assert misses >= 1 and evictions == 0 and bound == 256 << 20
    assert prepared[1] >= 1

    text = GatewayMetrics(rt.stats).render().decode()
    samples = {
        (s.name, s.labels.get("cache")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("isogate_cache_misses_total", "worker_sources")] >= misses
    # (>=: this test process's own caches of that name, above, count too)
    assert samples[("isogate_cache_size", "worker_sources")] >= size
