"""Scheduled invocations (issue 23, cron ticks) through real workers: the module's
``scheduled(controller, env, ctx)``, service-worker ``addEventListener('scheduled')``,
``noRetry()``, ``ctx.waitUntil``, limits, and functions without a scheduled handler."""

from __future__ import annotations

import json

from isogate.runtime import InvokeRequest
from isogate.runtime.types import Outcome
from tests.runtime.conftest import fn, get

TICK = 1767225600000  # 2026-01-01T00:00:00Z in ms


def tick(cron: str = "*/5 * * * *", t: int = TICK, inv: str = "run_1") -> InvokeRequest:
    return InvokeRequest("GET", "http://cron.invalid/", invocation_id=inv, scheduled=(cron, t))


async def test_module_scheduled_handler_gets_controller_env_and_ctx(runtime) -> None:
    src = """
    export default {
      async scheduled(controller, env, ctx) {
        await new Promise((r) => setTimeout(r, 5));
        ctx.waitUntil(Promise.resolve(1));
        console.log(JSON.stringify({
          cron: controller.cron, time: controller.scheduledTime, greet: env.GREETING,
          kind: typeof controller.noRetry, proto: controller instanceof ScheduledController,
        }));
      },
      fetch() { return new Response("http"); },
    };
    """
    ref = fn(src, env=(("GREETING", "hi"),))
    result = await runtime.invoke(ref, tick("*/5 * * * *"))
    assert result.outcome is Outcome.OK, result
    assert result.status == 200 and result.body == b""
    assert not result.no_retry
    line = json.loads(result.logs[-1][result.logs[-1].index("{") :])
    assert line == {
        "cron": "*/5 * * * *",
        "time": TICK,
        "greet": "hi",
        "kind": "function",
        "proto": True,
    }
    # the same warm context still answers fetch
    http = await runtime.invoke(ref, get())
    assert http.outcome is Outcome.OK and http.body == b"http"


async def test_thrown_error_fails_the_run_and_no_retry_is_reported(runtime) -> None:
    src = """
    export default {
      async scheduled(controller) {
        if (controller.scheduledTime % 2 === 0) controller.noRetry();
        throw new Error("tick failed");
      },
    };
    """
    ref = fn(src)
    result = await runtime.invoke(ref, tick(t=TICK))
    assert result.outcome is Outcome.JS_ERROR
    assert result.error is not None and result.error.message == "tick failed"
    assert result.no_retry
    result = await runtime.invoke(ref, tick(t=TICK + 1))
    assert result.outcome is Outcome.JS_ERROR and not result.no_retry


async def test_only_scheduled_is_a_valid_module_and_fetch_is_refused(runtime) -> None:
    ref = fn("export default { scheduled() {} };")
    assert (await runtime.invoke(ref, tick())).outcome is Outcome.OK
    http = await runtime.invoke(ref, get())
    assert http.outcome is Outcome.JS_ERROR
    assert http.error is not None and "no fetch() handler" in http.error.message


async def test_function_without_scheduled_fails_clearly_without_retry(runtime) -> None:
    ref = fn("export default { fetch() { return new Response('x'); } };")
    result = await runtime.invoke(ref, tick())
    assert result.outcome is Outcome.JS_ERROR
    assert result.error is not None and "no scheduled() handler" in result.error.message
    assert result.no_retry
    sw = fn("addEventListener('fetch', (e) => e.respondWith(new Response('x')));")
    result = await runtime.invoke(sw, tick())
    assert result.outcome is Outcome.JS_ERROR and result.no_retry
    assert result.error is not None and "no scheduled handler" in result.error.message


async def test_service_worker_scheduled_listener(runtime) -> None:
    src = """
    addEventListener('scheduled', (event) => {
      event.waitUntil(new Promise((r) => setTimeout(r, 5)));
      console.log(event.type + ' ' + event.cron + ' ' + event.scheduledTime);
    });
    """
    result = await runtime.invoke(fn(src), tick("0 * * * *"))
    assert result.outcome is Outcome.OK, result
    assert any(line.endswith(f"scheduled 0 * * * * {TICK}") for line in result.logs), result.logs


async def test_scheduled_runs_under_the_function_time_limit(runtime) -> None:
    ref = fn("export default { scheduled() { for (;;) {} } };", timeout_ms=200)
    result = await runtime.invoke(ref, tick())
    assert result.outcome in (Outcome.TIMEOUT, Outcome.CPU_LIMIT)
    pending = fn("export default { scheduled() { return new Promise(() => {}); } };")
    assert (await runtime.invoke(pending, tick())).outcome is Outcome.UNSETTLED
