// The host side of the prelude: how a tenant's handler is registered, invoked,
// and how its result is handed back to Python. Python drives this only through
// the frozen `__isogate` object and reads back only strings (see README.md).

// The prelude's own Response class, captured before tenants can replace the global.
const Response_ = globalThis.Response;

// Each invocation's input is the argument of `__isogate.invoke(input)`, written by the
// host as a string literal inside the script it evaluates: 32 seed characters
// (seedRandom), then the request as JSON. Nothing Python is ever converted into a JS
// value: stpyv8 arms a crash for when such a context is collected (DESIGN.md, "Memory
// and crashes"), so the host speaks to the prelude only through source text.
const SEED_LENGTH = 32;
let fetchListeners = [];      // service-worker syntax: addEventListener('fetch', fn)
let registering = false;      // addEventListener is honoured only while loading
let handlerObj = undefined;   // module syntax: the default export
let handlerFn = undefined;
let envObj = undefined;
const DEFAULT_MAX_RESPONSE_BODY = 8 * 1024 * 1024;
let maxResponseBody = DEFAULT_MAX_RESPONSE_BODY;

// State of the current invocation, reset by invoke().
let settled = false;
let failed = false;
let response = undefined;
let failure = undefined;
let waitPending = 0;
let responded = false;
// Which invocation a promise reaction belongs to: a promise left pending by an
// earlier invocation (its resolve kept in a global) must not answer a later one.
let generation = 0;
let loaded = false;     // load() runs once per context, and only from the host
// Bounds on error text sent to the host (Python cuts at the same sizes).
const MAX_ERROR_NAME = 200;
const MAX_ERROR_MESSAGE = 4096;
const MAX_ERROR_STACK = 16384;

// Serialise a primitive string as a JSON string literal. JSON.stringify on a
// primitive never consults toJSON, so tenant tampering cannot reach it.
function q(s) {
  return JSON_stringify(String_(s));
}

function safeString(v, fallback, max) {
  try {
    if (v === undefined) return fallback;
    const s = String_(v);
    // Cut before serialising: a getter may return megabytes.
    return max !== undefined && s.length > max ? StringPrototypeSlice(s, 0, max) : s;
  } catch (e) {
    return fallback;
  }
}

// Describe a thrown value as text without trusting it: every property read or
// conversion may run tenant code (getters, toString) and may itself throw.
function describeError(e) {
  let name = 'Error';
  let message = '';
  let stack = '';
  try {
    if ((typeof e === 'object' && e !== null) || typeof e === 'function') {
      name = safeString(e.name, 'Error', MAX_ERROR_NAME);
      message = safeString(e.message, '', MAX_ERROR_MESSAGE);
      stack = safeString(e.stack, '', MAX_ERROR_STACK);
    } else {
      name = 'Uncaught';
      message = safeString(e, '<unprintable value>', MAX_ERROR_MESSAGE);
    }
  } catch (err) {
    message = '<unprintable error>';
  }
  try {
    return '{"name":' + q(name) + ',"message":' + q(message) + ',"stack":' + q(stack) + '}';
  } catch (err) {
    return '{"name":"Error","message":"<unprintable error>","stack":""}';
  }
}

function logsJSON() {
  let lines;
  try {
    lines = consoleBuffer.take();
  } catch (e) {
    return '[]';
  }
  let out = '[';
  const n = lines.length;
  for (let i = 0; i < n; i++) {
    if (i) out += ',';
    out += q(lines[i]);
  }
  return out + ']';
}

class FetchEvent {
  #request;
  #responded = false;
  constructor(type, init) {
    this.type = String_(type);
    this.#request = init.request;
  }
  get request() {
    return this.#request;
  }
  respondWith(r) {
    if (this.#responded) throw new TypeError_('respondWith() was already called');
    this.#responded = true;
    responded = true;
    track(r);
  }
  waitUntil(p) {
    addWaitUntil(p);
  }
  passThroughOnException() {}
}

function addEventListener(type, listener) {
  if (!registering) throw new TypeError_('addEventListener() is only allowed at the top level');
  if (String_(type) !== 'fetch') return; // other events (scheduled...) are not served here
  if (typeof listener !== 'function') throw new TypeError_('the fetch listener must be a function');
  fetchListeners[fetchListeners.length] = listener;
}

function addWaitUntil(p) {
  const gen = generation;
  const done = () => { if (gen === generation) waitPending--; };
  waitPending++;
  try {
    call(Promise_then, Promise_resolve(p), done, done);
  } catch (e) {
    waitPending--;
  }
}

const ctxObj = Object_freeze({
  waitUntil(p) {
    addWaitUntil(p);
  },
  passThroughOnException() {},
});

function onResponse(r, gen) {
  if (settled || gen !== generation) return;
  settled = true;
  response = r;
}

function onFailure(e, gen = generation) {
  if (settled || gen !== generation) return;
  settled = true;
  failed = true;
  failure = e;
}

function track(value) {
  const gen = generation;
  let p;
  try {
    p = Promise_resolve(value);
  } catch (e) {
    onFailure(e, gen);
    return;
  }
  call(Promise_then, p, (r) => onResponse(r, gen), (e) => onFailure(e, gen));
}

function load(factory, configJSON) {
  // Once per context: a tenant calling __isogate.load() again could swap its
  // handler mid-flight or raise its own response body cap.
  if (loaded) throw new TypeError_('__isogate.load() may only be called by the host');
  loaded = true;
  return install(factory, configJSON);
}

// Registers the handler that `factory` (the tenant's wrapped top level) exports.
function install(factory, configJSON) {
  consoleBuffer.reset();
  let config;
  try {
    config = JSON_parse(configJSON);
    envObj = {};
    const env = config.env;
    for (let i = 0; i < env.length; i++) envObj[env[i][0]] = env[i][1];
    maxResponseBody = config.maxResponseBody;
    if (!config.module) {
      // Service-worker syntax: like workerd, bindings are globals of the script.
      for (let i = 0; i < env.length; i++) {
        Object_defineProperty(globalThis, env[i][0], {
          value: env[i][1], writable: true, configurable: true, enumerable: true,
        });
      }
    }
  } catch (e) {
    return '{"ok":false,"error":' + describeError(e) + ',"logs":[]}';
  }
  registering = true;
  let exported;
  try {
    exported = factory();
  } catch (e) {
    registering = false;
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + logsJSON() + '}';
  }
  registering = false;
  try {
    if (exported !== undefined) {
      if ((typeof exported !== 'object' && typeof exported !== 'function') || exported === null) {
        throw new TypeError_('the default export must be an object with a fetch() method');
      }
      const fn = exported.fetch;
      if (typeof fn !== 'function') {
        throw new TypeError_('the default export has no fetch() handler');
      }
      handlerObj = exported;
      handlerFn = fn;
    } else if (fetchListeners.length === 0) {
      throw new TypeError_(
        "no fetch handler: use `export default { fetch(request, env, ctx) {...} }` or addEventListener('fetch', ...)",
      );
    }
  } catch (e) {
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + logsJSON() + '}';
  }
  return '{"ok":true,"logs":' + logsJSON() + '}';
}

function checkInput(input) {
  if (typeof input !== 'string' || input.length < SEED_LENGTH) {
    throw new TypeError_('no invocation input from the host');
  }
  return input;
}

function invoke(input) {
  // Tenant code may call invoke() again (it is reachable); that only restarts its
  // own invocation, and the generation makes the outer one's reactions stale.
  // (No busy flag: a terminated invoke() never runs its finally block.)
  generation++;
  settled = false;
  failed = false;
  response = undefined;
  failure = undefined;
  waitPending = 0;
  responded = false;
  consoleBuffer.reset();
  try {
    checkInput(input);
    seedRandom(StringPrototypeSlice(input, 0, SEED_LENGTH));
    const request = requestFromWire(JSON_parse(StringPrototypeSlice(input, SEED_LENGTH)));
    if (handlerFn !== undefined) {
      track(Reflect_apply(handlerFn, handlerObj, [request, envObj, ctxObj]));
    } else {
      const event = new FetchEvent('fetch', { request });
      const listeners = fetchListeners;
      for (let i = 0; i < listeners.length; i++) Reflect_apply(listeners[i], undefined, [event]);
      if (!responded && !settled) {
        onFailure(new TypeError_('no fetch listener called event.respondWith()'));
      }
    }
  } catch (e) {
    onFailure(e);
  }
}

// Called in a second script, after the microtasks of invoke() have run. Never
// throws: an exception leaving the host's eval would be converted by stpyv8,
// which may run tenant getters with the GIL held.
function result() {
  try {
    return resultJSON();
  } catch (e) {
    return '{"outcome":"js_error","error":{"name":"Error","message":"the result could not be read","stack":""},"logs":[]}';
  }
}

function resultJSON() {
  if (!settled) {
    return '{"outcome":"unsettled","logs":' + logsJSON() + '}';
  }
  if (failed) {
    return '{"outcome":"js_error","error":' + describeError(failure) + ',"logs":' + logsJSON() + '}';
  }
  let wire;
  try {
    wire = responseToWire(response, maxResponseBody);
  } catch (e) {
    let why = typeName(response);
    if (why === 'Response') why = 'a Response that cannot be sent: ' + safeString(e && e.message, '');
    const err = new TypeError_('the handler did not return a usable Response (got ' + why + ')');
    return '{"outcome":"js_error","error":' + describeError(err) + ',"logs":' + logsJSON() + '}';
  }
  if (wire.tooLarge === true) {
    return '{"outcome":"too_large","detail":' + q('response body over ' + maxResponseBody + ' bytes') + ',"logs":' + logsJSON() + '}';
  }
  const body = wire.body;
  if (body.length > maxResponseBody) {
    return '{"outcome":"too_large","detail":' + q('response body over ' + maxResponseBody + ' bytes') + ',"logs":' + logsJSON() + '}';
  }
  if (waitPending > 0) {
    try {
      console.warn('ctx.waitUntil(): a promise was still pending when the invocation ended; it will never settle');
    } catch (e) {}
  }
  const h = wire.headers;
  // Headers have no cap of their own in the prelude: bound them like the body.
  let headerBytes = 0;
  for (let i = 0; i < h.length; i++) headerBytes += h[i][0].length + h[i][1].length;
  if (headerBytes > maxResponseBody) {
    return '{"outcome":"too_large","detail":' + q('response headers over ' + maxResponseBody + ' bytes') + ',"logs":' + logsJSON() + '}';
  }
  let hs = '[';
  for (let i = 0; i < h.length; i++) {
    if (i) hs += ',';
    hs += '[' + q(h[i][0]) + ',' + q(h[i][1]) + ']';
  }
  hs += ']';
  return (
    '{"outcome":"ok","status":' + (wire.status | 0) +
    ',"statusText":' + q(wire.statusText) +
    ',"headers":' + hs +
    ',"encoding":' + q(wire.encoding) +
    ',"body":' + q(body) +
    ',"logs":' + logsJSON() + '}'
  );
}

// Run the whole invocation path with a built-in handler, before any tenant code
// exists in this context: V8 compiles functions lazily per isolate and fills each
// context's inline caches on first use, and a pre-warmed context should not pay that
// on its function's first request. The host calls warmup(0), warmup(1) and warmup(2),
// each in a script of its own, like a real call: a response settles in the microtasks
// that run when a script returns, so only the next script's result() sees it. (Called
// within one script, result() took the "unsettled" path, and the first real call paid
// ~0.4 ms for the success path, measured.)
const WARMUP_REQUESTS = [
  '{"method":"POST","url":"http://warm.up/a?b=c","headers":[["content-type","text/plain"]],"body":"x"}',
  '{"method":"GET","url":"http://warm.up/","headers":[],"body":null}',
];

// Module syntax, so that install() defines no globals for its env.
const WARMUP_CONFIG = '{"env":[["WARM","1"]],"maxResponseBody":1048576,"module":true}';
function warmupModule() {
  return { fetch: () => Response_.json({ warm: true }, { headers: { 'x-warm': '1' } }) };
}

// Returns the previous step's result() (the host checks that it succeeded).
function warmup(step) {
  if (loaded) throw new TypeError_('__isogate.warmup() may only be called by the host');
  const previous = step > 0 ? result() : '';
  if (step < WARMUP_REQUESTS.length) {
    // through the tenant's path: install() is what load() runs
    install(warmupModule, WARMUP_CONFIG);
    invoke('\0'.repeat(SEED_LENGTH) + WARMUP_REQUESTS[step]);
    return previous;
  }
  handlerObj = undefined;
  handlerFn = undefined;
  envObj = undefined;
  maxResponseBody = DEFAULT_MAX_RESPONSE_BODY;
  fetchListeners = [];
  consoleBuffer.reset();
  generation++;
  return previous;
}

function typeName(v) {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  try {
    const proto = Object_getPrototypeOf(v);
    const ctor = proto && proto.constructor;
    return ctor && typeof ctor.name === 'string' ? ctor.name : 'object';
  } catch (e) {
    return 'object';
  }
}

Object_defineProperty(globalThis, 'addEventListener', {
  value: addEventListener, writable: true, configurable: true, enumerable: false,
});
Object_defineProperty(globalThis, 'FetchEvent', {
  value: FetchEvent, writable: true, configurable: true, enumerable: false,
});
if (!('self' in globalThis)) {
  Object_defineProperty(globalThis, 'self', {
    value: globalThis, writable: true, configurable: true, enumerable: false,
  });
}
// The host entry points: not writable, not configurable, frozen. A tenant can
// shadow nothing here, so Python's `__isogate.invoke(...)` always reaches us.
Object_defineProperty(globalThis, '__isogate', {
  value: Object_freeze({ load, invoke, result, warmup }),
  writable: false, configurable: false, enumerable: false,
});
