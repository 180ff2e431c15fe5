// fetch(): the request travels to the host as data (a host operation, 90-host.js),
// the worker's I/O loop performs it under the operator's egress policy, and the
// result comes back as JSON that becomes a Response here. No Python object is ever
// involved: only strings cross.

// The request as the JSON the host reads: {method, url, headers, body, redirect}.
// Built by hand from the request's own slots (a tenant's toJSON or getters never run).
function fetchArgs(parts, sp) {
  // in workerd's wire order and spelling (its common headers first, values joined)
  let hs = '';
  const list = headersToWire(parts.list);
  for (let i = 0; i < list.length; i++) {
    hs += (i ? ',' : '') + '[' + q(list[i][0]) + ',' + q(list[i][1]) + ']';
  }
  const st = parts.st;
  let body = 'null';
  let passed = '';
  if (sp !== undefined) {
    // an untouched body the host holds (splice): its start, and the host reads on (the
    // function's own upload, or the fetched body `from`)
    passed = ',"upload":' + q(sp.head) + (sp.upload ? '' : ',"from":' + sp.handle);
  } else if (st !== undefined && st.kind !== KIND_NONE) {
    if (bodyDisturbed(st)) throw usedError();
    if (bodyLocked(st)) throw new TypeError_('This ReadableStream is currently locked to a reader.');
    if (st.kind === KIND_BINARY) {
      body = q(st.data);
    } else {
      const bytes = bodyBytes(st);
      body = q(bytesToBinaryString(bytes, TypedArrayPrototypeGetLength(bytes)));
    }
    st.used = true;
  }
  return (
    '{"method":' + q(parts.method) + ',"url":' + q(parts.url) + ',"headers":[' + hs +
    '],"body":' + body + passed + ',"redirect":' + q(parts.redirect) + '}'
  );
}

// The host's result {status, statusText, headers, body, url, redirected} -> Response.
function responseFromHost(v) {
  const status = v.status | 0;
  const h = new Headers();
  const hs = v.headers;
  for (let i = 0; i < hs.length; i++) {
    try {
      headersAppendRaw(h, normalizeHeaderName(hs[i][0]), normalizeHeaderValue(hs[i][1]));
    } catch (e) {
      // a header the platform cannot represent is dropped, as workerd does
    }
  }
  const body = String_(v.body);
  let st;
  if (isNullBodyStatus(status)) st = emptyBody();
  else if (typeof v.more === 'number') st = streamBodyState(fetchedStream(body, v.more));
  else st = bodyState(KIND_BINARY, body, body.length);
  return makeFetchResponse(status, String_(v.statusText), headersList(h), st, String_(v.url), v.redirected === true);
}

// A large fetched body: its start came with the response, the rest is read from the
// host's open response a chunk at a time as the stream is read (host operation
// "fread" on its handle; "fclose" when the stream is cancelled), so a function that
// passes it on holds only what its reader has not taken yet.
// Until it is read, the stream's record carries `splice` {handle, head, upload}: a
// Response or a fetch() that passes it on untouched has the host send the body on
// itself (90-host.js, fetchArgs), so the bytes never enter JavaScript. The rest of a
// large request body is read the same way (its handle: the host's REQUEST_BODY;
// `splice` is 'upload'): passed on untouched as a fetch() body, the host sends it on
// from the gateway's parts; as a response body it goes through JavaScript.
function fetchedStream(first, handle, splice = true) {
  let head = first;
  let done = false;
  let rec = null;
  const obj = streams().pullStream(() => {
    rec.splice = null;
    if (head !== null) {
      const b = binaryStringToBytes(head);
      head = null;
      return Promise_resolve(b);
    }
    const op = startHostOp('fread', '' + handle);
    return call(Promise_then, op.promise, (v) => {
      if (v === null) {
        done = true;
        return null;
      }
      return binaryStringToBytes(String_(v));
    });
  }, () => {
    rec.splice = null;
    head = null;
    if (done) return;
    done = true;
    try {
      startHostOp('fclose', '' + handle);
    } catch (e) {} // outside an invocation: the host closes it when the invocation ends
  });
  rec = streams().rsRecord(obj);
  rec.splice = splice ? { __proto__: null, handle, head: first, upload: splice === 'upload' } : null;
  return rec;
}

// An aborted fetch rejects with a fresh copy of a DOMException reason (workerd does).
function abortError(reason) {
  if (isDOMException(reason)) return new DOMException(reason.message, reason.name);
  return reason;
}

function fetch(input = undefined, init = undefined) {
  if (arguments.length === 0) {
    return Promise_reject(new TypeError_("Failed to execute 'fetch' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Request or string'."));
  }
  let request;
  try {
    request = new Request(input, init);
  } catch (e) {
    return Promise_reject(e);
  }
  const signal = requestSignal(request);
  if (signal !== undefined && signalAborted(signal)) return Promise_reject(abortError(signalReason(signal)));
  const parts = requestParts(request);
  const st = parts.st;
  if (st !== undefined && st.kind === KIND_STREAM && st.rs.splice != null) {
    // An untouched body the host holds (the invocation's request body, or a fetched
    // body): the host sends it on as it arrives, never read in JavaScript (no read
    // cap). The stream is used after.
    try {
      consumeBody(st);
    } catch (e) {
      return Promise_reject(e);
    }
    const sp = st.rs.splice;
    st.rs.splice = null;
    return fetchParts(parts, signal, sp);
  }
  if (st !== undefined && st.kind === KIND_STREAM) {
    // A stream body is read to the end first; the host sends it in one piece.
    try {
      consumeBody(st);
    } catch (e) {
      return Promise_reject(e);
    }
    return call(Promise_then, streams().readAll(st.rs), (box) => {
      parts.st = bodyState(KIND_BYTES, box.b, TypedArrayPrototypeGetLength(box.b));
      return fetchParts(parts, signal);
    });
  }
  return fetchParts(parts, signal);
}

function fetchParts(parts, signal, sp = undefined) {
  if (signal !== undefined && signalAborted(signal)) return Promise_reject(abortError(signalReason(signal)));
  let argsJSON;
  try {
    argsJSON = fetchArgs(parts, sp);
  } catch (e) {
    return Promise_reject(e);
  }
  const op = startHostOp('fetch', argsJSON); // throws outside a handler, like workerd
  return new Promise_((resolve, reject) => {
    let unregister;
    if (signal !== undefined) {
      unregister = onAbort(signal, () => {
        cancelHostOp(op.id);
        reject(abortError(signalReason(signal)));
      });
    }
    call(Promise_then, op.promise, (v) => {
      if (unregister !== undefined) unregister();
      try {
        resolve(responseFromHost(v));
      } catch (e) {
        reject(e);
      }
    }, (e) => {
      if (unregister !== undefined) unregister();
      reject(e);
    });
  });
}
defineGlobal('fetch', fetch);
