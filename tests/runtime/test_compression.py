"""The zlib host operation's logic (isogate/runtime/compression.py): handles, bounds,
and the errors a function sees. Pure logic, the host's real zlib."""

from __future__ import annotations

import gzip
import json
import zlib

from isogate.runtime import compression
from isogate.runtime.compression import ZlibStreams


def value(payload: str):
    data = json.loads(payload)
    assert "e" not in data, data
    return data["v"]


def error(payload: str) -> str:
    data = json.loads(payload)
    assert data["e"]["name"] == "TypeError"
    return data["e"]["message"]


def binary(b: bytes) -> str:
    return b.decode("latin-1")


def test_compress_then_decompress_in_chunks() -> None:
    z = ZlibStreams()
    h = value(z.apply({"a": "new", "f": "gzip", "m": "c"}))
    out = value(z.apply({"a": "data", "h": h, "d": binary(b"hello \xff")}))
    out += value(z.apply({"a": "end", "h": h}))
    packed = out.encode("latin-1")
    assert gzip.decompress(packed) == b"hello \xff"
    d = value(z.apply({"a": "new", "f": "gzip", "m": "d"}))
    got = value(z.apply({"a": "data", "h": d, "d": binary(packed[:5])}))
    got += value(z.apply({"a": "data", "h": d, "d": binary(packed[5:])}))
    got += value(z.apply({"a": "end", "h": d}))
    assert got.encode("latin-1") == b"hello \xff"
    # both handles are gone after "end"
    assert "closed" in error(z.apply({"a": "data", "h": h, "d": ""}))


def test_bad_input_truncation_and_trailing_bytes() -> None:
    z = ZlibStreams()
    d = value(z.apply({"a": "new", "f": "deflate", "m": "d"}))
    assert error(z.apply({"a": "data", "h": d, "d": "not zlib"}))
    packed = zlib.compress(b"abc")
    d = value(z.apply({"a": "new", "f": "deflate", "m": "d"}))
    value(z.apply({"a": "data", "h": d, "d": binary(packed[:-2])}))
    assert "truncated" in error(z.apply({"a": "end", "h": d}))
    # bytes after the end: the chunk's output comes with the error, the handle is freed
    d = value(z.apply({"a": "new", "f": "deflate", "m": "d"}))
    out, message = value(z.apply({"a": "data", "h": d, "d": binary(packed + b"x")}))
    assert out.encode("latin-1") == b"abc" and "Trailing" in message
    assert "closed" in error(z.apply({"a": "end", "h": d}))
    # ... and a later chunk after the end is an error of its own
    d = value(z.apply({"a": "new", "f": "deflate", "m": "d"}))
    value(z.apply({"a": "data", "h": d, "d": binary(packed)}))
    assert "Trailing" in error(z.apply({"a": "data", "h": d, "d": "x"}))
    assert "Unsupported" in error(z.apply({"a": "new", "f": "br", "m": "c"}))
    assert error(z.apply("nonsense"))


def test_open_streams_and_chunk_output_are_bounded(monkeypatch) -> None:
    z = ZlibStreams()
    for _ in range(compression.MAX_STREAMS):
        value(z.apply({"a": "new", "f": "deflate-raw", "m": "c"}))
    assert "Too many" in error(z.apply({"a": "new", "f": "deflate-raw", "m": "c"}))
    value(z.apply({"a": "drop", "h": 1}))
    value(z.apply({"a": "new", "f": "deflate-raw", "m": "c"}))
    # a chunk that inflates past the cap fails instead of filling memory
    monkeypatch.setattr(compression, "MAX_CHUNK_OUTPUT", 1000)
    bomb = gzip.compress(b"\0" * 100_000)
    y = ZlibStreams()
    d = value(y.apply({"a": "new", "f": "gzip", "m": "d"}))
    assert "more than 1000 bytes" in error(y.apply({"a": "data", "h": d, "d": binary(bomb)}))
