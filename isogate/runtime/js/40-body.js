// Body, Request and Response (Fetch Standard as workerd implements it), plus
// the host hooks requestFromWire(w) and responseToWire(r).
//
// Bodies held in memory stay in private state until someone asks for a stream:
//   {kind: 'none'}                          no body (null)
//   {kind: 'string', str}                   a string body, kept as given
//   {kind: 'bytes', bytes, length}          a Uint8Array copy we own
//   {kind: 'binary', str}                   a binary string (one char per byte)
//                                           from the host (request bodies)
//   {kind: 'stream', rs}                    a ReadableStream given as the body
// `.body` makes a real ReadableStream (45-streams.js, loaded on first use) over
// the bytes; `rs` is then that stream's record. A body is used when it was
// consumed or its stream disturbed. `new Response(request.body)` of an untouched
// in-memory body takes the data over directly (the echo/proxy path stays sync).

const Promise_reject = Promise.reject.bind(Promise);

const KIND_NONE = 0;
const KIND_STRING = 1;
const KIND_BYTES = 2;
const KIND_BINARY = 3;
const KIND_STREAM = 4;

function bodyState(kind, data, length) {
  return { __proto__: null, kind, data, length, used: false, stream: null, rs: null, tooLarge: false, streamed: false };
}
function streamBodyState(rs) {
  const st = bodyState(KIND_STREAM, null, 0);
  st.rs = rs;
  st.stream = rs.obj;
  return st;
}
// Used: consumed, or its stream read from or cancelled.
const bodyDisturbed = (st) => st.used || (st.rs !== null && st.rs.disturbed);
const bodyLocked = (st) => st.rs !== null && st.rs.reader !== null;
// The ReadableStream of a body state (made on first use).
function bodyStream(st) {
  if (st.stream === null) {
    st.stream = streams().bytesStream(() => bodyBytes(st), () => {
      st.used = true;
    });
    st.rs = streams().rsRecord(st.stream);
    st.rs.bodySource = st;
    if (st.used) {
      // Asked for after the body was consumed: a stream that is disturbed and
      // locked (consuming reads it through a reader that is never released).
      st.rs.disturbed = true;
      streams().hostReader(st.rs);
    }
  }
  return st.stream;
}
const emptyBody = () => bodyState(KIND_NONE, null, 0);

// The byte length of a body state (string bodies: their UTF-8/WTF-8 length).
function bodyByteLength(st) {
  if (st.kind === KIND_NONE) return 0;
  if (st.kind === KIND_STREAM) return -1; // unknown
  if (st.kind === KIND_STRING) return utf8Length(st.data);
  if (st.kind === KIND_BINARY) return st.data.length;
  return st.length;
}

// The body's bytes as a fresh Uint8Array. Strings with lone surrogates are
// encoded as WTF-8, like workerd (V8's UTF-8 writer) does.
function bodyBytes(st) {
  if (st.kind === KIND_NONE) return new Uint8Array_(0);
  if (st.kind === KIND_STRING) return encodeUTF8(st.data, true);
  if (st.kind === KIND_BINARY) return binaryStringToBytes(st.data);
  const out = new Uint8Array_(st.length);
  TypedArrayPrototypeSet(out, st.data);
  return out;
}

function bodyText(st) {
  if (st.kind === KIND_STRING && StringPrototypeIsWellFormed(st.data)) return st.data;
  // workerd's text() decodes UTF-8 with replacement and keeps a leading BOM.
  const b = bodyBytes(st);
  return utf8DecodeBytes(b, TypedArrayPrototypeGetLength(b));
}

// Extract a body from a BodyInit: -> {state, contentType}.
function extractBody(init) {
  if (init === null || init === undefined) return { state: emptyBody(), contentType: null };
  if (typeof init === 'string') {
    return { state: bodyState(KIND_STRING, init, 0), contentType: 'text/plain;charset=UTF-8' };
  }
  if (typeof init === 'object' || typeof init === 'function') {
    const bytes = copyBufferSource(init);
    if (bytes !== undefined) {
      return { state: bodyState(KIND_BYTES, bytes, TypedArrayPrototypeGetLength(bytes)), contentType: null };
    }
    const blob = blobData(init);
    if (blob !== undefined) {
      const b = blob[0];
      return {
        state: bodyState(KIND_BYTES, b, TypedArrayPrototypeGetLength(b)),
        contentType: blob[1] === '' ? null : blob[1],
      };
    }
    const entries = formsLoaded() ? forms().entries(init) : undefined;
    if (entries !== undefined) {
      const m = forms().serializeMultipart(entries);
      return {
        state: bodyState(KIND_BYTES, m.bytes, TypedArrayPrototypeGetLength(m.bytes)),
        contentType: m.contentType,
      };
    }
    const form = serializeSearchParams(init);
    if (form !== undefined) {
      return {
        state: bodyState(KIND_STRING, form, 0),
        contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      };
    }
    const rs = streamsLoaded() ? streams().rsRecord(init) : undefined;
    if (rs !== undefined) {
      if (rs.disturbed) throw new TypeError_('This ReadableStream is disturbed (has already been read from), and cannot be used as a body.');
      if (rs.reader !== null) throw new TypeError_('This ReadableStream is currently locked to a reader.');
      const src = rs.bodySource;
      if (src !== undefined && !src.used) {
        // An untouched in-memory body's stream: take its data over; the
        // stream counts as read (its source body becomes used).
        src.used = true;
        rs.disturbed = true;
        return { state: bodyState(src.kind, src.data, src.length), contentType: null };
      }
      return { state: streamBodyState(rs), contentType: null };
    }
  }
  // Anything else is stringified (WebIDL union falls back to USVString, but
  // workerd keeps lone surrogates, so DOMString here).
  return { state: bodyState(KIND_STRING, toDOMString(init), 0), contentType: 'text/plain;charset=UTF-8' };
}

function usedError() {
  return new TypeError_('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
}

// Consume a body: mark used (a null body never becomes used, like workerd).
function consumeBody(st) {
  if (bodyDisturbed(st)) throw usedError();
  if (bodyLocked(st)) throw new TypeError_('This ReadableStream is currently locked to a reader.');
  if (st.kind !== KIND_NONE) st.used = true;
}

// Consume a body and call fn(state holding all its bytes): synchronously for
// in-memory bodies, after reading the whole stream otherwise.
function consumeWith(st, fn) {
  try {
    consumeBody(st);
    if (st.rs !== null) {
      return call(Promise_then, streams().readAll(st.rs), (box) => fn(bodyState(KIND_BYTES, box.b, TypedArrayPrototypeGetLength(box.b))));
    }
    return Promise_resolve(fn(st));
  } catch (e) {
    return Promise_reject(e);
  }
}

function copyArrayBuffer(bytes) {
  return TypedArrayPrototypeGetBuffer(bytes);
}

const BODY_TOKEN = Symbol_('body');
const streamsLoaded = () => streamsNS !== null;

// ---- Body (the shared base, like workerd's hidden Body class) -------------------------

let bodyOf; // (obj) -> body state (brand-checked) or undefined
let setBody; // (obj, state) -> void

class Body {
  #body = emptyBody();
  constructor(token) {
    if (token !== BODY_TOKEN) throw new TypeError_('Illegal constructor');
  }
  get body() {
    const st = this.#body;
    if (st.kind === KIND_NONE) return null;
    return bodyStream(st);
  }
  get bodyUsed() {
    return bodyDisturbed(this.#body);
  }
  arrayBuffer() {
    return consumeWith(this.#body, (st) => copyArrayBuffer(bodyBytes(st)));
  }
  bytes() {
    return consumeWith(this.#body, bodyBytes);
  }
  blob() {
    let type;
    try {
      type = this.headers.get('content-type');
    } catch (e) {
      return Promise_reject(e);
    }
    return consumeWith(this.#body, (st) => makeBlob(bodyBytes(st), type === null ? '' : mimeTypeString(type)));
  }
  formData() {
    try {
      const st = this.#body;
      consumeBody(st);
      return Promise_resolve(forms().parseFormDataBody(bodyBytes(st), this.headers.get('content-type')));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  text() {
    return consumeWith(this.#body, bodyText);
  }
  json() {
    return consumeWith(this.#body, (st) => JSON_parse(bodyText(st)));
  }
  static {
    bodyOf = (o) => (o !== null && typeof o === 'object' && #body in o ? o.#body : undefined);
    setBody = (o, st) => {
      o.#body = st;
    };
  }
}

// A Content-Type as workerd's blob() gives it: type/subtype and parameter
// names lower-cased, whitespace around ';' and '=' dropped, values kept.
function mimeTypeString(s) {
  const parts = StringPrototypeSplit(s, ';');
  let out = asciiLowerCase(trimAsciiWhitespace(parts[0]));
  for (let i = 1; i < parts.length; i++) {
    const p = trimAsciiWhitespace(parts[i]);
    const eq = StringPrototypeIndexOf(p, '=');
    if (eq <= 0) continue;
    out += ';' + asciiLowerCase(trimAsciiWhitespace(StringPrototypeSlice(p, 0, eq))) + '=' +
      StringPrototypeSlice(p, eq + 1);
  }
  return out;
}

function cloneBodyState(st) {
  if (bodyDisturbed(st) || bodyLocked(st)) throw new TypeError_('This ReadableStream is currently locked to a reader,');
  if (st.kind === KIND_STREAM) {
    // A stream body is teed: this body keeps one branch, the clone the other.
    const pair = streams().tee(st.rs);
    st.rs = pair[0];
    st.stream = pair[0].obj;
    return streamBodyState(pair[1]);
  }
  // Bodies held in memory are immutable once extracted, so clones share the data.
  return bodyState(st.kind, st.data, st.length);
}

// A body moved to a new Request (the old one becomes used).
function takeBodyState(st) {
  if (st.kind === KIND_STREAM) {
    st.used = true;
    return streamBodyState(st.rs);
  }
  st.used = true;
  return bodyState(st.kind, st.data, st.length);
}

// ---- Request ------------------------------------------------------------------------------

// The methods workerd (kj) knows; anything else is rejected like workerd does.
const HTTP_METHODS = { __proto__: null };
for (const m of StringPrototypeSplit(
  'GET HEAD POST PUT DELETE PATCH PURGE OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH ' +
  'SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE MSEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE', ' ')) {
  HTTP_METHODS[m] = true;
}

// Like workerd, only DELETE GET HEAD OPTIONS POST PUT are upper-cased; other
// methods must be spelled in upper case ("patch" throws). `lenient`: any case
// (methods from the wire).
const NORMALIZED_METHODS = { __proto__: null, DELETE: 1, GET: 1, HEAD: 1, OPTIONS: 1, POST: 1, PUT: 1 };
function normalizeMethod(m, lenient) {
  const s = toDOMString(m);
  const upper = StringPrototypeToUpperCase(s);
  const name = lenient || NORMALIZED_METHODS[upper] === 1 ? upper : s;
  if (HTTP_METHODS[name] !== true) throw new TypeError_('Invalid HTTP method string: ' + s);
  return name;
}

function checkRedirect(r) {
  const s = toDOMString(r);
  if (s !== 'follow' && s !== 'manual') {
    throw new TypeError_('Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be ' +
      'implemented since it does not make sense at the edge; use "manual" and check the response status code).');
  }
  return s;
}

let requestInternals; // (req) -> {method, url, redirect, headers} or undefined
let makeRequest; // (method, url, headersList, guard, bodyState, redirect) -> Request
let requestParts; // (genuine Request) -> {method, url, list, st, redirect}, read from its slots
let makeFetchResponse; // (status, statusText, list, bodyState, url, redirected) -> Response

// A RequestInit's signal: undefined (absent), null (none) or an AbortSignal.
function checkRequestSignal(s) {
  if (s === undefined || s === null || abortSignalOf(s) !== undefined) return s;
  throw new TypeError_("Incorrect type for the 'signal' field on 'RequestInitializerDict': " +
    "the provided value is not of type 'AbortSignal'.");
}

let requestSignalOf; // (req) -> its AbortSignal, or undefined

class Request extends Body {
  #method = 'GET';
  #url = '';
  #headers;
  #redirect = 'follow';
  // Like workerd: #signal is the signal given (the one fetch() honours);
  // #thisSignal is what request.signal gives when there is none (a signal that
  // never aborts, made on first use or given as such), not kept by clone().
  #signal = null;
  #thisSignal = null;
  constructor(input = undefined, init = undefined) {
    super(BODY_TOKEN);
    if (arguments.length < 1) throw new TypeError_("Failed to construct 'Request': 1 argument required, but only 0 present.");
    if (input === BODY_TOKEN) return; // internal construction (makeRequest)
    if (init !== undefined && init !== null && typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError_("Failed to construct 'Request': constructor parameter 2 is not of type 'RequestInitializerDict'.");
    }
    const opts = init == null ? {} : init;
    let inputBody = null;
    let headerSource;
    let signal = null;
    if (input !== null && typeof input === 'object' && #method in input) {
      this.#method = input.#method;
      this.#url = input.#url;
      this.#redirect = input.#redirect;
      headerSource = headersList(input.#headers);
      inputBody = bodyOf(input);
      signal = input.#signal;
    } else {
      const s = toUSVString(input);
      const href = parseAbsoluteURL(s);
      if (href === null) throw new TypeError_('Invalid URL: ' + s);
      this.#url = href;
    }
    if (opts.method !== undefined) this.#method = normalizeMethod(opts.method);
    if (opts.redirect !== undefined) this.#redirect = checkRedirect(opts.redirect);
    if (opts.cache !== undefined) {
      throw new Error_("The 'cache' field on 'RequestInitializerDict' is not implemented.");
    }
    let headers;
    if (opts.headers !== undefined) headers = new Headers(opts.headers);
    else headers = headersFromList(headerSource || newList(), GUARD_NONE);
    this.#headers = headers;
    if (#method in opts) {
      signal = opts.#signal; // a Request as the init: its signal, if it has one
    } else {
      const s = checkRequestSignal(opts.signal);
      if (s !== undefined) signal = s; // null drops the input's signal
    }
    if (signal !== null) {
      if (signalNeverAborts(signal)) this.#thisSignal = signal;
      else this.#signal = signal;
    }
    const initBody = opts.body;
    const hasInitBody = initBody !== undefined && initBody !== null;
    if ((hasInitBody || (inputBody && inputBody.kind !== KIND_NONE)) &&
      (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError_('Request with a GET or HEAD method cannot have a body.');
    }
    if (hasInitBody) {
      const { state, contentType } = extractBody(initBody);
      if (contentType !== null && !headers.has('content-type')) headers.append('content-type', contentType);
      setBody(this, state);
    } else if (inputBody && inputBody.kind !== KIND_NONE) {
      // The new request takes over the input's body; the input becomes used.
      if (bodyDisturbed(inputBody)) throw new TypeError_('Cannot reconstruct a Request with a used body.');
      setBody(this, takeBodyState(inputBody));
    }
  }
  get method() {
    return this.#method;
  }
  get url() {
    return this.#url;
  }
  get headers() {
    return this.#headers;
  }
  get redirect() {
    return this.#redirect;
  }
  get fetcher() {
    return null;
  }
  get signal() {
    if (!(#method in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (this.#signal !== null) return this.#signal;
    if (this.#thisSignal === null) this.#thisSignal = newNeverAbortSignal();
    return this.#thisSignal;
  }
  get cf() {
    return undefined;
  }
  get integrity() {
    return '';
  }
  get keepalive() {
    return false;
  }
  get cache() {
    return undefined;
  }
  clone() {
    if (!(#method in this)) throw new TypeError_('Illegal invocation');
    const st = cloneBodyState(bodyOf(this));
    const r = makeRequest(this.#method, this.#url, headersList(this.#headers), GUARD_NONE, st, this.#redirect);
    r.#signal = this.#signal;
    return r;
  }
  static {
    makeRequest = (method, url, list, guard, st, redirect) => {
      const r = new Request(BODY_TOKEN);
      r.#method = method;
      r.#url = url;
      r.#headers = headersFromList(list, guard);
      r.#redirect = redirect;
      setBody(r, st);
      return r;
    };
    requestInternals = (r) => (r !== null && typeof r === 'object' && #method in r ? r : undefined);
    requestParts = (r) => ({
      __proto__: null, method: r.#method, url: r.#url, list: headersList(r.#headers),
      st: bodyOf(r), redirect: r.#redirect,
    });
    requestSignalOf = (r) => (r !== null && typeof r === 'object' && #method in r && r.#signal !== null
      ? r.#signal : undefined);
  }
}
defineGlobal('Request', Request);

// The AbortSignal a fetch of `req` must honour: the one it was made with (or
// inherited), else undefined. Incoming requests have none (workerd without the
// enable_request_signal flag).
function requestSignal(req) {
  return requestSignalOf(req);
}

// ---- Response -----------------------------------------------------------------------------

const isNullBodyStatus = (s) => s === 101 || s === 204 || s === 205 || s === 304;
const isRedirectStatus = (s) => s === 301 || s === 302 || s === 303 || s === 307 || s === 308;

function checkStatusText(t) {
  const s = toDOMString(t);
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new TypeError_('Invalid statusText');
  }
  return s;
}

let responseWire; // (r) -> wire object; throws TypeError for non-Responses

class Response extends Body {
  #status = 200;
  #statusText = '';
  #headers;
  #type = 'default';
  #url = '';
  #redirected = false;
  constructor(body = null, init = undefined) {
    super(BODY_TOKEN);
    if (body === BODY_TOKEN) return; // internal construction
    this.#setUp(body, init, null);
  }
  // The constructor's steps; `contentType` overrides the body's default
  // Content-Type (Response.json).
  #setUp(body, init, contentType) {
    let status = 200;
    let statusText = '';
    let headers;
    if (init !== undefined && init !== null) {
      if (typeof init !== 'object' && typeof init !== 'function') {
        throw new TypeError_("Failed to construct 'Response': constructor parameter 2 is not of type 'InitializerDict or Response'.");
      }
      if (#status in init) {
        // workerd accepts a Response as the init: its status and headers.
        status = init.#status;
        statusText = init.#statusText;
        headers = headersFromList(headersList(init.#headers), GUARD_NONE);
      } else {
        if (init.status !== undefined) {
          const n = Number_(init.status);
          status = Number_isFinite(n) ? Math_trunc(n) : 0;
        }
        if (status < 200 || status > 599) {
          throw new RangeError_('Responses may only be constructed with status codes in the range 200 to 599, inclusive.');
        }
        if (init.statusText !== undefined) statusText = checkStatusText(init.statusText);
        if (init.headers !== undefined) headers = new Headers(init.headers);
      }
    }
    if (headers === undefined) headers = new Headers();
    this.#status = status;
    this.#statusText = statusText;
    this.#headers = headers;
    if (body !== null && body !== undefined) {
      const extracted = extractBody(body);
      const state = extracted.state;
      if (isNullBodyStatus(status)) {
        // workerd accepts an empty body here and treats it as no body.
        if (bodyByteLength(state) !== 0) {
          throw new TypeError_('Response with null body status (101, 204, 205, or 304) cannot have a body.');
        }
        return;
      }
      const type = contentType !== null ? contentType : extracted.contentType;
      if (type !== null && !headers.has('content-type')) headers.append('content-type', type);
      setBody(this, state);
    }
  }
  static json(data, init = undefined) {
    // Like workerd: JSON.stringify's result is used as a string, so
    // `undefined` (from undefined, functions, symbols) becomes "undefined".
    const text = `${JSON_stringify(data)}`;
    const r = new Response(BODY_TOKEN);
    r.#setUp(text, init, 'application/json');
    return r;
  }
  static redirect(url, status = 302) {
    const s = toUSVString(url);
    const href = parseAbsoluteURL(s);
    if (href === null) throw new TypeError_('Unable to parse URL: ' + s);
    const code = Number_(status);
    const st = Number_isFinite(code) ? Math_trunc(code) : 0;
    if (!isRedirectStatus(st)) {
      throw new RangeError_(`${status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.`);
    }
    const r = new Response(BODY_TOKEN);
    r.#status = st;
    r.#headers = headersFromList(newList(), GUARD_NONE);
    headersAppendRaw(r.#headers, 'location', href);
    headersSetGuard(r.#headers, GUARD_IMMUTABLE);
    return r;
  }
  static error() {
    const r = new Response(BODY_TOKEN);
    r.#status = 0;
    r.#type = 'error';
    r.#headers = headersFromList(newList(), GUARD_IMMUTABLE);
    return r;
  }
  get status() {
    return this.#status;
  }
  get statusText() {
    return this.#statusText;
  }
  get headers() {
    return this.#headers;
  }
  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }
  get redirected() {
    return this.#redirected;
  }
  get url() {
    return this.#url;
  }
  get webSocket() {
    return null;
  }
  get cf() {
    return undefined;
  }
  get type() {
    return this.#type;
  }
  clone() {
    if (!(#status in this)) throw new TypeError_('Illegal invocation');
    const r = new Response(BODY_TOKEN);
    r.#status = this.#status;
    r.#statusText = this.#statusText;
    r.#type = this.#type;
    r.#url = this.#url;
    r.#redirected = this.#redirected;
    r.#headers = headersFromList(headersList(this.#headers), GUARD_NONE);
    setBody(r, cloneBodyState(bodyOf(this)));
    return r;
  }
  static {
    // A response fetch() received: its headers are immutable, like workerd's.
    makeFetchResponse = (status, statusText, list, st, url, redirected) => {
      const r = new Response(BODY_TOKEN);
      r.#status = status;
      r.#statusText = statusText;
      r.#headers = headersFromList(list, GUARD_IMMUTABLE);
      r.#url = url;
      r.#redirected = redirected;
      setBody(r, st);
      return r;
    };
    responseWire = (r, maxBody) => {
      if (r === null || typeof r !== 'object' || !(#status in r)) {
        throw new TypeError_('not a Response');
      }
      if (r.#type === 'error') {
        throw new TypeError_('Return value from serve handler must not be an error response (like Response.error()).');
      }
      const st = bodyOf(r);
      if (st.tooLarge) return { __proto__: null, tooLarge: true };
      if (st.streamed === true) {
        // the body follows as the host reads the stream (responseBodyStream)
        return {
          __proto__: null,
          status: r.#status,
          statusText: r.#statusText,
          headers: headersToWire(headersList(r.#headers)),
          body: '',
          encoding: 'utf8',
          stream: true,
        };
      }
      if (st.kind === KIND_STREAM) throw new TypeError_('the body stream was not read');
      if (bodyDisturbed(st)) throw usedError();
      // Over the cap before touching the data: a huge string may be a rope that
      // would have to be flattened (hundreds of MB) just to be rejected.
      if (maxBody !== undefined) {
        const units = st.kind === KIND_BYTES ? st.length : st.kind === KIND_NONE ? 0 : st.data.length;
        if (units > maxBody) return { __proto__: null, tooLarge: true };
      }
      let body = '';
      let encoding = 'utf8';
      if (st.kind === KIND_STRING) {
        if (StringPrototypeIsWellFormed(st.data)) {
          body = st.data;
        } else {
          // workerd writes lone surrogates as WTF-8 bytes; send those bytes.
          const b = encodeUTF8(st.data, true);
          body = bytesToBinaryString(b, TypedArrayPrototypeGetLength(b));
          encoding = 'binary';
        }
      } else if (st.kind === KIND_BYTES) {
        body = bytesToBinaryString(st.data, st.length);
        encoding = 'binary';
      } else if (st.kind === KIND_BINARY) {
        body = st.data;
        encoding = 'binary';
      }
      // Plain data only: primitives in fresh null-prototype containers.
      return {
        __proto__: null,
        status: r.#status,
        statusText: r.#statusText,
        headers: headersToWire(headersList(r.#headers)),
        body,
        encoding,
      };
    };
  }
}
defineGlobal('Response', Response);

// ---- host hooks ---------------------------------------------------------------------------

// w = {method, url, headers: [[name, value], ...], body: binary string | null},
// parsed by the host from its own JSON. Incoming request headers are immutable
// in workerd, and so they are here. Redirect mode of incoming requests is
// "manual" in workerd.
function requestFromWire(w) {
  const method = normalizeMethod(w.method, true);
  const href = parseAbsoluteURL(toUSVString(w.url));
  if (href === null) throw new TypeError_('Invalid URL: ' + w.url);
  const list = newList();
  const hs = w.headers;
  const h = headersFromList(list, GUARD_NONE);
  // Like workerd: the request has a body (maybe empty) when it has bytes or
  // declares one with Content-Length or Transfer-Encoding, whatever the method.
  let framed = false;
  for (let i = 0; i < hs.length; i++) {
    let name;
    let value;
    try {
      name = normalizeHeaderName(hs[i][0]);
      value = normalizeHeaderValue(hs[i][1]);
    } catch {
      continue; // the gateway should never send these; skip rather than fail
    }
    if (name === 'content-length' || name === 'transfer-encoding') framed = true;
    headersAppendRaw(h, name, value);
  }
  const body = typeof w.body === 'string' ? w.body : '';
  let st;
  // A large upload: its start came with the request, the rest is read from the gateway
  // as the function reads (the same stream as a large fetched body's, 80-fetch.js).
  if (typeof w.more === 'number') st = streamBodyState(fetchedStream(body, w.more, 'upload'));
  else st = body.length > 0 || framed ? bodyState(KIND_BINARY, body, body.length) : emptyBody();
  const req = makeRequest(method, href, headersList(h), GUARD_IMMUTABLE, st, 'manual');
  return req;
}

function responseToWire(r, maxBody) {
  return responseWire(r, maxBody);
}

// The host sends a response once its whole body is known: a stream body is read
// to the end first (at most maxBody + 1 bytes). Returns undefined when there is
// nothing to wait for, else a promise that settles when the body is in memory
// (it rejects with the stream's error).
function responseBodyPending(r, maxBody) {
  const st = bodyOf(r);
  if (st === undefined || st.kind !== KIND_STREAM || bodyDisturbed(st) || bodyLocked(st)) return undefined;
  st.used = true;
  return call(Promise_then, streams().readAll(st.rs, maxBody), (box) => {
    if (box === null) {
      st.tooLarge = true;
      return;
    }
    st.kind = KIND_BYTES;
    st.data = box.b;
    st.length = TypedArrayPrototypeGetLength(box.b);
    st.rs = null;
    st.stream = null;
    st.used = false;
  });
}

// A stream body the host sends on as it is produced (90-host.js): its stream
// record, the body then used; undefined for a body held in memory (sent whole).
function responseBodyStream(r) {
  const st = bodyOf(r);
  if (st === undefined || st.kind !== KIND_STREAM || bodyDisturbed(st) || bodyLocked(st)) return undefined;
  st.used = true;
  st.streamed = true;
  return st.rs;
}

// For Blob.stream(): a byte stream over a copy of the bytes.
function bytesBodyStream(b) {
  return bodyStream(bodyState(KIND_BYTES, b, TypedArrayPrototypeGetLength(b)));
}
