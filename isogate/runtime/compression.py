"""CompressionStream/DecompressionStream as a host operation: the host's zlib.

The prelude (45-streams.js) asks for ``["zlib", args]`` operations; each is short and
CPU-bound, so the executor performs it in its own thread and delivers the result with
its next eval. A compressor lives in the host, named by a small integer handle that is
only meaningful for the invocation (flight) that opened it: a flight holds a
:class:`ZlibStreams`, which goes away with the flight, so nothing outlives its
invocation. Bytes cross as *binary strings* (one char per byte) inside JSON.

Operations (``args``):
    {"a": "new", "f": "gzip" | "deflate" | "deflate-raw", "m": "c" | "d"} -> handle
    {"a": "data", "h": handle, "d": bytes} -> output bytes so far, or
        [output bytes, message] when the compressed data ended inside the chunk with
        bytes after it: the output is enqueued, then the stream errors (a TypeError
        with the message), as the Compression Standard's "decompress and enqueue"
        orders it (the handle is freed)
    {"a": "end", "h": handle} -> the last output bytes (the handle is freed)
    {"a": "drop", "h": handle} -> null (cancelled stream; freed)
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from .isolate import error_payload

#: zlib window bits per CompressionStream format (WHATWG Compression Standard)
WBITS = {"gzip": 31, "deflate": 15, "deflate-raw": -15}
#: live (de)compressors one invocation may hold at a time
MAX_STREAMS = 16
#: bytes one chunk may decompress to: bounds a "zip bomb" chunk's memory
MAX_CHUNK_OUTPUT = 16 * 1024 * 1024


class ZlibError(Exception):
    """A (de)compression failure the function sees as a TypeError."""


#: the TypeError's message for bytes after the end of the compressed data
TRAILING = "Trailing bytes after end of compressed data"


class _Trailing(Exception):
    """The compressed data ended inside a chunk with bytes after it; ``output`` is what
    the chunk decompressed to before its end."""

    def __init__(self, output: bytes) -> None:
        super().__init__(TRAILING)
        self.output = output


class ZlibStreams:
    """One invocation's open compressors and decompressors, by handle."""

    def __init__(self) -> None:
        self._open: dict[int, Any] = {}
        self._next = 1

    def apply(self, args: Any) -> str:
        """Perform one operation; the delivery payload (a value or a TypeError)."""
        try:
            return json.dumps({"v": self._apply(args)})
        except ZlibError as e:
            return error_payload("TypeError", str(e))
        except (zlib.error, KeyError, TypeError, ValueError, UnicodeEncodeError):
            return error_payload("TypeError", "The compressed data is invalid.")

    def _apply(self, args: Any) -> Any:
        if not isinstance(args, dict):
            raise ZlibError("bad zlib operation")
        action = args.get("a")
        if action == "new":
            wbits = WBITS.get(args.get("f"))  # type: ignore[arg-type]
            if wbits is None:
                raise ZlibError("Unsupported compression format")
            if len(self._open) >= MAX_STREAMS:
                raise ZlibError(f"Too many open compression streams (limit {MAX_STREAMS}).")
            if args.get("m") == "c":
                obj: Any = (True, zlib.compressobj(wbits=wbits))
            else:
                obj = (False, zlib.decompressobj(wbits=wbits))
            handle = self._next
            self._next += 1
            self._open[handle] = obj
            return handle
        h = args.get("h")
        if not isinstance(h, int) or h not in self._open:
            raise ZlibError("The compression stream is closed.")
        obj = self._open[h]
        if action == "drop":
            del self._open[h]
            return None
        if action == "data":
            data = str(args.get("d", "")).encode("latin-1")
            try:
                return _out(self._data(obj, data))
            except _Trailing as t:
                del self._open[h]
                if not t.output:
                    raise ZlibError(TRAILING) from None
                return [_out(t.output), TRAILING]
        if action == "end":
            del self._open[h]
            return _out(self._end(obj))
        raise ZlibError("bad zlib operation")

    @staticmethod
    def _data(pair: tuple[bool, Any], data: bytes) -> bytes:
        compress, obj = pair
        if compress:
            packed: bytes = obj.compress(data)
            return packed
        if obj.eof:
            if data:
                raise ZlibError(TRAILING)
            return b""
        out: bytes = obj.decompress(data, MAX_CHUNK_OUTPUT)
        if obj.unconsumed_tail:
            raise ZlibError(f"A chunk decompresses to more than {MAX_CHUNK_OUTPUT} bytes.")
        if obj.eof and obj.unused_data:
            raise _Trailing(out)
        return out

    @staticmethod
    def _end(pair: tuple[bool, Any]) -> bytes:
        compress, obj = pair
        if compress:
            rest: bytes = obj.flush()
            return rest
        if not obj.eof:
            raise ZlibError("Compressed input was truncated.")
        return b""


def _out(data: bytes) -> str:
    return data.decode("latin-1")


# -- Content-Encoding of a function's response -------------------------------------------
# workerd encodes a body whose Response says ``Content-Encoding: gzip`` itself (its
# compression semantics: the function hands over plain bytes and names the encoding),
# with zlib's defaults (level 6, a gzip header without a time or name); so does the host.


def gzip_marked(headers: tuple[tuple[str, str], ...]) -> bool:
    """Whether the response says ``Content-Encoding: gzip`` (so its body is encoded)."""
    for name, value in headers:
        if len(name) == 16 and name.lower() == "content-encoding":
            return value.strip().lower() == "gzip"
    return False


def gzip_whole(data: bytes) -> bytes:
    """``data`` as one gzip member, byte for byte what workerd sends."""
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


class GzipChunks:
    """A streamed body gzip-encoded chunk by chunk: each chunk is flushed (so what the
    function produced reaches its client), :meth:`end` closes the member."""

    __slots__ = ("_c",)

    def __init__(self) -> None:
        self._c = zlib.compressobj(6, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)

    def end(self) -> bytes:
        return self._c.flush()
