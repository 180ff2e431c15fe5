// WHATWG Streams (ReadableStream, WritableStream, TransformStream, the queuing
// strategies) and TextEncoderStream/TextDecoderStream, written compactly after the
// spec's abstract operations.
//
// Lazy by area: everything lives inside loadStreams(), which V8 only pre-parses
// until the first use (a getter on globalThis or a body's `.body`), so a function
// that never touches streams pays neither heap nor start-up for them. Tenant
// contexts refuse code generation from strings, so the laziness is a function
// that is called once, not eval.
//
// Internals are plain records; the public objects only hold one (a private
// field), so tenant code can never reach or replace the state machines.

// Captured for the byte streams (they transfer buffers, as the spec does), outside the
// lazily run loader: tenant code may have replaced the globals by the first use.
const ArrayBufferTransfer_ = ArrayBuffer.prototype.transfer;
const ArrayBufferGetDetached_ = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached').get;
const TYPED_ARRAYS = { __proto__: null };
{
  const ctors = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  if (typeof Float16Array === 'function') ctors[ctors.length] = Float16Array;
  for (let i = 0; i < ctors.length; i++) {
    TYPED_ARRAYS[ctors[i].name] = { __proto__: null, ctor: ctors[i], elem: ctors[i].BYTES_PER_ELEMENT };
  }
}

let streamsNS = null;
function streams() {
  if (streamsNS === null) streamsNS = loadStreams();
  return streamsNS;
}

function loadStreams() {
  const then = (p, f, r) => call(Promise_then, p, f, r);
  const noop = () => {};
  const markHandled = (p) => {
    then(p, undefined, noop);
    return p;
  };
  const rejected = (e) => markHandled(Promise_reject(e));
  function deferred() {
    const d = { __proto__: null, promise: null, resolve: null, reject: null, settled: false };
    d.promise = new Promise_((a, b) => {
      d.resolve = (v) => {
        d.settled = true;
        a(v);
      };
      d.reject = (e) => {
        d.settled = true;
        b(e);
      };
    });
    return d;
  }
  // Calls a method of an underlying source/sink as a promise.
  function promiseCall(fn, self, args) {
    if (fn === undefined) return Promise_resolve(undefined);
    try {
      return Promise_resolve(Reflect_apply(fn, self, args));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  function getMethod(obj, name) {
    if (obj === undefined || obj === null) return undefined;
    const m = obj[name];
    if (m === undefined || m === null) return undefined;
    if (typeof m !== 'function') throw new TypeError_(name + ' must be a function');
    return m;
  }
  const iterResult = (value, done) => ({ value, done });

  // ---- queuing strategies --------------------------------------------------------
  function extractHWM(strategy, def) {
    const h = strategy == null ? undefined : strategy.highWaterMark;
    if (h === undefined) return def;
    const n = Number_(h);
    if (n !== n || n < 0) throw new RangeError_('Invalid highWaterMark');
    return n;
  }
  function extractSize(strategy) {
    const s = strategy == null ? undefined : strategy.size;
    if (s === undefined) return () => 1;
    if (typeof s !== 'function') throw new TypeError_('size must be a function');
    return (chunk) => s(chunk);
  }
  function strategyInit(init, what) {
    if (init === null || typeof init !== 'object') {
      throw new TypeError_("Failed to construct '" + what + "': parameter 1 is not of type 'QueuingStrategyInit'.");
    }
    if (init.highWaterMark === undefined) {
      throw new TypeError_("Failed to construct '" + what + "': required member highWaterMark is undefined.");
    }
    return Number_(init.highWaterMark);
  }
  // Method definitions: named `size`, no prototype, not constructors (WebIDL).
  const byteSize = {
    size(chunk) {
      return chunk.byteLength;
    },
  }.size;
  const countSize = {
    size() {
      return 1;
    },
  }.size;
  class ByteLengthQueuingStrategy {
    #hwm;
    constructor(init) {
      this.#hwm = strategyInit(init, 'ByteLengthQueuingStrategy');
    }
    get highWaterMark() {
      if (!(#hwm in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#hwm;
    }
    get size() {
      if (!(#hwm in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return byteSize;
    }
  }
  class CountQueuingStrategy {
    #hwm;
    constructor(init) {
      this.#hwm = strategyInit(init, 'CountQueuingStrategy');
    }
    get highWaterMark() {
      if (!(#hwm in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#hwm;
    }
    get size() {
      if (!(#hwm in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return countSize;
    }
  }

  // ---- queue-with-sizes ----------------------------------------------------------
  function enqueueValueWithSize(c, value, size) {
    const n = Number_(size);
    if (n !== n || n < 0 || n === Infinity) throw new RangeError_('Invalid chunk size');
    c.queue[c.queue.length] = { __proto__: null, value, size: n };
    c.queueTotalSize += n;
  }
  function dequeueValue(c) {
    const pair = c.queue.shift();
    c.queueTotalSize -= pair.size;
    if (c.queueTotalSize < 0) c.queueTotalSize = 0;
    return pair.value;
  }
  function resetQueue(c) {
    c.queue = [];
    c.queueTotalSize = 0;
  }

  // ---- ReadableStream ------------------------------------------------------------
  const TOKEN = Symbol_('streams');
  let rsRecord; // (obj) -> record or undefined
  let readerRecord;
  let newRSObject; // (record) -> ReadableStream

  function newStreamRecord() {
    return {
      __proto__: null, state: 'readable', reader: null, storedError: undefined,
      disturbed: false, controller: null, obj: null,
    };
  }
  const isLocked = (s) => s.reader !== null;

  function rsCancel(s, reason) {
    s.disturbed = true;
    if (s.state === 'closed') return Promise_resolve(undefined);
    if (s.state === 'errored') return Promise_reject(s.storedError);
    rsClose(s);
    const r = s.reader;
    if (r !== null && r.byob) {
      const reqs = r.readIntoRequests;
      r.readIntoRequests = [];
      for (let i = 0; i < reqs.length; i++) reqs[i].close();
    }
    const p = s.controller.cancelSteps(reason);
    return then(p, () => undefined);
  }
  function rsClose(s) {
    s.state = 'closed';
    const r = s.reader;
    if (r === null) return;
    r.closed.resolve(undefined);
    if (!r.byob) {
      const reqs = r.readRequests;
      r.readRequests = [];
      for (let i = 0; i < reqs.length; i++) reqs[i].close();
    }
  }
  function rsError(s, e) {
    s.state = 'errored';
    s.storedError = e;
    const r = s.reader;
    if (r === null) return;
    markHandled(r.closed.promise);
    r.closed.reject(e);
    const reqs = r.byob ? r.readIntoRequests : r.readRequests;
    if (r.byob) r.readIntoRequests = [];
    else r.readRequests = [];
    for (let i = 0; i < reqs.length; i++) reqs[i].error(e);
  }
  function numReadRequests(s) {
    return s.reader !== null && !s.reader.byob ? s.reader.readRequests.length : 0;
  }
  function fulfillReadRequest(s, chunk, done) {
    const req = s.reader.readRequests.shift();
    if (done) req.close();
    else req.chunk(chunk);
  }

  // default controller
  function newDefaultController(s, start, pull, cancel, hwm, size) {
    const c = {
      __proto__: null, stream: s, queue: [], queueTotalSize: 0, started: false,
      closeRequested: false, pullAgain: false, pulling: false, hwm, size,
      pullAlgorithm: pull, cancelAlgorithm: cancel, obj: null, byte: false,
    };
    c.cancelSteps = (reason) => {
      resetQueue(c);
      const p = c.cancelAlgorithm(reason);
      clearAlgorithms(c);
      return p;
    };
    c.pullSteps = (req) => {
      if (c.queue.length > 0) {
        const chunk = dequeueValue(c);
        if (c.closeRequested && c.queue.length === 0) {
          clearAlgorithms(c);
          rsClose(s);
        } else {
          callPullIfNeeded(c);
        }
        req.chunk(chunk);
      } else {
        s.reader.readRequests[s.reader.readRequests.length] = req;
        callPullIfNeeded(c);
      }
    };
    c.releaseSteps = noop;
    s.controller = c;
    c.obj = new ReadableStreamDefaultController(TOKEN, c);
    let startResult;
    startResult = start(c.obj);
    then(Promise_resolve(startResult), () => {
      c.started = true;
      callPullIfNeeded(c);
    }, (e) => controllerError(c, e));
    return c;
  }
  function clearAlgorithms(c) {
    c.pullAlgorithm = () => Promise_resolve(undefined);
    c.cancelAlgorithm = () => Promise_resolve(undefined);
    c.size = () => 1;
  }
  function canCloseOrEnqueue(c) {
    return !c.closeRequested && c.stream.state === 'readable';
  }
  function desiredSize(c) {
    const st = c.stream.state;
    if (st === 'errored') return null;
    if (st === 'closed') return 0;
    return c.hwm - c.queueTotalSize;
  }
  function shouldPull(c) {
    const s = c.stream;
    if (!canCloseOrEnqueue(c) || !c.started) return false;
    if (isLocked(s) && numReadRequests(s) > 0) return true;
    return desiredSize(c) > 0;
  }
  function numReadAny(s) {
    const r = s.reader;
    if (r === null) return 0;
    return r.byob ? r.readIntoRequests.length : r.readRequests.length;
  }
  // CallPullIfNeeded of both controllers (default and byte): they differ only in when
  // a pull is needed and how a failed one errors the stream.
  function pullIfNeeded(c, needed, fail) {
    if (!needed(c)) return;
    if (c.pulling) {
      c.pullAgain = true;
      return;
    }
    c.pulling = true;
    then(c.pullAlgorithm(), () => {
      c.pulling = false;
      if (c.pullAgain) {
        c.pullAgain = false;
        pullIfNeeded(c, needed, fail);
      }
    }, (e) => fail(c, e));
  }
  function callPullIfNeeded(c) {
    pullIfNeeded(c, shouldPull, controllerError);
  }
  function controllerClose(c) {
    if (!canCloseOrEnqueue(c)) return;
    c.closeRequested = true;
    if (c.queue.length === 0) {
      clearAlgorithms(c);
      rsClose(c.stream);
    }
  }
  function controllerEnqueue(c, chunk) {
    if (!canCloseOrEnqueue(c)) return;
    const s = c.stream;
    if (isLocked(s) && numReadRequests(s) > 0) {
      fulfillReadRequest(s, chunk, false);
    } else {
      let size;
      try {
        size = c.size(chunk);
        enqueueValueWithSize(c, chunk, size);
      } catch (e) {
        controllerError(c, e);
        throw e;
      }
    }
    callPullIfNeeded(c);
  }
  function controllerError(c, e) {
    if (c.byte) {
      byteError(c, e);
      return;
    }
    if (c.stream.state !== 'readable') return;
    resetQueue(c);
    clearAlgorithms(c);
    rsError(c.stream, e);
  }

  class ReadableStreamDefaultController {
    #c;
    constructor(token, c) {
      if (token !== TOKEN) throw new TypeError_('Illegal constructor');
      this.#c = c;
    }
    get desiredSize() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return desiredSize(this.#c);
    }
    close() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      if (!canCloseOrEnqueue(this.#c)) throw new TypeError_('The stream is not in a state that permits close');
      controllerClose(this.#c);
    }
    enqueue(chunk = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      if (!canCloseOrEnqueue(this.#c)) throw new TypeError_('The stream is not in a state that permits enqueue');
      controllerEnqueue(this.#c, chunk);
    }
    error(e = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      controllerError(this.#c, e);
    }
  }

  // byte controller, after the spec's ReadableByteStreamController: chunks and the
  // views of BYOB reads are transferred (their buffers detached), reads are served
  // through pull-into descriptors.
  const isDetached = (buf) => call(ArrayBufferGetDetached_, buf);
  // TransferArrayBuffer: throws a TypeError for a detached or non-transferable buffer.
  const transferBuffer = (buf) => call(ArrayBufferTransfer_, buf);
  // A view's parts read through captured accessors, or undefined for a non-view.
  function viewParts(v) {
    if (v === null || typeof v !== 'object') return undefined;
    const tag = TypedArrayPrototypeGetSymbolToStringTag(v);
    if (tag !== undefined) {
      const t = TYPED_ARRAYS[tag];
      return {
        __proto__: null, buffer: TypedArrayPrototypeGetBuffer(v), byteOffset: TypedArrayPrototypeGetByteOffset(v),
        byteLength: TypedArrayPrototypeGetByteLength(v), length: TypedArrayPrototypeGetLength(v),
        ctor: t.ctor, elem: t.elem,
      };
    }
    let buffer;
    try {
      buffer = DataViewPrototypeGetBuffer(v);
    } catch {
      return undefined;
    }
    const gone = isDetached(buffer);
    return {
      __proto__: null, buffer, byteOffset: gone ? 0 : DataViewPrototypeGetByteOffset(v),
      byteLength: gone ? 0 : DataViewPrototypeGetByteLength(v), length: undefined, ctor: DataView_, elem: 1,
    };
  }
  function viewOrThrow(v, what) {
    const p = viewParts(v);
    if (p === undefined) throw new TypeError_(what + ' must be an ArrayBufferView');
    // a view on a SharedArrayBuffer fails later: the ArrayBuffer getters throw a TypeError
    return p;
  }
  function cloneBytes(buffer, byteOffset, byteLength) {
    const out = new ArrayBuffer_(byteLength);
    TypedArrayPrototypeSet(new Uint8Array_(out), new Uint8Array_(buffer, byteOffset, byteLength));
    return out;
  }
  function newByteController(s, start, pull, cancel, hwm, autoAllocate) {
    const c = {
      __proto__: null, stream: s, queue: [], queueTotalSize: 0, started: false,
      closeRequested: false, pullAgain: false, pulling: false, hwm, byte: true,
      pullAlgorithm: pull, cancelAlgorithm: cancel, obj: null, autoAllocate,
      byobRequest: null, pullIntos: [],
    };
    c.cancelSteps = (reason) => {
      byteClearPullIntos(c);
      resetQueue(c);
      const p = c.cancelAlgorithm(reason);
      byteClearAlgs(c);
      return p;
    };
    c.pullSteps = (req) => {
      if (c.queueTotalSize > 0) {
        byteFillReadRequest(c, req);
        return;
      }
      if (c.autoAllocate !== undefined) {
        let buffer;
        try {
          buffer = new ArrayBuffer_(c.autoAllocate);
        } catch (e) {
          req.error(e);
          return;
        }
        c.pullIntos[c.pullIntos.length] = pullIntoDesc(buffer, 0, c.autoAllocate, 1, 1, Uint8Array_, 'default');
      }
      s.reader.readRequests[s.reader.readRequests.length] = req;
      bytePullIfNeeded(c);
    };
    c.releaseSteps = () => {
      if (c.pullIntos.length > 0) {
        const first = c.pullIntos[0];
        first.readerType = 'none';
        c.pullIntos = [first];
      }
    };
    s.controller = c;
    c.obj = new ReadableByteStreamController(TOKEN, c);
    const startResult = start(c.obj);
    then(Promise_resolve(startResult), () => {
      c.started = true;
      bytePullIfNeeded(c);
    }, (e) => byteError(c, e));
    return c;
  }
  // A pull-into descriptor (readerType 'default', 'byob' or 'none').
  function pullIntoDesc(buffer, byteOffset, byteLength, minFill, elem, ctor, readerType) {
    return {
      __proto__: null, buffer, bufferByteLength: ArrayBufferPrototypeGetByteLength(buffer), byteOffset,
      byteLength, filled: 0, minFill, elem, ctor, readerType,
    };
  }
  function byteClearAlgs(c) {
    c.pullAlgorithm = () => Promise_resolve(undefined);
    c.cancelAlgorithm = () => Promise_resolve(undefined);
  }
  function byteInvalidate(c) {
    if (c.byobRequest === null) return;
    byobRequestInvalidate(c.byobRequest);
    c.byobRequest = null;
  }
  function byteClearPullIntos(c) {
    byteInvalidate(c);
    c.pullIntos = [];
  }
  function byteShouldCallPull(c) {
    const s = c.stream;
    if (s.state !== 'readable' || c.closeRequested || !c.started) return false;
    if (numReadAny(s) > 0) return true;
    return desiredSize(c) > 0;
  }
  function bytePullIfNeeded(c) {
    pullIfNeeded(c, byteShouldCallPull, byteError);
  }
  function byteError(c, e) {
    if (c.stream.state !== 'readable') return;
    byteClearPullIntos(c);
    resetQueue(c);
    byteClearAlgs(c);
    rsError(c.stream, e);
  }
  function byteClose(c) {
    const s = c.stream;
    if (c.closeRequested || s.state !== 'readable') return;
    if (c.queueTotalSize > 0) {
      c.closeRequested = true;
      return;
    }
    if (c.pullIntos.length > 0) {
      const first = c.pullIntos[0];
      if (first.filled % first.elem !== 0) {
        const e = new TypeError_('Insufficient bytes to fill elements in the given buffer');
        byteError(c, e);
        throw e;
      }
    }
    byteClearAlgs(c);
    rsClose(s);
  }
  const hasDefaultReader = (s) => s.reader !== null && !s.reader.byob;
  const hasBYOBReader = (s) => s.reader !== null && s.reader.byob;
  function byteShift(c) {
    return c.pullIntos.shift();
  }
  function byteConvert(d) {
    const buffer = transferBuffer(d.buffer);
    return new d.ctor(buffer, d.byteOffset, d.filled / d.elem);
  }
  function byteCommit(s, d) {
    const done = s.state === 'closed';
    const view = byteConvert(d);
    if (d.readerType === 'default') {
      fulfillReadRequest(s, view, done);
    } else {
      const req = s.reader.readIntoRequests.shift();
      if (done) req.close(view);
      else req.chunk(view);
    }
  }
  function byteEnqueueChunk(c, buffer, byteOffset, byteLength) {
    c.queue[c.queue.length] = { __proto__: null, buffer, byteOffset, byteLength };
    c.queueTotalSize += byteLength;
  }
  function byteEnqueueCloned(c, buffer, byteOffset, byteLength) {
    byteEnqueueChunk(c, cloneBytes(buffer, byteOffset, byteLength), 0, byteLength);
  }
  function byteEnqueueDetached(c, d) {
    if (d.filled > 0) byteEnqueueCloned(c, d.buffer, d.byteOffset, d.filled);
    byteShift(c);
  }
  // Enqueues bytes: chunks of the prelude's own streams (`owned`) are copied in,
  // a tenant's are transferred (their buffer detached) as the spec does.
  function byteEnqueue(c, p, owned) {
    const s = c.stream;
    if (c.closeRequested || s.state !== 'readable') return;
    if (isDetached(p.buffer)) throw new TypeError_('chunk buffer is detached');
    const byteLength = p.byteLength;
    const byteOffset = owned ? 0 : p.byteOffset;
    const buffer = owned ? cloneBytes(p.buffer, p.byteOffset, byteLength) : transferBuffer(p.buffer);
    if (c.pullIntos.length > 0) {
      const first = c.pullIntos[0];
      if (isDetached(first.buffer)) throw new TypeError_('The BYOB request is detached');
      byteInvalidate(c);
      first.buffer = transferBuffer(first.buffer);
      if (first.readerType === 'none') byteEnqueueDetached(c, first);
    }
    if (hasDefaultReader(s)) {
      byteProcessReadRequests(c);
      if (numReadRequests(s) === 0) {
        byteEnqueueChunk(c, buffer, byteOffset, byteLength);
      } else {
        if (c.pullIntos.length > 0) byteShift(c);
        fulfillReadRequest(s, new Uint8Array_(buffer, byteOffset, byteLength), false);
      }
    } else if (hasBYOBReader(s)) {
      byteEnqueueChunk(c, buffer, byteOffset, byteLength);
      const filled = byteProcessPullIntos(c);
      for (let i = 0; i < filled.length; i++) byteCommit(s, filled[i]);
    } else {
      byteEnqueueChunk(c, buffer, byteOffset, byteLength);
    }
    bytePullIfNeeded(c);
  }
  function byteFillFromQueue(c, d) {
    const maxBytesToCopy = Math_min(c.queueTotalSize, d.byteLength - d.filled);
    const maxBytesFilled = d.filled + maxBytesToCopy;
    let remaining = maxBytesToCopy;
    let ready = false;
    const maxAligned = maxBytesFilled - (maxBytesFilled % d.elem);
    if (maxAligned >= d.minFill) {
      remaining = maxAligned - d.filled;
      ready = true;
    }
    while (remaining > 0) {
      const head = c.queue[0];
      const n = Math_min(remaining, head.byteLength);
      TypedArrayPrototypeSet(new Uint8Array_(d.buffer, d.byteOffset + d.filled, n),
        new Uint8Array_(head.buffer, head.byteOffset, n));
      if (head.byteLength === n) c.queue.shift();
      else {
        head.byteOffset += n;
        head.byteLength -= n;
      }
      c.queueTotalSize -= n;
      d.filled += n;
      remaining -= n;
    }
    return ready;
  }
  function byteFillReadRequest(c, req) {
    const entry = c.queue.shift();
    c.queueTotalSize -= entry.byteLength;
    byteHandleQueueDrain(c);
    req.chunk(new Uint8Array_(entry.buffer, entry.byteOffset, entry.byteLength));
  }
  function byteHandleQueueDrain(c) {
    if (c.queueTotalSize === 0 && c.closeRequested) {
      byteClearAlgs(c);
      rsClose(c.stream);
    } else {
      bytePullIfNeeded(c);
    }
  }
  function byteProcessPullIntos(c) {
    const filled = [];
    while (c.pullIntos.length > 0) {
      if (c.queueTotalSize === 0) break;
      const d = c.pullIntos[0];
      if (byteFillFromQueue(c, d)) {
        byteShift(c);
        filled[filled.length] = d;
      }
    }
    return filled;
  }
  function byteProcessReadRequests(c) {
    const r = c.stream.reader;
    while (r.readRequests.length > 0) {
      if (c.queueTotalSize === 0) return;
      byteFillReadRequest(c, r.readRequests.shift());
    }
  }
  function bytePullInto(c, p, min, req) {
    const s = c.stream;
    let buffer;
    try {
      buffer = transferBuffer(p.buffer);
    } catch (e) {
      req.error(e);
      return;
    }
    const d = pullIntoDesc(buffer, p.byteOffset, p.byteLength, min * p.elem, p.elem, p.ctor, 'byob');
    if (c.pullIntos.length > 0) {
      c.pullIntos[c.pullIntos.length] = d;
      s.reader.readIntoRequests[s.reader.readIntoRequests.length] = req;
      return;
    }
    if (s.state === 'closed') {
      req.close(new d.ctor(d.buffer, d.byteOffset, 0));
      return;
    }
    if (c.queueTotalSize > 0) {
      if (byteFillFromQueue(c, d)) {
        const view = byteConvert(d);
        byteHandleQueueDrain(c);
        req.chunk(view);
        return;
      }
      if (c.closeRequested) {
        const e = new TypeError_('Insufficient bytes to fill elements in the given buffer');
        byteError(c, e);
        req.error(e);
        return;
      }
    }
    c.pullIntos[c.pullIntos.length] = d;
    s.reader.readIntoRequests[s.reader.readIntoRequests.length] = req;
    bytePullIfNeeded(c);
  }
  function byteRespond(c, bytesWritten) {
    const first = c.pullIntos[0];
    if (c.stream.state === 'closed') {
      if (bytesWritten !== 0) throw new TypeError_('bytesWritten must be 0 on a closed stream');
    } else {
      if (bytesWritten === 0) throw new TypeError_('bytesWritten must be above 0');
      if (first.filled + bytesWritten > first.byteLength) throw new RangeError_('bytesWritten out of range');
    }
    first.buffer = transferBuffer(first.buffer);
    byteRespondInternal(c, bytesWritten);
  }
  function byteRespondClosed(c, first) {
    if (first.readerType === 'none') byteShift(c);
    const s = c.stream;
    if (hasBYOBReader(s)) {
      const filled = [];
      while (filled.length < s.reader.readIntoRequests.length) filled[filled.length] = byteShift(c);
      for (let i = 0; i < filled.length; i++) byteCommit(s, filled[i]);
    }
  }
  function byteRespondReadable(c, bytesWritten, d) {
    const s = c.stream;
    d.filled += bytesWritten;
    if (d.readerType === 'none') {
      byteEnqueueDetached(c, d);
      const filled = byteProcessPullIntos(c);
      for (let i = 0; i < filled.length; i++) byteCommit(s, filled[i]);
      return;
    }
    if (d.filled < d.minFill) return;
    byteShift(c);
    const rem = d.filled % d.elem;
    if (rem > 0) {
      const end = d.byteOffset + d.filled;
      byteEnqueueCloned(c, d.buffer, end - rem, rem);
    }
    d.filled -= rem;
    const filled = byteProcessPullIntos(c);
    byteCommit(s, d);
    for (let i = 0; i < filled.length; i++) byteCommit(s, filled[i]);
  }
  function byteRespondInternal(c, bytesWritten) {
    const first = c.pullIntos[0];
    byteInvalidate(c);
    if (c.stream.state === 'closed') byteRespondClosed(c, first);
    else byteRespondReadable(c, bytesWritten, first);
    bytePullIfNeeded(c);
  }
  function byteRespondWithNewView(c, p) {
    const first = c.pullIntos[0];
    if (c.stream.state === 'closed') {
      if (p.byteLength !== 0) throw new TypeError_('The view must be empty on a closed stream');
    } else if (p.byteLength === 0) {
      throw new TypeError_('The view must not be empty');
    }
    if (first.byteOffset + first.filled !== p.byteOffset) throw new RangeError_('The view has an invalid byteOffset');
    if (first.bufferByteLength !== ArrayBufferPrototypeGetByteLength(p.buffer)) {
      throw new RangeError_('The view has a wrong buffer length');
    }
    if (first.filled + p.byteLength > first.byteLength) throw new RangeError_('The view is too long');
    const n = p.byteLength;
    first.buffer = transferBuffer(p.buffer);
    byteRespondInternal(c, n);
  }
  function byteGetRequest(c) {
    if (c.byobRequest === null && c.pullIntos.length > 0) {
      const first = c.pullIntos[0];
      const view = new Uint8Array_(first.buffer, first.byteOffset + first.filled, first.byteLength - first.filled);
      c.byobRequest = new ReadableStreamBYOBRequest(TOKEN, c, view);
    }
    return c.byobRequest;
  }
  // WebIDL [EnforceRange] unsigned long long.
  function enforceRangeULL(v, what) {
    const n = Number_(v);
    // NaN, infinities and what truncates outside [0, 2^53 - 1] are refused
    if (!(n > -1 && n < 9007199254740992)) throw new TypeError_(what + ' is out of range');
    return n < 0 ? 0 : Math_floor(n);
  }
  function byobRead(s, p, min, req) {
    s.disturbed = true;
    if (s.state === 'errored') req.error(s.storedError);
    else bytePullInto(s.controller, p, min, req);
  }
  let byobRequestInvalidate;
  class ReadableStreamBYOBRequest {
    #c;
    #view;
    constructor(token, c, view) {
      if (token !== TOKEN) throw new TypeError_('Illegal constructor');
      this.#c = c;
      this.#view = view;
    }
    get view() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#view;
    }
    respond(bytesWritten) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const n = enforceRangeULL(bytesWritten, 'bytesWritten');
      const c = this.#c;
      if (c === undefined) throw new TypeError_('This BYOB request has been invalidated');
      if (isDetached(TypedArrayPrototypeGetBuffer(this.#view))) throw new TypeError_('The BYOB request is detached');
      byteRespond(c, n);
    }
    respondWithNewView(view) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const p = viewOrThrow(view, 'view');
      const c = this.#c;
      if (c === undefined) throw new TypeError_('This BYOB request has been invalidated');
      if (isDetached(p.buffer)) throw new TypeError_('The view buffer has been detached');
      byteRespondWithNewView(c, p);
    }
    static {
      byobRequestInvalidate = (r) => {
        r.#c = undefined;
        r.#view = null;
      };
    }
  }
  class ReadableByteStreamController {
    #c;
    constructor(token, c) {
      if (token !== TOKEN) throw new TypeError_('Illegal constructor');
      this.#c = c;
    }
    get byobRequest() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return byteGetRequest(this.#c);
    }
    get desiredSize() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return desiredSize(this.#c);
    }
    close() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const c = this.#c;
      if (c.closeRequested || c.stream.state !== 'readable') throw new TypeError_('The stream is not in a state that permits close');
      byteClose(c);
    }
    enqueue(chunk) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const p = viewOrThrow(chunk, 'chunk');
      if (p.byteLength === 0) throw new TypeError_('chunk must not be empty');
      if (ArrayBufferPrototypeGetByteLength(p.buffer) === 0) throw new TypeError_('chunk must not be empty');
      const c = this.#c;
      if (c.closeRequested || c.stream.state !== 'readable') throw new TypeError_('The stream is not in a state that permits enqueue');
      byteEnqueue(c, p, false);
    }
    error(e = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      byteError(this.#c, e);
    }
  }

  // readers
  function newReaderRecord(s, byob) {
    if (isLocked(s)) throw new TypeError_('This ReadableStream is currently locked to a reader.');
    const r = {
      __proto__: null, stream: s, byob, readRequests: [], readIntoRequests: [], closed: deferred(),
    };
    s.reader = r;
    if (s.state === 'closed') r.closed.resolve(undefined);
    else if (s.state === 'errored') {
      markHandled(r.closed.promise);
      r.closed.reject(s.storedError);
    }
    return r;
  }
  function readerRead(r, req) {
    const s = r.stream;
    s.disturbed = true;
    if (s.state === 'closed') req.close();
    else if (s.state === 'errored') req.error(s.storedError);
    else s.controller.pullSteps(req);
  }
  function promiseReadRequest() {
    const d = deferred();
    return {
      __proto__: null, promise: d.promise,
      chunk: (v) => d.resolve(iterResult(v, false)),
      close: (v) => d.resolve(iterResult(v, true)),
      error: (e) => d.reject(e),
    };
  }
  function readerRelease(r) {
    const s = r.stream;
    const e = new TypeError_('This ReadableStream reader has been released.');
    if (s.state === 'readable') r.closed.reject(e);
    else {
      r.closed = deferred();
      r.closed.reject(e);
    }
    markHandled(r.closed.promise);
    s.controller.releaseSteps();
    s.reader = null;
    r.stream = null;
    const reqs = r.byob ? r.readIntoRequests : r.readRequests;
    r.readRequests = [];
    r.readIntoRequests = [];
    for (let i = 0; i < reqs.length; i++) reqs[i].error(e);
  }
  const releasedError = () => new TypeError_('This ReadableStream reader has been released.');

  class ReadableStreamDefaultReader {
    #r;
    constructor(stream) {
      const s = rsRecord(stream);
      if (s === undefined) throw new TypeError_("Failed to construct 'ReadableStreamDefaultReader': parameter 1 is not of type 'ReadableStream'.");
      this.#r = newReaderRecord(s, false);
    }
    get closed() {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      return this.#r.closed.promise;
    }
    read() {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const r = this.#r;
      if (r.stream === null) return rejected(releasedError());
      const req = promiseReadRequest();
      readerRead(r, req);
      return req.promise;
    }
    releaseLock() {
      if (!(#r in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      if (this.#r.stream !== null) readerRelease(this.#r);
    }
    cancel(reason = undefined) {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const r = this.#r;
      if (r.stream === null) return rejected(releasedError());
      return rsCancel(r.stream, reason);
    }
    static {
      readerRecord = (o) => (o !== null && typeof o === 'object' && #r in o ? o.#r : undefined);
    }
  }
  let byobReaderRecord;
  class ReadableStreamBYOBReader {
    #r;
    constructor(stream) {
      const s = rsRecord(stream);
      if (s === undefined) throw new TypeError_("Failed to construct 'ReadableStreamBYOBReader': parameter 1 is not of type 'ReadableStream'.");
      if (!s.controller.byte) throw new TypeError_('This stream is not a byte stream');
      this.#r = newReaderRecord(s, true);
    }
    get closed() {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      return this.#r.closed.promise;
    }
    read(view, options = undefined) {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      let p;
      let min = 1;
      try {
        p = viewOrThrow(view, 'view');
        const opts = dictArg(options, 'options');
        if (opts !== undefined && opts.min !== undefined) min = enforceRangeULL(opts.min, 'min');
        // (a SharedArrayBuffer fails the captured ArrayBuffer getters with a TypeError)
        if (p.byteLength === 0 || ArrayBufferPrototypeGetByteLength(p.buffer) === 0) {
          throw new TypeError_('view must not be empty');
        }
        if (isDetached(p.buffer)) throw new TypeError_('view is detached');
        if (min === 0) throw new TypeError_('min must be above 0');
        if (min > (p.length === undefined ? p.byteLength : p.length)) throw new RangeError_('min exceeds the view length');
      } catch (e) {
        return rejected(e);
      }
      const r = this.#r;
      if (r.stream === null) return rejected(releasedError());
      const req = promiseReadRequest();
      byobRead(r.stream, p, min, req);
      return req.promise;
    }
    releaseLock() {
      if (!(#r in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      if (this.#r.stream !== null) readerRelease(this.#r);
    }
    cancel(reason = undefined) {
      if (!(#r in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const r = this.#r;
      if (r.stream === null) return rejected(releasedError());
      return rsCancel(r.stream, reason);
    }
    static {
      byobReaderRecord = (o) => (o !== null && typeof o === 'object' && #r in o ? o.#r : undefined);
    }
  }

  // Creates a stream record from JS algorithms (used by the prelude itself).
  function createReadable(start, pull, cancel, hwm = 1, size = () => 1) {
    const s = newStreamRecord();
    newDefaultController(s, start, pull, cancel, hwm, size);
    s.obj = newRSObject(s);
    return s;
  }

  function setUpFromSource(s, source, strategy) {
    const type = source == null ? undefined : source.type;
    const start = getMethod(source, 'start');
    const pull = getMethod(source, 'pull');
    const cancel = getMethod(source, 'cancel');
    if (type !== undefined && String_(type) !== 'bytes') throw new TypeError_('Invalid type: ' + type);
    if (type !== undefined) {
      if (strategy != null && strategy.size !== undefined) throw new RangeError_('A byte stream cannot have a size function');
      const hwm = extractHWM(strategy, 0);
      let auto = source.autoAllocateChunkSize;
      if (auto !== undefined) {
        auto = enforceRangeULL(auto, 'autoAllocateChunkSize');
        if (auto === 0) throw new TypeError_('autoAllocateChunkSize must be greater than 0');
      }
      let c;
      c = newByteController(s, (ctl) => (start === undefined ? undefined : call(start, source, ctl)),
        () => promiseCall(pull, source, [c.obj]), (r) => promiseCall(cancel, source, [r]), hwm, auto);
      return;
    }
    const size = extractSize(strategy);
    const hwm = extractHWM(strategy, 1);
    let c;
    c = newDefaultController(s, (ctl) => (start === undefined ? undefined : call(start, source, ctl)),
      () => promiseCall(pull, source, [c.obj]), (r) => promiseCall(cancel, source, [r]), hwm, size);
  }

  class ReadableStream {
    #s;
    constructor(source = undefined, strategy = undefined) {
      if (source === TOKEN) {
        this.#s = strategy;
        return;
      }
      if (source === null) throw new TypeError_("Failed to construct 'ReadableStream': parameter 1 is not an object.");
      const s = newStreamRecord();
      s.obj = this;
      this.#s = s;
      setUpFromSource(s, source, strategy);
    }
    get locked() {
      if (!(#s in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return isLocked(this.#s);
    }
    cancel(reason = undefined) {
      if (!(#s in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      if (isLocked(this.#s)) return rejected(new TypeError_('This ReadableStream is currently locked to a reader.'));
      return rsCancel(this.#s, reason);
    }
    getReader(options = undefined) {
      if (!(#s in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const opts = dictArg(options, 'options');
      const mode = opts === undefined ? undefined : opts.mode;
      if (mode === undefined) return new ReadableStreamDefaultReader(this);
      if (String_(mode) !== 'byob') throw new TypeError_('Invalid reader mode: ' + mode);
      return new ReadableStreamBYOBReader(this);
    }
    pipeThrough(transform, options = undefined) {
      if (!(#s in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      // ReadableWritablePair: readable is read and brand-checked before writable.
      const pair = dictArg(transform, 'transform');
      const readable = pair === undefined ? undefined : pair.readable;
      const rs = rsRecord(readable);
      if (rs === undefined) throw new TypeError_('transform.readable must be a ReadableStream');
      const writable = pair.writable;
      const ws = wsRecord(writable);
      if (ws === undefined) throw new TypeError_('transform.writable must be a WritableStream');
      const o = pipeOptions(options);
      if (isLocked(this.#s)) throw new TypeError_('This ReadableStream is currently locked to a reader.');
      if (ws.writer !== null) throw new TypeError_('This WritableStream is currently locked to a writer.');
      markHandled(pipeTo(this.#s, ws, o));
      return readable;
    }
    pipeTo(destination, options = undefined) {
      if (!(#s in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const ws = wsRecord(destination);
      if (ws === undefined) return rejected(new TypeError_('pipeTo() needs a WritableStream'));
      let o;
      try {
        o = pipeOptions(options);
      } catch (e) {
        return rejected(e);
      }
      if (isLocked(this.#s)) return rejected(new TypeError_('This ReadableStream is currently locked to a reader.'));
      if (ws.writer !== null) return rejected(new TypeError_('This WritableStream is currently locked to a writer.'));
      return pipeTo(this.#s, ws, o);
    }
    tee() {
      if (!(#s in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const pair = tee(this.#s);
      return [pair[0].obj, pair[1].obj];
    }
    values(options = undefined) {
      if (!(#s in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const opts = dictArg(options, 'options');
      const preventCancel = opts !== undefined && !!opts.preventCancel;
      return asyncIterator(this.#s, preventCancel);
    }
    static from(asyncIterable) {
      return readableFrom(asyncIterable).obj;
    }
    static {
      rsRecord = (o) => (o !== null && typeof o === 'object' && #s in o ? o.#s : undefined);
      newRSObject = (s) => new ReadableStream(TOKEN, s);
    }
  }
  Object_defineProperty(ReadableStream.prototype, Symbol_asyncIterator, {
    __proto__: null,
    value: ReadableStream.prototype.values, writable: true, enumerable: false, configurable: true,
  });

  // async iteration
  const AsyncIteratorPrototype = Object_getPrototypeOf(Object_getPrototypeOf(async function* () {}).prototype);
  const RSAsyncIteratorPrototype = Object_create(AsyncIteratorPrototype);
  const iterState = new WeakMap_();
  function asyncIterator(s, preventCancel) {
    const r = newReaderRecord(s, false);
    const it = Object_create(RSAsyncIteratorPrototype);
    iterState.set(it, { __proto__: null, reader: r, preventCancel, ongoing: null, done: false });
    return it;
  }
  function iterNext(st) {
    if (st.done) return Promise_resolve(iterResult(undefined, true));
    const r = st.reader;
    if (r.stream === null) return rejected(releasedError());
    const d = deferred();
    readerRead(r, {
      __proto__: null,
      chunk: (v) => d.resolve(iterResult(v, false)),
      close: () => {
        st.done = true;
        readerRelease(r);
        d.resolve(iterResult(undefined, true));
      },
      error: (e) => {
        st.done = true;
        readerRelease(r);
        d.reject(e);
      },
    });
    return d.promise;
  }
  function iterReturn(st, value) {
    if (st.done) return Promise_resolve(iterResult(value, true));
    st.done = true;
    const r = st.reader;
    if (r.stream === null) return rejected(releasedError());
    if (!st.preventCancel) {
      const s = r.stream;
      const p = rsCancel(s, value);
      readerRelease(r);
      return then(p, () => iterResult(value, true));
    }
    readerRelease(r);
    return Promise_resolve(iterResult(value, true));
  }
  Object_defineProperty(RSAsyncIteratorPrototype, 'next', {
    __proto__: null,
    value: function next() {
      const st = iterState.get(this);
      if (st === undefined) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const run = () => iterNext(st);
      st.ongoing = st.ongoing === null ? run() : then(st.ongoing, run, run);
      return st.ongoing;
    },
    writable: true, enumerable: true, configurable: true,
  });
  Object_defineProperty(RSAsyncIteratorPrototype, 'return', {
    __proto__: null,
    // A method definition: named "return" (a function expression here would be named
    // "value" after the descriptor's key), no prototype.
    value: { return(value) {
      const st = iterState.get(this);
      if (st === undefined) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const run = () => iterReturn(st, value);
      st.ongoing = st.ongoing === null ? run() : then(st.ongoing, run, run);
      return st.ongoing;
    } }.return,
    writable: true, enumerable: true, configurable: true,
  });

  function readableFrom(iterable) {
    if (iterable === null || iterable === undefined) throw new TypeError_('ReadableStream.from() needs an iterable');
    let method = iterable[Symbol_asyncIterator];
    let iterator;
    if (method === undefined || method === null) {
      method = iterable[Symbol_iterator];
      if (typeof method !== 'function') throw new TypeError_('ReadableStream.from() needs an iterable');
      const syncIt = call(method, iterable);
      if (syncIt === null || typeof syncIt !== 'object') throw new TypeError_('iterator is not an object');
      const nextFn = syncIt.next;
      iterator = {
        next() {
          try {
            const r = call(nextFn, syncIt);
            if (r === null || typeof r !== 'object') throw new TypeError_('iterator result is not an object');
            const done = !!r.done;
            return then(Promise_resolve(r.value), (v) => iterResult(v, done));
          } catch (e) {
            return Promise_reject(e);
          }
        },
        return(v) {
          const ret = syncIt.return;
          if (ret === undefined || ret === null) return Promise_resolve(iterResult(v, true));
          return promiseCall(ret, syncIt, [v]);
        },
      };
    } else {
      if (typeof method !== 'function') throw new TypeError_('Symbol.asyncIterator is not a function');
      const it = call(method, iterable);
      if (it === null || typeof it !== 'object') throw new TypeError_('iterator is not an object');
      iterator = { next: () => promiseCall(it.next, it, []), return: (v) => {
        const ret = it.return;
        if (ret === undefined || ret === null) return Promise_resolve(undefined);
        return promiseCall(ret, it, [v]);
      } };
    }
    let s;
    s = createReadable(noop, () => then(iterator.next(), (r) => {
      if (r === null || typeof r !== 'object') throw new TypeError_('iterator result is not an object');
      if (r.done) controllerClose(s.controller);
      else controllerEnqueue(s.controller, r.value);
    }), (reason) => then(iterator.return(reason), (r) => {
      if (r !== undefined && (r === null || typeof r !== 'object')) throw new TypeError_('iterator result is not an object');
    }), 0);
    return s;
  }

  // tee (ReadableStreamDefaultTee; byte streams: byteTee below)
  function tee(s) {
    if (s.controller.byte) return byteTee(s);
    const r = newReaderRecord(s, false);
    let reading = false;
    let readAgain = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let b1;
    let b2;
    const cancelD = deferred();
    function pull() {
      if (reading) {
        readAgain = true;
        return Promise_resolve(undefined);
      }
      reading = true;
      readerRead(r, {
        __proto__: null,
        chunk: (v) => {
          queueMicrotask_(() => {
            readAgain = false;
            if (!canceled1) controllerEnqueue(b1.controller, v);
            if (!canceled2) controllerEnqueue(b2.controller, v);
            reading = false;
            if (readAgain) pull();
          });
        },
        close: () => {
          reading = false;
          if (!canceled1) controllerClose(b1.controller);
          if (!canceled2) controllerClose(b2.controller);
          if (!canceled1 || !canceled2) cancelD.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
      return Promise_resolve(undefined);
    }
    function cancelBranch(second, reason) {
      if (second) {
        canceled2 = true;
        reason2 = reason;
      } else {
        canceled1 = true;
        reason1 = reason;
      }
      if (canceled1 && canceled2) cancelD.resolve(rsCancel(s, [reason1, reason2]));
      return cancelD.promise;
    }
    b1 = createReadable(noop, pull, (r) => cancelBranch(false, r));
    b2 = createReadable(noop, pull, (r) => cancelBranch(true, r));
    then(r.closed.promise, undefined, (e) => {
      controllerError(b1.controller, e);
      controllerError(b2.controller, e);
      if (!canceled1 || !canceled2) cancelD.resolve(undefined);
    });
    return [b1, b2];
  }
  // ReadableByteStreamTee: a branch with a BYOB request pulls with a BYOB reader into
  // its view; the other branch gets a copy.
  function byteTee(s) {
    let reader = newReaderRecord(s, false);
    let reading = false;
    let readAgain1 = false;
    let readAgain2 = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let b1;
    let b2;
    const cancelD = deferred();
    const cloneChunk = (v) => {
      const out = new Uint8Array_(TypedArrayPrototypeGetByteLength(v));
      TypedArrayPrototypeSet(out, v);
      return out;
    };
    function forwardReaderError(r) {
      then(r.closed.promise, undefined, (e) => {
        if (r !== reader) return;
        byteError(b1.controller, e);
        byteError(b2.controller, e);
        if (!canceled1 || !canceled2) cancelD.resolve(undefined);
      });
    }
    function useReader(byob) {
      if (reader.byob === byob) return;
      readerRelease(reader);
      reader = newReaderRecord(s, byob);
      forwardReaderError(reader);
    }
    function pullAgain() {
      if (readAgain1) pullBranch(false);
      else if (readAgain2) pullBranch(true);
    }
    function pullWithDefaultReader() {
      useReader(false);
      readerRead(reader, {
        __proto__: null,
        chunk: (chunk) => {
          queueMicrotask_(() => {
            readAgain1 = false;
            readAgain2 = false;
            // (copying can fail only when out of memory, which ends the isolate)
            const chunk2 = !canceled1 && !canceled2 ? cloneChunk(chunk) : chunk;
            if (!canceled1) byteEnqueue(b1.controller, viewParts(chunk), false);
            if (!canceled2) byteEnqueue(b2.controller, viewParts(chunk2), false);
            reading = false;
            pullAgain();
          });
        },
        close: () => {
          reading = false;
          if (!canceled1) byteClose(b1.controller);
          if (!canceled2) byteClose(b2.controller);
          if (b1.controller.pullIntos.length > 0) byteRespond(b1.controller, 0);
          if (b2.controller.pullIntos.length > 0) byteRespond(b2.controller, 0);
          if (!canceled1 || !canceled2) cancelD.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
    }
    function pullWithBYOBReader(view, forBranch2) {
      useReader(true);
      const byobBranch = forBranch2 ? b2 : b1;
      const otherBranch = forBranch2 ? b1 : b2;
      byobRead(s, viewParts(view), 1, {
        __proto__: null,
        chunk: (chunk) => {
          queueMicrotask_(() => {
            readAgain1 = false;
            readAgain2 = false;
            const byobCanceled = forBranch2 ? canceled2 : canceled1;
            const otherCanceled = forBranch2 ? canceled1 : canceled2;
            const cloned = otherCanceled ? null : cloneChunk(chunk);
            if (!byobCanceled) byteRespondWithNewView(byobBranch.controller, viewParts(chunk));
            if (!otherCanceled) byteEnqueue(otherBranch.controller, viewParts(cloned), false);
            reading = false;
            pullAgain();
          });
        },
        close: (chunk) => {
          reading = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!byobCanceled) byteClose(byobBranch.controller);
          if (!otherCanceled) byteClose(otherBranch.controller);
          if (chunk !== undefined) {
            if (!byobCanceled) byteRespondWithNewView(byobBranch.controller, viewParts(chunk));
            if (!otherCanceled && otherBranch.controller.pullIntos.length > 0) {
              byteRespond(otherBranch.controller, 0);
            }
          }
          if (!byobCanceled || !otherCanceled) cancelD.resolve(undefined);
        },
        error: () => {
          reading = false;
        },
      });
    }
    // pull1/pull2 and cancel1/cancel2 of the spec, for branch 2 when `second`.
    function pullBranch(second) {
      if (reading) {
        if (second) readAgain2 = true;
        else readAgain1 = true;
      } else {
        reading = true;
        const req = byteGetRequest((second ? b2 : b1).controller);
        if (req === null) pullWithDefaultReader();
        else pullWithBYOBReader(req.view, second);
      }
      return Promise_resolve(undefined);
    }
    function cancelBranch(second, reason) {
      if (second) {
        canceled2 = true;
        reason2 = reason;
      } else {
        canceled1 = true;
        reason1 = reason;
      }
      if (canceled1 && canceled2) cancelD.resolve(rsCancel(s, [reason1, reason2]));
      return cancelD.promise;
    }
    const branch = (second) => {
      const b = newStreamRecord();
      newByteController(b, noop, () => pullBranch(second), (r) => cancelBranch(second, r), 0, undefined);
      b.obj = newRSObject(b);
      return b;
    };
    b1 = branch(false);
    b2 = branch(true);
    forwardReaderError(reader);
    return [b1, b2];
  }
  const queueMicrotask_ = (fn) => then(Promise_resolve(undefined), fn);

  // ---- pipeTo ------------------------------------------------------------------
  // A WebIDL dictionary argument: undefined/null is empty, any other non-object a TypeError.
  function dictArg(o, what) {
    if (o !== undefined && o !== null && typeof o !== 'object' && typeof o !== 'function') {
      throw new TypeError_(what + ' must be an object');
    }
    return o == null ? undefined : o;
  }
  // StreamPipeOptions: members read in WebIDL's (lexicographic) order, each converted
  // as it is read.
  function pipeOptions(o) {
    const opts = dictArg(o, 'options');
    if (opts === undefined) {
      return { __proto__: null, preventAbort: false, preventCancel: false, preventClose: false, signal: undefined };
    }
    const preventAbort = !!opts.preventAbort;
    const preventCancel = !!opts.preventCancel;
    const preventClose = !!opts.preventClose;
    const signal = opts.signal;
    if (signal !== undefined && abortSignalOf(signal) === undefined) {
      throw new TypeError_("Failed to execute 'pipeTo': member signal is not of type 'AbortSignal'.");
    }
    return { __proto__: null, preventAbort, preventCancel, preventClose, signal };
  }
  function pipeTo(src, dest, o) {
    const reader = newReaderRecord(src, false);
    const writer = newWriterRecord(dest);
    src.disturbed = true;
    let shuttingDown = false;
    let currentWrite = Promise_resolve(undefined);
    const done = deferred();
    let unregister;
    function finalize(isError, error) {
      writerRelease(writer);
      if (reader.stream !== null) readerRelease(reader);
      if (unregister !== undefined) unregister();
      if (isError) done.reject(error);
      else done.resolve(undefined);
    }
    function waitWrites() {
      const w = currentWrite;
      return then(w, () => (w !== currentWrite ? waitWrites() : undefined), () => undefined);
    }
    function shutdownWithAction(action, isError, error) {
      if (shuttingDown) return;
      shuttingDown = true;
      const doIt = () => then(action(), () => finalize(isError, error), (e) => finalize(true, e));
      if (dest.state === 'writable' && !wsCloseQueuedOrInFlight(dest)) then(waitWrites(), doIt);
      else doIt();
    }
    function shutdown(isError, error) {
      if (shuttingDown) return;
      shuttingDown = true;
      if (dest.state === 'writable' && !wsCloseQueuedOrInFlight(dest)) {
        then(waitWrites(), () => finalize(isError, error));
      } else finalize(isError, error);
    }
    if (o.signal !== undefined) {
      const abortAlgorithm = () => {
        const error = signalReason(o.signal);
        const actions = [];
        if (!o.preventAbort) {
          actions.push(() => (dest.state === 'writable' ? wsAbort(dest, error) : Promise_resolve(undefined)));
        }
        if (!o.preventCancel) {
          actions.push(() => (src.state === 'readable' ? rsCancel(src, error) : Promise_resolve(undefined)));
        }
        shutdownWithAction(() => Promise_.all(actions.map((a) => a())), true, error);
      };
      if (signalAborted(o.signal)) {
        abortAlgorithm();
        return done.promise;
      }
      unregister = onAbort(o.signal, abortAlgorithm);
    }
    function checkStates() {
      if (src.state === 'errored') {
        if (!o.preventAbort) shutdownWithAction(() => wsAbort(dest, src.storedError), true, src.storedError);
        else shutdown(true, src.storedError);
        return true;
      }
      if (dest.state === 'errored' || dest.state === 'erroring') {
        const e = dest.storedError;
        if (!o.preventCancel) shutdownWithAction(() => rsCancel(src, e), true, e);
        else shutdown(true, e);
        return true;
      }
      if (src.state === 'closed') {
        if (!o.preventClose) shutdownWithAction(() => writerCloseWithErrorPropagation(writer), false);
        else shutdown(false);
        return true;
      }
      if (wsCloseQueuedOrInFlight(dest) || dest.state === 'closed') {
        const e = new TypeError_('the destination writable stream closed before all data could be piped to it');
        if (!o.preventCancel) shutdownWithAction(() => rsCancel(src, e), true, e);
        else shutdown(true, e);
        return true;
      }
      return false;
    }
    function loop() {
      if (shuttingDown) return;
      if (checkStates()) return;
      then(writer.ready.promise, () => {
        if (shuttingDown || checkStates()) return;
        readerRead(reader, {
          __proto__: null,
          // The write runs in a microtask: an enqueue() that fulfils this read must
          // not call the sink's write() synchronously.
          chunk: (v) => {
            const w = deferred();
            currentWrite = markHandled(w.promise);
            queueMicrotask_(() => {
              then(writerWrite(writer, v), w.resolve, w.reject);
              loop();
            });
          },
          close: () => queueMicrotask_(loop),
          error: () => queueMicrotask_(loop),
        });
      }, () => queueMicrotask_(loop));
    }
    then(reader.closed.promise, () => queueMicrotask_(loop), () => queueMicrotask_(loop));
    then(writer.closed.promise, undefined, () => queueMicrotask_(loop));
    loop();
    return done.promise;
  }

  // ---- WritableStream ------------------------------------------------------------
  let wsRecord;
  function newWSRecord() {
    return {
      __proto__: null, state: 'writable', storedError: undefined, writer: null, controller: null,
      writeRequests: [], inFlightWrite: null, closeRequest: null, inFlightClose: null,
      pendingAbort: null, backpressure: false, obj: null,
    };
  }
  function setUpWSController(ws, start, write, close, abort, hwm, size) {
    const c = {
      __proto__: null, stream: ws, queue: [], queueTotalSize: 0, started: false, hwm, size,
      write, close, abort, obj: null, signal: null, abortController: null,
    };
    ws.controller = c;
    c.abortController = new AbortController();
    c.obj = new WritableStreamDefaultController(TOKEN, c);
    updateBackpressure(ws, wsBackpressure(c));
    then(Promise_resolve(start(c.obj)), () => {
      c.started = true;
      advanceQueue(c);
    }, (e) => {
      c.started = true;
      dealWithRejection(ws, e);
    });
  }
  const CLOSE_SENTINEL = { __proto__: null };
  function wsDesired(c) {
    return c.hwm - c.queueTotalSize;
  }
  function wsBackpressure(c) {
    return wsDesired(c) <= 0;
  }
  function wsCloseQueuedOrInFlight(ws) {
    return ws.closeRequest !== null || ws.inFlightClose !== null;
  }
  function updateBackpressure(ws, bp) {
    const w = ws.writer;
    if (w !== null && bp !== ws.backpressure) {
      if (bp) w.ready = deferred();
      else w.ready.resolve(undefined);
    }
    ws.backpressure = bp;
  }
  function wsAbort(ws, reason) {
    if (ws.state === 'closed' || ws.state === 'errored') return Promise_resolve(undefined);
    ws.controller.abortController.abort(reason);
    if (ws.state === 'closed' || ws.state === 'errored') return Promise_resolve(undefined);
    if (ws.pendingAbort !== null) return ws.pendingAbort.d.promise;
    let wasAlreadyErroring = false;
    if (ws.state === 'erroring') {
      wasAlreadyErroring = true;
      reason = undefined;
    }
    const d = deferred();
    ws.pendingAbort = { __proto__: null, d, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) startErroring(ws, reason);
    return d.promise;
  }
  function wsClose(ws) {
    if (ws.state === 'closed' || ws.state === 'errored') {
      return rejected(new TypeError_('The stream is closed or errored'));
    }
    const d = deferred();
    ws.closeRequest = d;
    const w = ws.writer;
    if (w !== null && ws.backpressure && ws.state === 'writable') w.ready.resolve(undefined);
    const c = ws.controller;
    enqueueValueWithSize(c, CLOSE_SENTINEL, 0);
    advanceQueue(c);
    return d.promise;
  }
  function startErroring(ws, reason) {
    const c = ws.controller;
    ws.state = 'erroring';
    ws.storedError = reason;
    const w = ws.writer;
    if (w !== null) writerEnsureReadyRejected(w, reason);
    if (ws.inFlightWrite === null && ws.inFlightClose === null && c.started) finishErroring(ws);
  }
  function finishErroring(ws) {
    ws.state = 'errored';
    const c = ws.controller;
    resetQueue(c);
    const e = ws.storedError;
    const reqs = ws.writeRequests;
    ws.writeRequests = [];
    for (let i = 0; i < reqs.length; i++) reqs[i].reject(e);
    if (ws.pendingAbort === null) {
      rejectCloseAndClosed(ws);
      return;
    }
    const a = ws.pendingAbort;
    ws.pendingAbort = null;
    if (a.wasAlreadyErroring) {
      a.d.reject(e);
      rejectCloseAndClosed(ws);
      return;
    }
    const p = promiseCallAlg(c.abort, a.reason);
    c.write = c.close = c.abort = undefined;
    then(p, () => {
      a.d.resolve(undefined);
      rejectCloseAndClosed(ws);
    }, (err) => {
      a.d.reject(err);
      rejectCloseAndClosed(ws);
    });
  }
  function promiseCallAlg(fn, arg) {
    if (fn === undefined) return Promise_resolve(undefined);
    try {
      return Promise_resolve(fn(arg));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  function rejectCloseAndClosed(ws) {
    if (ws.closeRequest !== null) {
      ws.closeRequest.reject(ws.storedError);
      ws.closeRequest = null;
    }
    const w = ws.writer;
    if (w !== null) {
      markHandled(w.closed.promise);
      w.closed.reject(ws.storedError);
    }
  }
  function dealWithRejection(ws, e) {
    if (ws.state === 'writable') {
      startErroring(ws, e);
      return;
    }
    finishErroring(ws);
  }
  function advanceQueue(c) {
    const ws = c.stream;
    if (!c.started || ws.inFlightWrite !== null) return;
    if (ws.state === 'erroring') {
      finishErroring(ws);
      return;
    }
    if (c.queue.length === 0) return;
    const value = c.queue[0].value;
    if (value === CLOSE_SENTINEL) {
      ws.inFlightClose = ws.closeRequest;
      ws.closeRequest = null;
      dequeueValue(c);
      const p = promiseCallAlg(c.close, undefined);
      c.write = c.close = c.abort = undefined;
      then(p, () => {
        ws.inFlightClose.resolve(undefined);
        ws.inFlightClose = null;
        if (ws.state === 'erroring') {
          ws.storedError = undefined;
          if (ws.pendingAbort !== null) {
            ws.pendingAbort.d.resolve(undefined);
            ws.pendingAbort = null;
          }
        }
        ws.state = 'closed';
        if (ws.writer !== null) ws.writer.closed.resolve(undefined);
      }, (e) => {
        ws.inFlightClose.reject(e);
        ws.inFlightClose = null;
        if (ws.pendingAbort !== null) {
          ws.pendingAbort.d.reject(e);
          ws.pendingAbort = null;
        }
        dealWithRejection(ws, e);
      });
      return;
    }
    ws.inFlightWrite = ws.writeRequests.shift();
    const p = promiseCallAlg(c.write, value);
    then(p, () => {
      ws.inFlightWrite.resolve(undefined);
      ws.inFlightWrite = null;
      const state = ws.state;
      dequeueValue(c);
      if (!wsCloseQueuedOrInFlight(ws) && state === 'writable') updateBackpressure(ws, wsBackpressure(c));
      advanceQueue(c);
    }, (e) => {
      ws.inFlightWrite.reject(e);
      ws.inFlightWrite = null;
      if (ws.state === 'writable') c.write = c.close = c.abort = undefined;
      dealWithRejection(ws, e);
    });
  }
  function wsControllerError(c, e) {
    const ws = c.stream;
    if (ws.state !== 'writable') return;
    c.write = c.close = c.abort = undefined;
    startErroring(ws, e);
  }

  class WritableStreamDefaultController {
    #c;
    constructor(token, c) {
      if (token !== TOKEN) throw new TypeError_('Illegal constructor');
      this.#c = c;
    }
    get signal() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#c.abortController.signal;
    }
    error(e = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      wsControllerError(this.#c, e);
    }
  }

  // writers
  function newWriterRecord(ws) {
    if (ws.writer !== null) throw new TypeError_('This WritableStream is currently locked to a writer.');
    const w = { __proto__: null, stream: ws, ready: deferred(), closed: deferred() };
    ws.writer = w;
    const st = ws.state;
    if (st === 'writable') {
      if (!(wsCloseQueuedOrInFlight(ws) || !ws.backpressure)) {
        // pending ready
      } else w.ready.resolve(undefined);
    } else if (st === 'erroring') {
      markHandled(w.ready.promise);
      w.ready.reject(ws.storedError);
    } else if (st === 'closed') {
      w.ready.resolve(undefined);
      w.closed.resolve(undefined);
    } else {
      markHandled(w.ready.promise);
      w.ready.reject(ws.storedError);
      markHandled(w.closed.promise);
      w.closed.reject(ws.storedError);
    }
    return w;
  }
  function writerEnsureReadyRejected(w, e) {
    if (w.ready.settled) w.ready = deferred();
    markHandled(w.ready.promise);
    w.ready.reject(e);
  }
  function writerRelease(w) {
    const ws = w.stream;
    if (ws === null) return;
    const e = new TypeError_('This writer has been released.');
    writerEnsureReadyRejected(w, e);
    if (w.closed.settled) w.closed = deferred();
    markHandled(w.closed.promise);
    w.closed.reject(e);
    ws.writer = null;
    w.stream = null;
  }
  function writerWrite(w, chunk) {
    const ws = w.stream;
    if (ws === null) return rejected(new TypeError_('This writer has been released.'));
    const c = ws.controller;
    let size = 1;
    try {
      size = c.size(chunk);
    } catch (e) {
      wsControllerError(c, e);
    }
    if (ws !== w.stream) return rejected(new TypeError_('This writer has been released.'));
    const st = ws.state;
    if (st === 'errored') return rejected(ws.storedError);
    if (wsCloseQueuedOrInFlight(ws) || st === 'closed') return rejected(new TypeError_('The stream is closing or closed'));
    if (st === 'erroring') return rejected(ws.storedError);
    const d = deferred();
    ws.writeRequests[ws.writeRequests.length] = d;
    try {
      enqueueValueWithSize(c, chunk, size);
    } catch (e) {
      wsControllerError(c, e);
      return d.promise;
    }
    if (!wsCloseQueuedOrInFlight(ws) && ws.state === 'writable') updateBackpressure(ws, wsBackpressure(c));
    advanceQueue(c);
    return d.promise;
  }
  function writerCloseWithErrorPropagation(w) {
    const ws = w.stream;
    const st = ws.state;
    if (wsCloseQueuedOrInFlight(ws) || st === 'closed') return Promise_resolve(undefined);
    if (st === 'errored') return Promise_reject(ws.storedError);
    return wsClose(ws);
  }
  let writerRecordOf;
  class WritableStreamDefaultWriter {
    #w;
    constructor(stream) {
      const ws = wsRecord(stream);
      if (ws === undefined) throw new TypeError_("Failed to construct 'WritableStreamDefaultWriter': parameter 1 is not of type 'WritableStream'.");
      this.#w = newWriterRecord(ws);
    }
    get closed() {
      if (!(#w in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      return this.#w.closed.promise;
    }
    get ready() {
      if (!(#w in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      return this.#w.ready.promise;
    }
    get desiredSize() {
      if (!(#w in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      const ws = this.#w.stream;
      if (ws === null) throw new TypeError_('This writer has been released.');
      if (ws.state === 'errored' || ws.state === 'erroring') return null;
      if (ws.state === 'closed') return 0;
      return wsDesired(ws.controller);
    }
    abort(reason = undefined) {
      if (!(#w in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const ws = this.#w.stream;
      if (ws === null) return rejected(new TypeError_('This writer has been released.'));
      return wsAbort(ws, reason);
    }
    close() {
      if (!(#w in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      const ws = this.#w.stream;
      if (ws === null) return rejected(new TypeError_('This writer has been released.'));
      if (wsCloseQueuedOrInFlight(ws)) return rejected(new TypeError_('The stream is already closing'));
      return wsClose(ws);
    }
    releaseLock() {
      if (!(#w in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      writerRelease(this.#w);
    }
    write(chunk = undefined) {
      if (!(#w in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      return writerWrite(this.#w, chunk);
    }
    static {
      writerRecordOf = (o) => (o !== null && typeof o === 'object' && #w in o ? o.#w : undefined);
    }
  }

  function createWritable(start, write, close, abort, hwm = 1, size = () => 1) {
    const ws = newWSRecord();
    ws.obj = new WritableStream(TOKEN, ws);
    setUpWSController(ws, start, write, close, abort, hwm, size);
    return ws;
  }
  class WritableStream {
    #ws;
    constructor(sink = undefined, strategy = undefined) {
      if (sink === TOKEN) {
        this.#ws = strategy;
        return;
      }
      if (sink === null) throw new TypeError_("Failed to construct 'WritableStream': parameter 1 is not an object.");
      const size = extractSize(strategy);
      const hwm = extractHWM(strategy, 1);
      if (sink != null && sink.type !== undefined) throw new RangeError_('Invalid type is specified');
      const start = getMethod(sink, 'start');
      const write = getMethod(sink, 'write');
      const close = getMethod(sink, 'close');
      const abort = getMethod(sink, 'abort');
      const ws = newWSRecord();
      ws.obj = this;
      this.#ws = ws;
      let c;
      setUpWSController(ws, (ctl) => {
        c = ctl;
        return start === undefined ? undefined : call(start, sink, ctl);
      }, write === undefined ? undefined : (chunk) => call(write, sink, chunk, c),
      close === undefined ? undefined : () => call(close, sink),
      abort === undefined ? undefined : (r) => call(abort, sink, r), hwm, size);
    }
    get locked() {
      if (!(#ws in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#ws.writer !== null;
    }
    abort(reason = undefined) {
      if (!(#ws in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      if (this.#ws.writer !== null) return rejected(new TypeError_('This WritableStream is currently locked to a writer.'));
      return wsAbort(this.#ws, reason);
    }
    close() {
      if (!(#ws in this)) return rejected(new TypeError_(ILLEGAL_INVOCATION));
      if (this.#ws.writer !== null) return rejected(new TypeError_('This WritableStream is currently locked to a writer.'));
      if (wsCloseQueuedOrInFlight(this.#ws)) return rejected(new TypeError_('The stream is already closing'));
      return wsClose(this.#ws);
    }
    getWriter() {
      if (!(#ws in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return new WritableStreamDefaultWriter(this);
    }
    static {
      wsRecord = (o) => (o !== null && typeof o === 'object' && #ws in o ? o.#ws : undefined);
    }
  }

  // ---- TransformStream -----------------------------------------------------------
  function createTransform(start, transform, flush, cancel, wHWM, wSize, rHWM, rSize) {
    const t = {
      __proto__: null, readable: null, writable: null, backpressure: false,
      backpressureChange: null, controller: null,
    };
    const startD = deferred();
    const startP = startD.promise;
    t.writable = createWritable(() => startP, (chunk) => sinkWrite(t, chunk), () => sinkClose(t),
      (reason) => sinkAbort(t, reason), wHWM, wSize);
    t.readable = createReadable(() => startP, () => sourcePull(t), (reason) => sourceCancel(t, reason), rHWM, rSize);
    setBackpressure(t, true);
    const c = { __proto__: null, stream: t, transform, flush, cancel, obj: null, finishD: null };
    t.controller = c;
    c.obj = new TransformStreamDefaultController(TOKEN, c);
    try {
      startD.resolve(start(c.obj));
    } catch (e) {
      startD.reject(e);
      throw e;
    }
    return t;
  }
  function setBackpressure(t, bp) {
    if (t.backpressureChange !== null) t.backpressureChange.resolve(undefined);
    t.backpressureChange = deferred();
    t.backpressure = bp;
  }
  function tsError(t, e) {
    controllerError(t.readable.controller, e);
    tsErrorWritableAndUnblock(t, e);
  }
  function tsErrorWritableAndUnblock(t, e) {
    clearTransformAlgs(t.controller);
    wsControllerError(t.writable.controller, e);
    if (t.backpressure) setBackpressure(t, false);
  }
  function clearTransformAlgs(c) {
    c.transform = undefined;
    c.flush = undefined;
    c.cancel = undefined;
  }
  function tcEnqueue(c, chunk) {
    const t = c.stream;
    const rc = t.readable.controller;
    if (!canCloseOrEnqueue(rc)) throw new TypeError_('Readable side is not in a state that permits enqueue');
    try {
      controllerEnqueue(rc, chunk);
    } catch (e) {
      tsErrorWritableAndUnblock(t, e);
      throw t.readable.storedError;
    }
    const bp = !shouldPullish(rc);
    if (bp !== t.backpressure) setBackpressure(t, true);
  }
  function shouldPullish(rc) {
    const d = desiredSize(rc);
    return d !== null && d > 0;
  }
  function tcError(c, e) {
    tsError(c.stream, e);
  }
  function tcTerminate(c) {
    const t = c.stream;
    controllerClose(t.readable.controller);
    tsErrorWritableAndUnblock(t, new TypeError_('TransformStream terminated'));
  }
  function performTransform(c, chunk) {
    const p = c.transform === undefined ? defaultTransform(c, chunk) : promiseCallAlg(c.transform, chunk);
    return then(p, undefined, (e) => {
      tsError(c.stream, e);
      throw e;
    });
  }
  function defaultTransform(c, chunk) {
    try {
      tcEnqueue(c, chunk);
      return Promise_resolve(undefined);
    } catch (e) {
      return Promise_reject(e);
    }
  }
  function sinkWrite(t, chunk) {
    const c = t.controller;
    if (t.backpressure) {
      return then(t.backpressureChange.promise, () => {
        const ws = t.writable;
        if (ws.state === 'erroring') throw ws.storedError;
        return performTransform(c, chunk);
      });
    }
    return performTransform(c, chunk);
  }
  function sinkAbort(t, reason) {
    const c = t.controller;
    if (c.finishD !== null) return c.finishD.promise;
    const rs = t.readable;
    c.finishD = deferred();
    const p = promiseCallAlg(c.cancel, reason);
    clearTransformAlgs(c);
    then(p, () => {
      if (rs.state === 'errored') c.finishD.reject(rs.storedError);
      else {
        controllerError(rs.controller, reason);
        c.finishD.resolve(undefined);
      }
    }, (e) => {
      controllerError(rs.controller, e);
      c.finishD.reject(e);
    });
    return c.finishD.promise;
  }
  function sinkClose(t) {
    const c = t.controller;
    if (c.finishD !== null) return c.finishD.promise;
    const rs = t.readable;
    c.finishD = deferred();
    const p = promiseCallAlg(c.flush, c.obj);
    clearTransformAlgs(c);
    then(p, () => {
      if (rs.state === 'errored') c.finishD.reject(rs.storedError);
      else {
        controllerClose(rs.controller);
        c.finishD.resolve(undefined);
      }
    }, (e) => {
      controllerError(rs.controller, e);
      c.finishD.reject(e);
    });
    return c.finishD.promise;
  }
  function sourcePull(t) {
    setBackpressure(t, false);
    return t.backpressureChange.promise;
  }
  function sourceCancel(t, reason) {
    const c = t.controller;
    if (c.finishD !== null) return c.finishD.promise;
    const ws = t.writable;
    c.finishD = deferred();
    const p = promiseCallAlg(c.cancel, reason);
    clearTransformAlgs(c);
    then(p, () => {
      if (ws.state === 'errored') c.finishD.reject(ws.storedError);
      else {
        wsControllerError(ws.controller, reason);
        if (t.backpressure) setBackpressure(t, false);
        c.finishD.resolve(undefined);
      }
    }, (e) => {
      wsControllerError(ws.controller, e);
      if (t.backpressure) setBackpressure(t, false);
      c.finishD.reject(e);
    });
    return c.finishD.promise;
  }
  class TransformStreamDefaultController {
    #c;
    constructor(token, c) {
      if (token !== TOKEN) throw new TypeError_('Illegal constructor');
      this.#c = c;
    }
    get desiredSize() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return desiredSize(this.#c.stream.readable.controller);
    }
    enqueue(chunk = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      tcEnqueue(this.#c, chunk);
    }
    error(reason = undefined) {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      tcError(this.#c, reason);
    }
    terminate() {
      if (!(#c in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      tcTerminate(this.#c);
    }
  }
  let transformRecord;
  class TransformStream {
    #t;
    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      if (transformer === null) transformer = undefined;
      const rSize = extractSize(readableStrategy);
      const rHWM = extractHWM(readableStrategy, 0);
      const wSize = extractSize(writableStrategy);
      const wHWM = extractHWM(writableStrategy, 1);
      if (transformer !== undefined && transformer.readableType !== undefined) throw new RangeError_('Invalid readableType');
      if (transformer !== undefined && transformer.writableType !== undefined) throw new RangeError_('Invalid writableType');
      const start = getMethod(transformer, 'start');
      const transform = getMethod(transformer, 'transform');
      const flush = getMethod(transformer, 'flush');
      const cancel = getMethod(transformer, 'cancel');
      let ctl;
      this.#t = createTransform((c) => {
        ctl = c;
        return start === undefined ? undefined : call(start, transformer, c);
      }, transform === undefined ? undefined : (chunk) => call(transform, transformer, chunk, ctl),
      flush === undefined ? undefined : () => call(flush, transformer, ctl),
      cancel === undefined ? undefined : (r) => call(cancel, transformer, r), wHWM, wSize, rHWM, rSize);
    }
    get readable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.readable.obj;
    }
    get writable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.writable.obj;
    }
    static {
      transformRecord = (o) => (o !== null && typeof o === 'object' && #t in o ? o.#t : undefined);
    }
  }

  // A TransformStream made by the prelude (text and compression streams):
  // fn(chunk, enqueue) and flushFn(enqueue) run synchronously.
  function makeInternalTransform(fn, flushFn) {
    let c;
    const t = createTransform((ctl) => {
      c = ctl;
    }, (chunk) => fn(chunk, (v) => tcEnqueue(t.controller, v)),
    flushFn === undefined ? undefined : () => flushFn((v) => tcEnqueue(t.controller, v)),
    undefined, 1, () => 1, 0, () => 1);
    return t;
  }

  // ---- TextEncoderStream / TextDecoderStream ---------------------------------
  class TextEncoderStream {
    #t;
    #pending = null; // a lead surrogate held over from the last chunk
    constructor() {
      this.#t = makeInternalTransform((chunk, enqueue) => {
        let s = toDOMString(chunk);
        if (this.#pending !== null) {
          s = this.#pending + s;
          this.#pending = null;
        }
        if (s.length > 0) {
          const last = StringPrototypeCharCodeAt(s, s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            this.#pending = StringPrototypeSlice(s, s.length - 1);
            s = StringPrototypeSlice(s, 0, s.length - 1);
          }
        }
        if (s.length > 0) enqueue(encodeUTF8(s, false));
      }, (enqueue) => {
        if (this.#pending !== null) enqueue(new Uint8Array_([0xef, 0xbf, 0xbd]));
      });
    }
    get encoding() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return 'utf-8';
    }
    get readable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.readable.obj;
    }
    get writable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.writable.obj;
    }
  }
  class TextDecoderStream {
    #t;
    #d;
    constructor(label = 'utf-8', options = undefined) {
      const d = new TextDecoder(label, options);
      this.#d = d;
      this.#t = makeInternalTransform((chunk, enqueue) => {
        if (!ArrayBuffer_isView(chunk) && !(chunk instanceof ArrayBuffer_) &&
          !(SharedArrayBuffer_ !== undefined && chunk instanceof SharedArrayBuffer_)) {
          throw new TypeError_('TextDecoderStream needs BufferSource chunks');
        }
        const s = d.decode(chunk, { stream: true });
        if (s.length > 0) enqueue(s);
      }, (enqueue) => {
        const s = d.decode();
        if (s.length > 0) enqueue(s);
      });
    }
    get encoding() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#d.encoding;
    }
    get fatal() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#d.fatal;
    }
    get ignoreBOM() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#d.ignoreBOM;
    }
    get readable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.readable.obj;
    }
    get writable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.writable.obj;
    }
  }

  // ---- CompressionStream / DecompressionStream ---------------------------------
  // The host's zlib does the work (a "zlib" host operation per chunk, see
  // isogate/runtime/compression.py); the compressor lives in the host by handle
  // and is freed at the end of the stream or of the invocation.
  const FORMATS = { __proto__: null, gzip: true, deflate: true, 'deflate-raw': true };
  function isSharedBufferSource(v) {
    if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) return isSharedArrayBuffer(TypedArrayPrototypeGetBuffer(v));
    if (isDataView(v)) return isSharedArrayBuffer(DataViewPrototypeGetBuffer(v));
    return isSharedArrayBuffer(v);
  }
  function zlibTransform(format, mode) {
    const f = toDOMString(format);
    if (FORMATS[f] !== true) throw new TypeError_("Failed to construct '" + (mode === 'c' ? 'Compression' : 'Decompression') + "Stream': Unsupported compression format: '" + f + "'");
    let handle = null;
    let t;
    const op = (args) => startHostOp('zlib', args).promise;
    const open = () => {
      if (handle === null) handle = op('{"a":"new","f":' + q(f) + ',"m":"' + mode + '"}');
      return handle;
    };
    const emit = (out) => {
      if (typeof out === 'string') {
        if (out.length > 0) tcEnqueue(t.controller, binaryStringToBytes(out));
        return;
      }
      // [output, message]: the data ended inside the chunk with bytes after it; what it
      // decompressed to is enqueued, then the stream errors (Compression Standard).
      tcEnqueue(t.controller, binaryStringToBytes(out[0]));
      throw new TypeError_(out[1]);
    };
    t = createTransform(noop, (chunk) => {
      // A BufferSource, which (no [AllowShared]) excludes shared memory.
      const bytes = isSharedBufferSource(chunk) ? undefined : copyBufferSource(chunk);
      if (bytes === undefined) throw new TypeError_('The chunk must be a BufferSource');
      const data = bytesToBinaryString(bytes, TypedArrayPrototypeGetLength(bytes));
      return then(open(), (h) => then(op('{"a":"data","h":' + (h | 0) + ',"d":' + q(data) + '}'), emit));
    }, () => then(open(), (h) => then(op('{"a":"end","h":' + (h | 0) + '}'), emit)), (reason) => {
      if (handle !== null) then(handle, (h) => op('{"a":"drop","h":' + (h | 0) + '}'), noop);
      return undefined;
    }, 1, () => 1, 0, () => 1);
    return t;
  }
  class CompressionStream {
    #t;
    constructor(format) {
      this.#t = zlibTransform(format, 'c');
    }
    get readable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.readable.obj;
    }
    get writable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.writable.obj;
    }
  }
  class DecompressionStream {
    #t;
    constructor(format) {
      this.#t = zlibTransform(format, 'd');
    }
    get readable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.readable.obj;
    }
    get writable() {
      if (!(#t in this)) throw new TypeError_(ILLEGAL_INVOCATION);
      return this.#t.writable.obj;
    }
  }

  // ---- hooks for the bodies (40-body.js) ---------------------------------------
  // Reads a whole stream: resolves with a Uint8Array of its bytes, or null once
  // more than `limit` bytes came (the stream is then cancelled). Chunks must be
  // ArrayBuffers or views; anything else fails with a TypeError, like workerd.
  // Reads a stream to its end through a reader it keeps (the stream stays locked, as
  // the standard's "read all bytes" leaves it). Settles with a null-prototype box
  // {b: bytes}, so an Object.prototype.then cannot intercept them, or with null past
  // `limit` bytes (the stream cancelled). Chunks must be bytes, else a TypeError.
  function readAll(s, limit) {
    const r = newReaderRecord(s, false);
    const chunks = [];
    let total = 0;
    const d = deferred();
    function step() {
      readerRead(r, {
        __proto__: null,
        chunk: (v) => {
          let b;
          if (ArrayBuffer_isView(v)) b = new Uint8Array_(v.buffer, v.byteOffset, v.byteLength);
          else if (v instanceof ArrayBuffer_) b = new Uint8Array_(v);
          else {
            const e = new TypeError_('This ReadableStream did not return bytes.');
            rsCancel(s, e);
            d.reject(e);
            return;
          }
          total += b.byteLength;
          if (limit !== undefined && total > limit) {
            rsCancel(s, undefined);
            d.resolve(null);
            return;
          }
          const copy = new Uint8Array_(b.byteLength);
          TypedArrayPrototypeSet(copy, b);
          chunks[chunks.length] = copy;
          step();
        },
        close: () => {
          const out = new Uint8Array_(total);
          let at = 0;
          for (let i = 0; i < chunks.length; i++) {
            TypedArrayPrototypeSet(out, chunks[i], at);
            at += chunks[i].byteLength;
          }
          d.resolve({ __proto__: null, b: out });
        },
        error: (e) => d.reject(e),
      });
    }
    step();
    return d.promise;
  }
  // A byte stream whose chunks come from pull() (a promise of a Uint8Array, or null at
  // the end): a fetch() body the host streams in as it is read (80-fetch.js).
  function pullStream(pull, cancel) {
    const s = newStreamRecord();
    let c;
    c = newByteController(s, () => undefined, () => call(Promise_then, pull(), (b) => {
      if (b === null) byteClose(c);
      else if (TypedArrayPrototypeGetLength(b) > 0) byteEnqueue(c, viewParts(b), true);
    }), () => {
      cancel();
      return Promise_resolve(undefined);
    }, 0, undefined);
    s.obj = newRSObject(s);
    return s.obj;
  }

  // The host's reader of a streamed response body (90-host.js reads it under credit).
  function hostReader(s) {
    const r = newReaderRecord(s, false);
    return {
      __proto__: null,
      read: (req) => readerRead(r, req),
      cancel: (e) => {
        try {
          rsCancel(s, e);
        } catch (err) {}
      },
    };
  }
  // A one-chunk byte stream over lazily produced bytes (a body held in memory).
  function bytesStream(getBytes, onRead) {
    const s = newStreamRecord();
    let c;
    c = newByteController(s, () => undefined, () => {
      onRead();
      const b = getBytes();
      if (TypedArrayPrototypeGetLength(b) > 0) byteEnqueue(c, viewParts(b), true);
      byteClose(c);
      return Promise_resolve(undefined);
    }, () => {
      onRead();
      return Promise_resolve(undefined);
    }, 0, undefined);
    s.obj = newRSObject(s);
    return s.obj;
  }

  return {
    __proto__: null,
    globals: {
      __proto__: null, ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader,
      ReadableStreamDefaultController, ReadableByteStreamController, ReadableStreamBYOBRequest,
      WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
      TransformStream, TransformStreamDefaultController, ByteLengthQueuingStrategy,
      CountQueuingStrategy, TextEncoderStream, TextDecoderStream, CompressionStream,
      DecompressionStream,
    },
    rsRecord, readAll, bytesStream, isLocked, hostReader, pullStream,
    isDisturbed: (s) => s.disturbed,
    tee,
    makeInternalTransform,
  };
}

// The globals: accessors until first use, then plain data properties (writable,
// configurable, like the other web APIs; defineLazyGlobal, 10-encoding.js). Reading
// any of them loads the area.
const STREAM_GLOBALS = [
  'ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader',
  'ReadableStreamDefaultController', 'ReadableByteStreamController', 'ReadableStreamBYOBRequest',
  'WritableStream', 'WritableStreamDefaultWriter', 'WritableStreamDefaultController',
  'TransformStream', 'TransformStreamDefaultController', 'ByteLengthQueuingStrategy',
  'CountQueuingStrategy', 'TextEncoderStream', 'TextDecoderStream', 'CompressionStream',
  'DecompressionStream',
];
for (let i = 0; i < STREAM_GLOBALS.length; i++) {
  defineLazyGlobal(STREAM_GLOBALS[i], (name) => streams().globals[name]);
}
