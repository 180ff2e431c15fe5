"""Framing cost per call (issue 18, item 8): the loose dicts + msgpack the gateway and its
workers exchanged before, against the typed messages (isogate/runtime/messages.py,
msgspec) that replaced them, in the same run.

    python bench/frames.py [--rounds 200000]

One call's frames are an :class:`Invoke` (supervisor -> executor) and a :class:`Result`
(executor -> supervisor). Each is timed as its sender's encode plus the 4-byte length
header, and its receiver's decode, for a typical warm hello-world call: a GET with the
headers a browser-like client sends, answered 200 with a short body. Prints µs per call
(both frames, both ends) for each, best of 5 runs. Nothing is asserted; on a shared
machine the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgpack

from isogate.runtime.messages import (
    FnSpec,
    HttpRequest,
    Invoke,
    Result,
    from_worker,
    to_executor,
)
from isogate.runtime.protocol import HEADER, frame

KEY = "hello@3:0123456789abcdef:fedcba9876543210"
HEADERS = (
    ("host", "gw.example.com"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"),
    ("accept", "text/html,application/json;q=0.9,*/*;q=0.8"),
    ("accept-encoding", "gzip, deflate, br"),
    ("accept-language", "en-GB,en;q=0.8"),
    ("x-forwarded-for", "203.0.113.7"),
    ("x-isogate-tenant", "acme"),
    ("x-invocation-id", "inv_0123456789abcdef01234567"),
)
URL = "https://gw.example.com/fn/hello?name=world"
OUT_HEADERS = (("content-type", "text/plain;charset=UTF-8"), ("x-powered-by", "isogate"))
BODY = b"Hello, world!"


def old_invoke() -> dict[str, Any]:
    """The invoke frame as supervisor.py built it before (warm call: no source)."""
    return {
        "op": "invoke",
        "id": 123456,
        "ex": 1,
        "fn": {
            "key": KEY,
            "tenant": "acme",
            "timeout_ms": 1000,
            "cpu_ms": 50,
            "env": (("GREETING", "hello"),),
            "src": None,
        },
        "req": {"m": "GET", "u": URL, "h": HEADERS, "b": b""},
    }


def old_result() -> dict[str, Any]:
    """The result frame as executor.py built it before."""
    return {
        "op": "result",
        "id": 123456,
        "ex": 1,
        "o": "ok",
        "s": 200,
        "st": "",
        "h": [list(h) for h in OUT_HEADERS],
        "b": BODY,
        "l": [],
        "e": None,
        "d": "",
        "cold": False,
        "lt": 0.0,
        "rt": 0.183,
        "ev": [],
        "bl": 3,
        "iso": 4,
        "w": False,
    }


def new_invoke() -> Invoke:
    fn = FnSpec(KEY, "acme", 1000, 50, (("GREETING", "hello"),), None)
    return Invoke(123456, 1, fn, HttpRequest("GET", URL, HEADERS, b""), HEADERS[-1][1])


def new_result() -> Result:
    return Result(
        123456, 1, "ok", 200, "", OUT_HEADERS, BODY, (), None, "", False, 0.0, 0.183, (), 3, 4
    )


def old_call(rounds: int) -> float:
    packb, unpackb, header = msgpack.packb, msgpack.unpackb, HEADER.pack
    t0 = time.perf_counter()
    for _ in range(rounds):
        # the supervisor builds and packs the invoke; the executor unpacks it
        payload = packb(old_invoke(), use_bin_type=True)
        data = header(len(payload)) + payload
        msg = unpackb(data[4:], raw=False, use_list=True)
        assert msg["op"] == "invoke"
        # the executor builds and packs the result; the supervisor unpacks it
        payload = packb(old_result(), use_bin_type=True)
        data = header(len(payload)) + payload
        msg = unpackb(data[4:], raw=False, use_list=True)
        assert msg["op"] == "result"
    return (time.perf_counter() - t0) / rounds


def new_call(rounds: int) -> float:
    decode_in, decode_out = to_executor.decode, from_worker.decode
    t0 = time.perf_counter()
    for _ in range(rounds):
        data = frame(new_invoke())
        msg = decode_in(data[4:])
        assert type(msg) is Invoke
        data = frame(new_result())
        msg = decode_out(data[4:])
        assert type(msg) is Result
    return (time.perf_counter() - t0) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200_000)
    args = parser.parse_args()
    sizes = (
        len(msgpack.packb(old_invoke(), use_bin_type=True)),
        len(msgpack.packb(old_result(), use_bin_type=True)),
        len(frame(new_invoke())) - 4,
        len(frame(new_result())) - 4,
    )
    old = new = float("inf")
    for _ in range(5):  # interleaved, best of each: the machine is shared
        old = min(old, old_call(args.rounds))
        new = min(new, new_call(args.rounds))
    print(f"frames of one warm call (invoke + result, encode + decode), {args.rounds} rounds")
    print(f"  dicts + msgpack (before):   {old * 1e6:6.2f} µs/call  ({sizes[0]} + {sizes[1]} B)")
    print(f"  typed + msgspec (messages): {new * 1e6:6.2f} µs/call  ({sizes[2]} + {sizes[3]} B)")
    print(f"  typed / dicts: {new / old:.2f}")


if __name__ == "__main__":
    main()
