"""The gateway app's own CPU per warm request, without Hypercorn: ``--tasks`` concurrent
tasks drive the ASGI app with raw HTTP scopes (keyed or public hello-world), real runtime
workers answer. Prints the event-loop thread's CPU µs per request (median of
``--rounds``), and with ``--profile FILE`` writes a cProfile of the measured requests
(call counts per request are what to compare: they do not depend on the machine's load).

    PYTHONPATH=<checkout> python bench/app_cpu.py [--public] [--requests 3000] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isogate.config import load_settings
from isogate.gateway.app import create_app

HELLO = (
    "export default { fetch() { return new Response(JSON.stringify({hello: 'world'}), "
    "{headers: {'content-type': 'application/json'}}) } };"
)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--public", action="store_true")
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--profile")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), open_registration=True, log_level="warning")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
                cred = {"name": "bench", "password": "bench-password-123"}
                assert (await c.post("/v1/tenants", json=cred)).status_code == 201
                tok = (await c.post("/v1/auth/token", json=cred)).json()["access_token"]
                auth = {"Authorization": f"Bearer {tok}"}
                r = await c.post(
                    "/v1/keys",
                    headers=auth,
                    json={"rate_limit": {"requests": 1_000_000, "per_seconds": 1}},
                )
                assert r.status_code == 201, r.text
                key = r.json()["key"]
                body = {"code": HELLO, "public": args.public}
                r = await c.put("/v1/functions/hello", headers=auth, json=body)
                assert r.status_code in (200, 201), r.text
                for _ in range(3):
                    r = await c.get("/fn/hello", headers={"x-api-key": key})
                    assert r.json() == {"hello": "world"}, r.text
            headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")]
            if not args.public:
                headers.append((b"x-api-key", key.encode()))

            async def one() -> None:
                scope = {
                    "type": "http",
                    "asgi": {"version": "3.0", "spec_version": "2.3"},
                    "http_version": "1.1",
                    "method": "GET",
                    "scheme": "http",
                    "path": "/fn/hello",
                    "raw_path": b"/fn/hello",
                    "query_string": b"",
                    "root_path": "",
                    "headers": headers,
                    "client": ("127.0.0.1", 40000),
                    "server": ("127.0.0.1", 8000),
                    "extensions": {},
                }
                sent = asyncio.Event()
                got: list[int] = []

                async def receive() -> dict:
                    if not got:
                        got.append(0)
                        return {"type": "http.request", "body": b"", "more_body": False}
                    await sent.wait()
                    return {"type": "http.disconnect"}

                status = [0]

                async def send(msg: dict) -> None:
                    if msg["type"] == "http.response.start":
                        status[0] = msg["status"]
                    elif not msg.get("more_body"):
                        sent.set()

                await app(scope, receive, send)
                assert status[0] == 200, status

            async def run(n: int) -> None:
                left = [n]

                async def worker() -> None:
                    while left[0] > 0:
                        left[0] -= 1
                        await one()

                await asyncio.gather(*(worker() for _ in range(args.tasks)))

            await run(500)  # warm
            results = []
            for _ in range(args.rounds):
                c0 = time.thread_time()
                await run(args.requests)
                results.append((time.thread_time() - c0) / args.requests * 1e6)
            print(
                f"app CPU per request ({'public' if args.public else 'keyed'}): median"
                f" {statistics.median(results):.0f} µs, rounds "
                + " ".join(f"{x:.0f}" for x in results)
            )
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                await run(args.requests)
                prof.disable()
                prof.dump_stats(args.profile)


if __name__ == "__main__":
    asyncio.run(main())
