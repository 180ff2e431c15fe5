"""Streams inside functions (issue 20, items 2, 3 and 6): ReadableStream, WritableStream,
TransformStream, text and compression streams, bodies as streams, fetch() with stream
bodies. Real worker processes and isolates; upstreams on 127.0.0.1 only."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import zlib
from collections.abc import Iterator

import pytest

from isogate.config.egress import EgressSettings
from isogate.runtime.types import InvokeRequest, Outcome
from tests.runtime.conftest import fn, get


def handler(body: str) -> str:
    """A module function whose fetch handler is ``body`` (it gets req and may await)."""
    return "export default { async fetch(req) { " + body + " } }"


async def run_json(rt, body: str, request: InvokeRequest | None = None) -> object:
    r = await rt.invoke(fn(handler(body)), request or get())
    assert r.outcome is Outcome.OK, (r.error, r.detail)
    return json.loads(r.body)


async def test_readable_stream_basics(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        const rs = new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
        out.push(rs.locked);
        const reader = rs.getReader();
        out.push(rs.locked);
        out.push(await reader.read(), await reader.read(), await reader.read());
        reader.releaseLock();
        out.push(rs.locked);
        // pull-driven with a count strategy: pulls stop at the high-water mark
        let pulls = 0;
        const counted = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } },
          new CountQueuingStrategy({ highWaterMark: 3 }));
        await null; await null; await null; await null;
        out.push(pulls);
        const all = [];
        for await (const x of ReadableStream.from([1, 2, 3])) all.push(x);
        out.push(all);
        const [a, b] = ReadableStream.from(['x', 'y']).tee();
        out.push(await Array.fromAsync(a), await Array.fromAsync(b));
        const errored = new ReadableStream({ start(c) { c.error(new RangeError('boom')); } });
        try { await errored.getReader().read(); } catch (e) { out.push(e.name + ':' + e.message); }
        let cancelled;
        const cs = new ReadableStream({ cancel(r) { cancelled = r; } });
        await cs.cancel('why');
        out.push(cancelled);
        out.push(new ByteLengthQueuingStrategy({ highWaterMark: 8 }).size(new Uint8Array(5)));
        return Response.json(out);
        """,
    )
    assert got == [
        False,
        True,
        {"value": "a", "done": False},
        {"value": "b", "done": False},
        {"done": True},
        False,
        3,
        [1, 2, 3],
        ["x", "y"],
        ["x", "y"],
        "RangeError:boom",
        "why",
        5,
    ]


async def test_byte_streams_and_byob_readers(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        const rs = new ReadableStream({ type: 'bytes',
          pull(c) {
            const req = c.byobRequest;
            if (req) { req.view[0] = 7; req.view[1] = 8; req.respond(2); }
            else c.enqueue(new Uint8Array([1, 2, 3]));
          } });
        const r = rs.getReader({ mode: 'byob' });
        const first = await r.read(new Uint8Array(4));
        out.push(Array.from(first.value), first.value.buffer.byteLength);
        const queued = new ReadableStream({ type: 'bytes', start(c) {
          c.enqueue(new Uint8Array([1, 2, 3, 4, 5])); c.close(); } });
        const qr = queued.getReader({ mode: 'byob' });
        out.push(Array.from((await qr.read(new Uint8Array(2))).value));
        out.push(Array.from((await qr.read(new Uint8Array(8))).value));
        out.push((await qr.read(new Uint8Array(8))).done);
        try { new ReadableStream().getReader({ mode: 'byob' }); } catch (e) { out.push(e.name); }
        // pull() waits for the promise start() returned
        const log = [];
        let go;
        const slow = new ReadableStream({ type: 'bytes',
          start() { return new Promise(r => { go = r; }); },
          pull(c) { log.push('pull'); c.enqueue(new Uint8Array([9])); c.close(); } });
        const pending = slow.getReader().read();
        await scheduler.wait(5);
        log.push('started');
        go();
        log.push(Array.from((await pending).value).join());
        out.push(log);
        return Response.json(out);
        """,
    )
    assert got == [[7, 8], 4, [1, 2], [3, 4, 5], True, "TypeError", ["started", "pull", "9"]]


async def test_writable_transform_pipes_and_text_streams(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        const written = [];
        const ws = new WritableStream({ write(c) { written.push(c); }, close() { written.push('closed'); } });
        const w = ws.getWriter();
        out.push(w.desiredSize);
        await w.write('one'); await w.close();
        out.push(written);
        const upper = new TransformStream({
          transform(ch, c) { c.enqueue(ch.toUpperCase()); },
          flush(c) { c.enqueue('!'); } });
        const sink = [];
        await ReadableStream.from(['a', 'b']).pipeThrough(upper)
          .pipeTo(new WritableStream({ write(c) { sink.push(c); } }));
        out.push(sink);
        // a multi-byte character split between chunks decodes whole
        const bytes = new TextEncoder().encode('h\\u00e9llo \\u{1F600}');
        const parts = [bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9)];
        let s = '';
        for await (const x of ReadableStream.from(parts).pipeThrough(new TextDecoderStream())) s += x;
        out.push(s === 'h\\u00e9llo \\u{1F600}');
        const enc = ReadableStream.from(['\\ud83d', '\\ude00']).pipeThrough(new TextEncoderStream());
        out.push(Array.from(await new Response(enc).bytes()));
        // pipeTo with an aborted signal
        const ac = new AbortController();
        ac.abort(new Error('stop'));
        try { await ReadableStream.from([1]).pipeTo(new WritableStream(), { signal: ac.signal }); }
        catch (e) { out.push(e.message); }
        // an erroring transform errors both sides
        const bad = new TransformStream({ transform() { throw new TypeError('nope'); } });
        try { await ReadableStream.from([1]).pipeThrough(bad).getReader().read(); }
        catch (e) { out.push(e.message); }
        return Response.json(out);
        """,
    )
    assert got == [
        1,
        ["one", "closed"],
        ["A", "B", "!"],
        True,
        [0xF0, 0x9F, 0x98, 0x80],
        "stop",
        "nope",
    ]


async def test_bodies_are_streams(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        const enc = new TextEncoder();
        const r = new Response(ReadableStream.from([enc.encode('str'), enc.encode('eam')]));
        out.push(r.bodyUsed, await r.text(), r.bodyUsed);
        try { await r.text(); } catch (e) { out.push(e.name); }
        const b = new Response('abc');
        const reader = b.body.getReader();
        out.push(b.body === b.body, b.body.locked, b.bodyUsed);
        try { await b.text(); } catch (e) { out.push('locked:' + e.name); }
        const chunk = await reader.read();
        out.push(new TextDecoder().decode(chunk.value), b.bodyUsed, (await reader.read()).done);
        const j = new Response(ReadableStream.from([enc.encode('{"a":'), enc.encode('1}')]));
        out.push(await j.json());
        const clone = new Response(ReadableStream.from([enc.encode('twice')]));
        const copy = clone.clone();
        out.push(await clone.text(), await copy.text());
        const rq = new Request('http://x/', { method: 'POST', body: ReadableStream.from([enc.encode('rq')]) });
        out.push(rq.body instanceof ReadableStream, await rq.arrayBuffer().then(b => b.byteLength));
        // the incoming request's body, read as a stream
        out.push(await new Response(req.body).text(), req.bodyUsed);
        try { await new Response(new ReadableStream({ start(c) { c.enqueue('s'); c.close(); } })).text(); }
        catch (e) { out.push('not bytes:' + e.name); }
        const blob = new Blob(['bl', 'ob']);
        out.push(await new Response(blob.stream()).text());
        return Response.json(out);
        """,
        InvokeRequest("POST", "http://example.com/", (), b"incoming"),
    )
    assert got == [
        False,
        "stream",
        True,
        "TypeError",
        True,
        True,
        False,
        "locked:TypeError",
        "abc",
        True,
        True,
        {"a": 1},
        "twice",
        "twice",
        True,
        2,
        "incoming",
        True,
        "not bytes:TypeError",
        "blob",
    ]


async def test_streamed_response_completes_after_timers(runtime) -> None:
    src = handler(
        """
        const { readable, writable } = new TransformStream({
          transform(ch, c) { c.enqueue(new TextEncoder().encode(ch.toUpperCase())); } });
        const w = writable.getWriter();
        (async () => {
          for (let i = 0; i < 3; i++) { await scheduler.wait(5); await w.write('part' + i + ';'); }
          await w.close();
        })();
        return new Response(readable, { headers: { 'content-type': 'text/plain' } });
        """
    )
    r = await runtime.invoke(fn(src), get())
    assert (r.outcome, r.body) == (Outcome.OK, b"PART0;PART1;PART2;")
    # the echo path: the request's own body stream becomes the response body
    echo = handler("return new Response(req.body);")
    r = await runtime.invoke(fn(echo), InvokeRequest("POST", "http://x/", (), b"\x00\xffbytes"))
    assert (r.outcome, r.body) == (Outcome.OK, b"\x00\xffbytes")


async def test_streamed_response_over_the_cap_and_erroring(make_runtime) -> None:
    rt = await make_runtime(workers=1, threads_per_worker=1, max_response_body=1024)
    big = handler(
        "return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(600)); } }));"
    )
    r = await rt.invoke(fn(big), get())
    assert r.outcome is Outcome.TOO_LARGE
    bad = handler(
        "return new Response(new ReadableStream({ async pull(c) { await scheduler.wait(1);"
        " c.error(new Error('upstream broke')); } }));"
    )
    r = await rt.invoke(fn(bad), get())
    assert r.outcome is Outcome.JS_ERROR and r.error is not None
    assert "upstream broke" in r.error.message


async def test_compression_streams_round_trip_and_match_zlib(runtime) -> None:
    src = handler(
        """
        const out = {};
        const text = 'compress me '.repeat(50);
        for (const f of ['gzip', 'deflate', 'deflate-raw']) {
          const packed = await new Response(new Response(text).body.pipeThrough(new CompressionStream(f))).arrayBuffer();
          const back = await new Response(new Response(packed).body.pipeThrough(new DecompressionStream(f))).text();
          out[f] = [packed.byteLength < text.length, back === text];
        }
        for (const bad of [() => new CompressionStream('br'), () => new DecompressionStream()]) {
          try { bad(); } catch (e) { out[e.name] = (out[e.name] || 0) + 1; }
        }
        try {
          await new Response(new Response('not gzip').body.pipeThrough(new DecompressionStream('gzip'))).text();
        } catch (e) { out.invalid = e.name; }
        const gz = ReadableStream.from([new TextEncoder().encode('hello '), new TextEncoder().encode('gzip')])
          .pipeThrough(new CompressionStream('gzip'));
        return new Response(gz, { headers: { 'x-out': JSON.stringify(out) } });
        """
    )
    r = await runtime.invoke(fn(src), get())
    assert r.outcome is Outcome.OK, (r.error, r.detail)
    assert gzip.decompress(r.body) == b"hello gzip"
    out = json.loads(dict(r.headers)["x-out"])
    assert out == {
        "gzip": [True, True],
        "deflate": [True, True],
        "deflate-raw": [True, True],
        "TypeError": 2,
        "invalid": "TypeError",
    }
    # what the host's zlib wrote, another zlib reads (raw deflate has no header)
    raw = handler(
        "return new Response(new Response('raw!').body.pipeThrough(new CompressionStream('deflate-raw')));"
    )
    r = await runtime.invoke(fn(raw), get())
    assert zlib.decompress(r.body, -15) == b"raw!"


async def test_compression_chunks_and_trailing_data(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        // a chunk must be a BufferSource: shared memory is not one (no [AllowShared])
        const shared = new WebAssembly.Memory({ shared: true, initial: 1, maximum: 1 }).buffer;
        for (const chunk of [shared, new Uint8Array(shared), null]) {
          const cs = new CompressionStream('gzip');
          const read = cs.readable.getReader().read();
          try { await cs.writable.getWriter().write(chunk); out.push('written'); }
          catch (e) { out.push(e.name); }
          try { await read; out.push('read'); } catch (e) { out.push(e.name); }
        }
        // data after the end of the compressed input: what it decompressed to is
        // delivered, then the stream errors with a TypeError
        const ds = new DecompressionStream('deflate');
        const reader = ds.readable.getReader();
        const packed = new Uint8Array(await new Response(
          new Response('expected output').body.pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
        ds.writable.getWriter().write(new Uint8Array([...packed, 0])).catch(() => {});
        const first = await reader.read();
        out.push(new TextDecoder().decode(first.value));
        try { await reader.read(); out.push('no error'); } catch (e) { out.push(e.name); }
        return Response.json(out);
        """,
    )
    assert got == ["TypeError"] * 6 + ["expected output", "TypeError"]


class _Upstream(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self._send(b"got:" + body)

    def do_GET(self) -> None:
        self._send(b"upstream says hello")

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_fetch_with_stream_bodies(make_runtime, upstream: str) -> None:
    rt = await make_runtime(
        workers=1, threads_per_worker=1, egress=EgressSettings(allow=["127.0.0.1"])
    )
    src = handler(
        """
        const enc = new TextEncoder();
        const body = new ReadableStream({ async pull(c) {
          await scheduler.wait(1); c.enqueue(enc.encode('streamed')); c.close(); } });
        const posted = await (await fetch('UPSTREAM/', { method: 'POST', body })).text();
        const res = await fetch('UPSTREAM/');
        const upper = new TransformStream({ transform(ch, c) {
          c.enqueue(enc.encode(new TextDecoder().decode(ch).toUpperCase())); } });
        return new Response(res.body.pipeThrough(upper), { headers: { 'x-posted': posted } });
        """.replace("UPSTREAM", upstream)
    )
    r = await rt.invoke(fn(src), get())
    assert r.outcome is Outcome.OK, (r.error, r.detail)
    assert r.body == b"UPSTREAM SAYS HELLO"
    assert dict(r.headers)["x-posted"] == "got:streamed"


async def test_streams_load_only_on_first_use(runtime) -> None:
    # The area is an accessor on globalThis until something reads it: handling a
    # request (with a body) and answering does not load it; reading a body as a
    # stream does, and once read the global is a plain writable data property.
    got = await run_json(
        runtime,
        """
        const lazy = () => typeof Object.getOwnPropertyDescriptor(globalThis, 'ReadableStream').get;
        const before = [lazy(), await req.text(), lazy()];
        const r = new Response('x');
        r.headers.set('a', 'b');
        before.push(lazy());
        const stream = new Response('y').body;
        const isStream = stream instanceof ReadableStream;
        const d = Object.getOwnPropertyDescriptor(globalThis, 'ReadableStream');
        globalThis.TransformStream = 1;
        return Response.json([...before, isStream, d.writable, d.enumerable,
          d.value === stream.constructor, TransformStream]);
        """,
        InvokeRequest("POST", "http://example.com/", (), b"body"),
    )
    assert got == ["function", "body", "function", "function", True, True, False, True, 1]


async def test_byte_streams_transfer_buffers(runtime) -> None:
    # The Streams Standard hands buffers over: enqueue() detaches the chunk's buffer,
    # read(view) detaches the view's and resolves with a view on the moved buffer.
    got = await run_json(
        runtime,
        """
        const out = [];
        let ctl;
        const rs = new ReadableStream({ type: 'bytes', start(c) { ctl = c; } });
        const chunk = new Uint8Array([1, 2, 3]);
        ctl.enqueue(chunk);
        out.push(chunk.byteLength, chunk.buffer.byteLength);
        const view = new Uint8Array(8);
        const got = await rs.getReader({ mode: 'byob' }).read(view);
        out.push(view.buffer.byteLength, Array.from(got.value), got.value.buffer.byteLength,
          got.value.buffer !== view.buffer);
        // a detached chunk, or a view on a detached buffer, is refused
        const gone = new Uint8Array(4);
        gone.buffer.transfer();
        try { ctl.enqueue(gone); } catch (e) { out.push('enqueue ' + e.name); }
        const r2 = new ReadableStream({ type: 'bytes' }).getReader({ mode: 'byob' });
        try { await r2.read(gone); } catch (e) { out.push('read ' + e.name); }
        // a default reader also gets its chunk's moved buffer
        const moved = new Uint8Array([4, 5]);
        const ds = new ReadableStream({ type: 'bytes', start(c) { c.enqueue(moved); c.close(); } });
        const dr = ds.getReader();
        out.push(moved.byteLength, Array.from((await dr.read()).value), (await dr.read()).done);
        try { new ReadableStream({ type: 'bytes', autoAllocateChunkSize: 0 }); }
        catch (e) { out.push('auto ' + e.name); }
        return Response.json(out);
        """,
    )
    assert got == [
        0,
        0,
        0,
        [1, 2, 3],
        8,
        True,
        "enqueue TypeError",
        "read TypeError",
        0,
        [4, 5],
        True,
        "auto TypeError",
    ]


async def test_byob_requests_follow_pull_into_descriptors(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const out = [];
        // respond(3) into a 2-element Uint16Array: one element now, the odd byte is
        // queued for the next read
        let ctl;
        const rs = new ReadableStream({ type: 'bytes', start(c) { ctl = c; } });
        const reader = rs.getReader({ mode: 'byob' });
        const p1 = reader.read(new Uint16Array(2));
        const br = ctl.byobRequest;
        out.push(br.view.constructor.name, br.view.byteLength);
        br.view.set([1, 2, 3]);
        br.respond(3);
        out.push(ctl.byobRequest, br.view);
        const first = await p1;
        out.push(first.value.constructor.name, first.value.length);
        const second = await reader.read(new Uint8Array(4));
        out.push(Array.from(second.value));
        // respond() after the request's view was detached, and respondWithNewView()
        // with a view over a buffer of another length
        const p3 = reader.read(new Uint8Array(4));
        const r3 = ctl.byobRequest;
        r3.view.buffer.transfer();
        try { r3.respond(1); } catch (e) { out.push('respond ' + e.name); }
        try { ctl.byobRequest.respondWithNewView(new Uint8Array(2)); } catch (e) { out.push('view ' + e.name); }
        await reader.cancel();
        out.push((await p3).done);
        // a closed stream with a pending read: respond(0) answers it with an empty view
        let c2;
        const rs2 = new ReadableStream({ type: 'bytes', start(c) { c2 = c; } });
        const r4 = rs2.getReader({ mode: 'byob' });
        const p4 = r4.read(new Uint8Array(3));
        c2.close();
        try { c2.byobRequest.respond(1); } catch (e) { out.push('closed ' + e.name); }
        c2.byobRequest.respond(0);
        const last = await p4;
        out.push(last.done, last.value.byteLength, last.value.buffer.byteLength);
        return Response.json(out);
        """,
    )
    assert got == [
        "Uint8Array",
        4,
        None,
        None,
        "Uint16Array",
        1,
        [3],
        "respond TypeError",
        "view RangeError",
        True,
        "closed TypeError",
        True,
        0,
        3,
    ]


async def test_byte_stream_tee_keeps_byte_branches(runtime) -> None:
    # tee() of a byte stream gives byte streams: a branch can be read with a BYOB reader,
    # and nothing is pulled until a branch reads.
    got = await run_json(
        runtime,
        """
        const out = [];
        let pulls = 0;
        const rs = new ReadableStream({ type: 'bytes', pull(c) {
          pulls++;
          if (pulls > 2) { c.close(); if (c.byobRequest) c.byobRequest.respond(0); return; }
          c.enqueue(new Uint8Array([pulls, pulls])); } });
        const [a, b] = rs.tee();
        await scheduler.wait(1);
        out.push(pulls);
        const ra = a.getReader({ mode: 'byob' });
        const x = await ra.read(new Uint8Array(1));
        out.push(Array.from(x.value), pulls);
        out.push(Array.from((await ra.read(new Uint8Array(4))).value));
        const all = [];
        for await (const v of b) all.push(Array.from(v));
        out.push(all);
        return Response.json(out);
        """,
    )
    assert got == [0, [1], 1, [1], [[1], [1], [2, 2]]]


async def test_stream_dictionaries_and_pipe_options(runtime) -> None:
    # WebIDL dictionaries: a primitive is refused, members are read in lexicographic
    # order, and pipeThrough() brand-checks `readable` before it reads `writable`.
    got = await run_json(
        runtime,
        """
        const out = [];
        try { new ReadableStream().getReader(5); } catch (e) { out.push('getReader ' + e.name); }
        try { new ReadableStream().values(5); } catch (e) { out.push('values ' + e.name); }
        const touched = [];
        const opts = {};
        for (const k of ['signal', 'preventClose', 'preventCancel', 'preventAbort']) {
          Object.defineProperty(opts, k, { get() { touched.push(k); return undefined; } });
        }
        await new ReadableStream({ start(c) { c.close(); } }).pipeTo(new WritableStream(), opts);
        out.push(touched.join());
        let writableRead = false;
        const pair = { readable: {}, get writable() { writableRead = true; return new WritableStream(); } };
        try { new ReadableStream().pipeThrough(pair); } catch (e) { out.push(e.name, writableRead); }
        // the sink's write() is not called inside the enqueue() that feeds a pipe
        let ctl;
        let inWrite = false;
        new ReadableStream({ start(c) { ctl = c; } }, { highWaterMark: 0 })
          .pipeTo(new WritableStream({ write() { inWrite = true; } }));
        await null;
        ctl.enqueue('x');
        out.push(inWrite);
        await scheduler.wait(1);
        out.push(inWrite);
        return Response.json(out);
        """,
    )
    assert got == [
        "getReader TypeError",
        "values TypeError",
        "preventAbort,preventCancel,preventClose,signal",
        "TypeError",
        False,
        False,
        True,
    ]


async def test_async_iterator_return_is_named_return(runtime) -> None:
    got = await run_json(
        runtime,
        """
        const proto = Object.getPrototypeOf(new ReadableStream().values());
        const ret = Object.getOwnPropertyDescriptor(proto, 'return').value;
        return Response.json([ret.name, ret.length, 'prototype' in ret]);
        """,
    )
    assert got == ["return", 1, False]
