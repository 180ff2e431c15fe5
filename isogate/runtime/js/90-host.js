// The host side of the prelude: how a tenant's handler is registered, invoked,
// and how its result is handed back to Python. Python drives this only through
// the frozen `__isogate` object and reads back only strings (see README.md).

// The prelude's own Response class, captured before tenants can replace the global.
const Response_ = globalThis.Response;

// The host runs many invocations in one context at once (DESIGN.md, "Host
// operations"): each is started by `__isogate.invoke(id, input)`, written by the host
// as string literals inside the script it evaluates (32 seed characters, then the
// request as JSON). Nothing Python is ever converted into a JS value: stpyv8 arms a
// crash for when such a context is collected (DESIGN.md, "Memory and crashes"), so
// the host speaks to the prelude only through source text.
//
// What a function waits for (a timer, a fetch) is a host operation: recorded here as
// data in `outbox`, handed to the tenant as a promise. After every eval the host calls
// `__isogate.step()`, which returns the operations queued since the last step and the
// invocations that produced their response or ended. The host performs the operations
// and settles them with `__isogate.deliver(op, payload)` or `__isogate.fire(timer)`, one
// eval each, so a termination of one eval stops one invocation only.
const SEED_LENGTH = 32;
let fetchListeners = [];      // service-worker syntax: addEventListener('fetch', fn)
let scheduledListeners = [];  // ... and addEventListener('scheduled', fn) (cron ticks)
let registering = false;      // addEventListener is honoured only while loading
let handlerObj = undefined;   // module syntax: the default export
let handlerFn = undefined;
let envObj = undefined;
const DEFAULT_MAX_RESPONSE_BODY = 8 * 1024 * 1024;
let maxResponseBody = DEFAULT_MAX_RESPONSE_BODY;
let loaded = false;     // load() runs once per context, and only from the host
// Bounds on error text sent to the host (Python cuts at the same sizes).
const MAX_ERROR_NAME = 200;
const MAX_ERROR_MESSAGE = 4096;
const MAX_ERROR_STACK = 16384;
// Console output kept per invocation (the rest is replaced by one marker line).
const LOG_MAX_LINES = 1000;
const LOG_MAX_BYTES = 64 * 1024;
const LOG_TRUNCATED = '[console output truncated: over 1000 lines or 64 KiB]';
// Timer delays are capped like workerd's (100 years, in milliseconds).
const MAX_TIMER_MS = 3153600000000;

const MapGet = uncurryThis(Map_.prototype.get);
const MapSet = uncurryThis(Map_.prototype.set);
const MapDelete = uncurryThis(Map_.prototype.delete);

const invocations = new Map_();  // id -> invocation in flight
const hostOps = new Map_();      // op id -> {inv, resolve, reject}
const timers = new Map_();       // timer id -> {id, inv, fn, args, ms, repeat}
let nextOp = 1;
let nextTimer = 1;
let current = null;              // the invocation whose eval is running
let outbox = newList();          // operations for the host, each a JSON array text
let changed = newList();         // invocations the next step() must look at

function newInvocation(id) {
  return {
    __proto__: null,
    id,
    settled: false,   // the handler's Response (or failure) is known
    failed: false,
    unsettled: false, // it can never produce a response (nothing left to wait for)
    response: undefined,
    failure: undefined,
    responded: false, // FetchEvent.respondWith() was called
    reported: false,  // its result went to the host
    ended: false,
    pending: 0,       // host operations and timers not settled yet
    waitPending: 0,   // ctx.waitUntil() promises not settled yet
    ids: newList(),   // its op and timer ids (dropped when it ends)
    pump: undefined,  // its streamed response body, while it goes out (startPump)
    logs: newList(),
    logBytes: 0,
    logsFull: false,
    scheduled: false, // a cron tick (scheduled handler), not a fetch: no Response
    noRetry: false,   // its controller.noRetry() was called
  };
}


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

// A list of primitive strings as a JSON array.
function listJSON(lines) {
  let out = '[';
  const n = lines.length;
  for (let i = 0; i < n; i++) {
    if (i) out += ',';
    out += q(lines[i]);
  }
  return out + ']';
}

// Console lines printed since the last step belong to the invocation whose eval
// printed them (a continuation of a promise shared between invocations prints into
// the eval that ran it).
function takeLogs(inv) {
  let lines;
  try {
    lines = consoleBuffer.drain();
  } catch (e) {
    return;
  }
  if (inv === null || inv.logsFull) return;
  const logs = inv.logs;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const size = line.length;
    if (logs.length >= LOG_MAX_LINES || inv.logBytes + size > LOG_MAX_BYTES) {
      logs[logs.length] = LOG_TRUNCATED;
      inv.logsFull = true;
      return;
    }
    logs[logs.length] = line;
    inv.logBytes += size;
  }
}

function logsOf(inv) {
  const text = listJSON(inv.logs);
  inv.logs = newList();
  return text;
}

function touch(inv) {
  changed[changed.length] = inv;
}

function disallowed(what) {
  return new Error_(
    'Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or ' +
    'connect()), setting a timeout, and generating random values are not allowed within ' +
    'global scope. To fix this error, perform this operation within a handler. ' +
    'https://developers.cloudflare.com/workers/runtime-apis/handlers/',
  );
}

// ---- host operations and timers -------------------------------------------------------

// Ask the host for an operation: `argsJSON` is JSON text the prelude built itself
// (never JSON.stringify of an object: a tenant's toJSON would run). Returns
// {id, promise}; the promise settles with the host's value, or rejects with the error
// it names. Only inside an invocation.
function startHostOp(kind, argsJSON) {
  const inv = current;
  if (inv === null || inv.ended) throw disallowed();
  const id = nextOp++;
  let resolve;
  let reject;
  const promise = new Promise_((a, b) => {
    resolve = a;
    reject = b;
  });
  MapSet(hostOps, id, { __proto__: null, inv, resolve, reject });
  inv.pending++;
  inv.ids[inv.ids.length] = id;
  outbox[outbox.length] = '[' + q(inv.id) + ',' + id + ',' + q(kind) + ',' + argsJSON + ']';
  return { __proto__: null, id, promise };
}

// The tenant gave up on an operation (aborted): its promise is left to the caller to
// reject, and the host is told to stop the work.
function cancelHostOp(id) {
  const op = MapGet(hostOps, id);
  if (op === undefined) return;
  MapDelete(hostOps, id);
  op.inv.pending--;
  outbox[outbox.length] = '[' + q(op.inv.id) + ',' + id + ',"cancel",null]';
  touch(op.inv);
}

function hostError(e) {
  const name = typeof e === 'object' && e !== null ? String_(e.name) : 'Error';
  const message = typeof e === 'object' && e !== null ? String_(e.message) : 'host operation failed';
  if (name === 'TypeError') return new TypeError_(message);
  if (name === 'RangeError') return new RangeError_(message);
  if (name === 'AbortError' || name === 'TimeoutError') return new DOMException(message, name);
  return new Error_(message);
}

function setHostTimer(fn, delay, args = newList(), repeat = false) {
  const inv = current;
  if (inv === null || inv.ended) throw disallowed();
  let ms = +delay;
  if (!(ms > 0)) ms = 0; // NaN and negatives: 0
  ms = ms > MAX_TIMER_MS ? MAX_TIMER_MS : Math_floor(ms);
  const id = nextTimer++;
  MapSet(timers, id, { __proto__: null, id, inv, fn, args, ms, repeat });
  inv.pending++;
  inv.ids[inv.ids.length] = -id;
  outbox[outbox.length] = '[' + q(inv.id) + ',' + id + ',"timer",' + ms + ']';
  return id;
}

function clearHostTimer(id) {
  const n = +id;
  const t = MapGet(timers, n);
  if (t === undefined) return;
  MapDelete(timers, n);
  t.inv.pending--;
  outbox[outbox.length] = '[' + q(t.inv.id) + ',' + n + ',"clear",null]';
  touch(t.inv);
}

// Parameters with defaults: the functions' lengths are 0, like workerd's.
function setTimeout(callback = undefined, delay = 0, ...args) {
  if (typeof callback !== 'function') {
    throw new TypeError_("Failed to execute 'setTimeout' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  }
  return setHostTimer(callback, delay, args, false);
}

function setInterval(callback = undefined, delay = 0, ...args) {
  if (typeof callback !== 'function') {
    throw new TypeError_("Failed to execute 'setInterval' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  }
  return setHostTimer(callback, delay, args, true);
}

function clearTimer(name, n, id) {
  if (n === 0) {
    throw new TypeError_("Failed to execute '" + name + "' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Number'.");
  }
  if (id !== undefined && id !== null) clearHostTimer(id);
}

function clearTimeout(id = undefined) {
  clearTimer('clearTimeout', arguments.length, id);
}

function clearInterval(id = undefined) {
  clearTimer('clearInterval', arguments.length, id);
}

const scheduler = {
  wait(delay, options = undefined) {
    return new Promise_((resolve) => {
      setHostTimer(() => resolve(undefined), delay);
    });
  },
};

defineGlobal('setTimeout', setTimeout);
defineGlobal('setInterval', setInterval);
defineGlobal('clearTimeout', clearTimeout);
defineGlobal('clearInterval', clearInterval);
defineGlobal('scheduler', scheduler);

// ---- the fetch event, ctx, and how a response is tracked -------------------------------

class FetchEvent {
  #request;
  #inv;
  #responded = false;
  constructor(type, init) {
    this.type = String_(type);
    this.#request = init.request;
    this.#inv = current;
  }
  get request() {
    return this.#request;
  }
  respondWith(r) {
    if (this.#responded) throw new TypeError_('respondWith() was already called');
    this.#responded = true;
    const inv = this.#inv;
    if (inv !== null) {
      inv.responded = true;
      track(inv, r);
    }
  }
  waitUntil(p) {
    addWaitUntil(this.#inv, p);
  }
  passThroughOnException() {}
}

function addEventListener(type, listener) {
  if (!registering) throw new TypeError_('addEventListener() is only allowed at the top level');
  const t = String_(type);
  if (t !== 'fetch' && t !== 'scheduled') return; // other events are not served here
  if (typeof listener !== 'function') throw new TypeError_('the ' + t + ' listener must be a function');
  const list = t === 'fetch' ? fetchListeners : scheduledListeners;
  list[list.length] = listener;
}

// ---- the scheduled event (cron ticks) ---------------------------------------------------

// What a scheduled handler gets as `controller` (module syntax), as in workerd.
class ScheduledController {
  #inv;
  #cron;
  #time;
  constructor(inv, cron, time) {
    this.#inv = inv;
    this.#cron = cron;
    this.#time = time;
  }
  get cron() {
    return this.#cron;
  }
  get scheduledTime() {
    return this.#time;
  }
  // A failure of this run is not retried.
  noRetry() {
    this.#inv.noRetry = true;
  }
}

// Service-worker syntax: addEventListener('scheduled', (event) => ...).
class ScheduledEvent {
  #controller;
  #inv;
  constructor(type, controller, inv) {
    this.type = String_(type);
    this.#controller = controller;
    this.#inv = inv;
  }
  get cron() {
    return this.#controller.cron;
  }
  get scheduledTime() {
    return this.#controller.scheduledTime;
  }
  noRetry() {
    this.#controller.noRetry();
  }
  waitUntil(p) {
    addWaitUntil(this.#inv, p);
  }
}

// A scheduled handler's result: its promise settles the run (the value is ignored).
function trackScheduled(inv, value) {
  followResult(inv, value, () => {
    if (inv.settled || inv.ended) return;
    inv.settled = true;
    touch(inv);
  });
}

function addWaitUntil(inv, p) {
  if (inv === null || inv.ended) return;
  const done = () => {
    inv.waitPending--;
    touch(inv);
  };
  const failed = (e) => {
    // Like workerd: a rejected waitUntil() promise is reported, not sent anywhere.
    try {
      reportUncaught(e);
    } catch (err) {}
    done();
  };
  inv.waitPending++;
  try {
    call(Promise_then, Promise_resolve(p), done, failed);
  } catch (e) {
    inv.waitPending--;
  }
}

// One ctx object per invocation: its waitUntil() belongs to that invocation.
function newCtx(inv) {
  return Object_freeze({
    waitUntil(p) {
      addWaitUntil(inv, p);
    },
    passThroughOnException() {},
  });
}

function onResponse(inv, r) {
  if (inv.settled || inv.ended) return;
  // A stream body goes to the gateway chunk by chunk as it is read (startPump), its
  // status and headers first; a body in memory goes whole with them.
  let rs;
  try {
    rs = responseBodyStream(r);
  } catch (e) {
    rs = undefined;
  }
  inv.settled = true;
  inv.response = r;
  if (rs !== undefined && rs.splice != null && !rs.splice.upload) startSplice(inv, rs.splice);
  else if (rs !== undefined) startPump(inv, rs);
  touch(inv);
}

// An untouched fetch() body passed on as the response body: its start (already here)
// goes out as data, then the host sends the rest itself from the open upstream
// response ("eos": "splice:<handle>"), under the same credit and size limit.
function startSplice(inv, sp) {
  const out = newList();
  if (sp.head.length > 0) out[0] = sp.head;
  inv.pump = {
    __proto__: null, reading: false, looping: false, done: true, told: false,
    end: 'splice:' + sp.handle, sent: 0, out, req: null, credit: 0, reader: null,
  };
}

// ---- streamed response bodies ----------------------------------------------------------
// The host lets a stream run STREAM_CREDIT bytes ahead of its client and grants more
// (`__isogate.credit(id, n)`) as the client takes them: the stream is read only while
// credit lasts, so a slow client holds back the function, not memory. What is read
// goes out with the next step ("data"), and its end ("eos": "" when complete, else
// why it was cut short). The host keeps its own count too and holds back anything
// beyond its grant (a tenant can call credit() itself), so this count only paces
// the reads.
const STREAM_CREDIT = 256 * 1024;

function startPump(inv, rs) {
  const p = {
    __proto__: null,
    reader: streams().hostReader(rs),
    credit: STREAM_CREDIT,
    reading: false,
    looping: false,
    done: false,
    told: false,
    end: '',
    sent: 0,
    out: newList(),
    req: null,
  };
  p.req = {
    __proto__: null,
    chunk: (v) => {
      p.reading = false;
      if (p.done || inv.ended) return;
      let b;
      if (ArrayBuffer_isView(v)) b = new Uint8Array_(v.buffer, v.byteOffset, v.byteLength);
      else if (v instanceof ArrayBuffer_) b = new Uint8Array_(v);
      else {
        pumpStop(inv, 'error', new TypeError_('This ReadableStream did not return bytes.'));
        return;
      }
      const n = TypedArrayPrototypeGetLength(b);
      p.sent += n;
      if (p.sent > maxResponseBody) {
        try {
          console.error('response body over ' + maxResponseBody + ' bytes: the stream was cut short');
        } catch (e) {}
        pumpStop(inv, 'too_large', undefined);
        return;
      }
      if (n > 0) {
        p.out[p.out.length] = bytesToBinaryString(b, n);
        p.credit -= n;
        if (p.out.length === 1) touch(inv); // once per step is enough
      }
      if (!p.looping) pumpMore(inv);
    },
    close: () => {
      p.reading = false;
      p.done = true;
      touch(inv);
    },
    error: (e) => {
      p.reading = false;
      if (p.done) return;
      p.done = true;
      p.end = 'error';
      try {
        // the gateway learns what broke it (a caller that wants the body whole is told)
        const named = safeString(e && e.name, 'Error', MAX_ERROR_NAME);
        p.end = 'error:' + named + ': ' + safeString(e && e.message, '', MAX_ERROR_MESSAGE);
      } catch (err) {}
      try {
        reportUncaught(e);
      } catch (err) {}
      touch(inv);
    },
  };
  inv.pump = p;
  pumpMore(inv);
}

// Read on while credit lasts (a loop: a stream with its chunks queued answers each
// read at once, and a recursion per chunk could exhaust the stack).
function pumpMore(inv) {
  const p = inv.pump;
  if (p === undefined || p.looping) return;
  p.looping = true;
  try {
    while (!p.reading && !p.done && !inv.ended && p.credit > 0) {
      p.reading = true;
      p.reader.read(p.req);
    }
  } catch (e) {
    pumpStop(inv, 'error', e);
  } finally {
    p.looping = false;
  }
}

function pumpStop(inv, why, reason) {
  const p = inv.pump;
  if (p.done) return;
  p.done = true;
  p.end = why;
  p.out = newList();
  p.reader.cancel(reason);
  touch(inv);
}

// The host's grant of `n` more bytes for invocation `id`'s streamed body.
function credit(id, n) {
  const inv = MapGet(invocations, String_(id));
  if (inv === undefined || inv.pump === undefined || inv.ended || inv.pump.reader === null) return;
  current = inv;
  const k = +n;
  if (k > 0) inv.pump.credit += k;
  pumpMore(inv);
}

function onFailure(inv, e) {
  if (inv.settled || inv.ended) return;
  inv.settled = true;
  inv.failed = true;
  inv.failure = e;
  touch(inv);
}

function track(inv, value) {
  followResult(inv, value, (r) => onResponse(inv, r));
}

// A handler's result, settled: onValue with its value, or the invocation failed (a
// thenable whose `then` getter throws fails here, not inside the host).
function followResult(inv, value, onValue) {
  let p;
  try {
    p = Promise_resolve(value);
  } catch (e) {
    onFailure(inv, e);
    return;
  }
  call(Promise_then, p, onValue, (e) => onFailure(inv, e));
}

// ---- loading ---------------------------------------------------------------------------

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
    const kv = config.kv || [];
    for (let i = 0; i < kv.length; i++) envObj[kv[i]] = new KvNamespace(kv[i]);
    maxResponseBody = config.maxResponseBody;
    if (!config.module) {
      // Service-worker syntax: like workerd, bindings are globals of the script.
      for (let i = 0; i < env.length; i++) {
        Object_defineProperty(globalThis, env[i][0], {
          value: env[i][1], writable: true, configurable: true, enumerable: true,
        });
      }
      for (let i = 0; i < kv.length; i++) {
        Object_defineProperty(globalThis, kv[i], {
          value: envObj[kv[i]], writable: true, configurable: true, enumerable: true,
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
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  registering = false;
  if (config.module && config.async) {
    // Top-level await: the namespace arrives once the module's promise settles. The
    // host asks for the outcome with loaded() after this script (and its microtasks)
    // ran; workerd allows no I/O at the top level, so nothing else can settle it.
    pendingLoad = { done: false, ns: undefined, error: undefined };
    const state = pendingLoad;
    call(Promise_then, exported, (ns) => { state.done = true; state.ns = ns; },
      (e) => { state.done = true; state.error = e; state.failed = true; });
    return '{"ok":true,"pending":true,"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  let handler;
  try {
    handler = config.module ? exported.default : exported;
  } catch (e) {
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  return register(handler);
}

let pendingLoad;

// The outcome of a module with top-level await (see install).
function loadedModule() {
  const state = pendingLoad;
  if (state === undefined) throw new TypeError_('__isogate.loaded() may only be called by the host');
  pendingLoad = undefined;
  if (!state.done) {
    return '{"ok":false,"error":' + describeError(new TypeError_(
      'the module\'s top-level await did not settle: I/O is not allowed in global scope',
    )) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  if (state.failed) {
    return '{"ok":false,"error":' + describeError(state.error) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  let exported;
  try {
    exported = state.ns.default;
  } catch (e) {
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  return register(exported);
}

// Takes the default export (undefined for a script) as the handler.
function register(exported) {
  try {
    if (exported !== undefined) {
      if ((typeof exported !== 'object' && typeof exported !== 'function') || exported === null) {
        throw new TypeError_('the default export must be an object with a fetch() method');
      }
      const fn = exported.fetch;
      // a Worker may serve only cron ticks: scheduled() without fetch()
      if (typeof fn !== 'function' && typeof exported.scheduled !== 'function') {
        throw new TypeError_('the default export has no fetch() handler');
      }
      handlerObj = exported;
      handlerFn = fn;
    } else if (fetchListeners.length === 0 && scheduledListeners.length === 0) {
      throw new TypeError_(
        "no fetch handler: use `export default { fetch(request, env, ctx) {...} }` or addEventListener('fetch', ...)",
      );
    }
  } catch (e) {
    return '{"ok":false,"error":' + describeError(e) + ',"logs":' + listJSON(consoleBuffer.drain()) + '}';
  }
  return '{"ok":true,"logs":' + listJSON(consoleBuffer.drain()) + '}';
}

// ---- host entry points -----------------------------------------------------------------

function checkInput(input) {
  if (typeof input !== 'string' || input.length < SEED_LENGTH) {
    throw new TypeError_('no invocation input from the host');
  }
  return input;
}

// Start invocation `id` (a string the host chose) on the request in `input`.
function invoke(id, input) {
  const key = String_(id);
  // Tenant code can reach invoke() (it is a global); an id in use is refused.
  if (MapGet(invocations, key) !== undefined) throw new TypeError_('invocation id in use');
  const inv = newInvocation(key);
  MapSet(invocations, key, inv);
  current = inv;
  try {
    checkInput(input);
    seedRandom(StringPrototypeSlice(input, 0, SEED_LENGTH));
    const request = requestFromWire(JSON_parse(StringPrototypeSlice(input, SEED_LENGTH)));
    if (handlerObj !== undefined) {
      if (typeof handlerFn !== 'function') {
        throw new TypeError_('the default export has no fetch() handler');
      }
      track(inv, Reflect_apply(handlerFn, handlerObj, [request, envObj, newCtx(inv)]));
    } else if (fetchListeners.length === 0) {
      throw new TypeError_("no fetch handler: this script registered only addEventListener('scheduled', ...)");
    } else {
      const event = new FetchEvent('fetch', { request });
      const listeners = fetchListeners;
      for (let i = 0; i < listeners.length; i++) Reflect_apply(listeners[i], undefined, [event]);
      if (!inv.responded && !inv.settled) {
        onFailure(inv, new TypeError_('no fetch listener called event.respondWith()'));
      }
    }
  } catch (e) {
    onFailure(inv, e);
  }
}

// Start invocation `id` as a cron tick: `input` is 32 seed characters, then
// {"cron", "scheduledTime"} as JSON. Runs the module's scheduled(controller, env, ctx)
// or the 'scheduled' listeners; the run succeeds when the handler's promise fulfils.
function scheduled(id, input) {
  const key = String_(id);
  if (MapGet(invocations, key) !== undefined) throw new TypeError_('invocation id in use');
  const inv = newInvocation(key);
  inv.scheduled = true;
  MapSet(invocations, key, inv);
  current = inv;
  try {
    checkInput(input);
    seedRandom(StringPrototypeSlice(input, 0, SEED_LENGTH));
    const tick = JSON_parse(StringPrototypeSlice(input, SEED_LENGTH));
    const controller = new ScheduledController(inv, String_(tick.cron), +tick.scheduledTime);
    if (handlerObj !== undefined) {
      let fn;
      try {
        fn = handlerObj.scheduled;
      } catch (e) {
        fn = undefined;
      }
      if (typeof fn !== 'function') {
        inv.noRetry = true; // running it again cannot help
        throw new TypeError_(
          'the function has no scheduled() handler: export default { scheduled(controller, env, ctx) { ... } }',
        );
      }
      trackScheduled(inv, Reflect_apply(fn, handlerObj, [controller, envObj, newCtx(inv)]));
    } else {
      const listeners = scheduledListeners;
      if (listeners.length === 0) {
        inv.noRetry = true;
        throw new TypeError_("the function has no scheduled handler: addEventListener('scheduled', ...)");
      }
      const event = new ScheduledEvent('scheduled', controller, inv);
      for (let i = 0; i < listeners.length; i++) Reflect_apply(listeners[i], undefined, [event]);
      trackScheduled(inv, undefined);
    }
  } catch (e) {
    onFailure(inv, e);
  }
}

// Settle host operation `op` with `payload`: JSON {"v": value} or {"e": {name, message}}.
function deliver(op, payload) {
  const id = +op;
  const entry = MapGet(hostOps, id);
  if (entry === undefined) return; // cancelled, or its invocation ended
  MapDelete(hostOps, id);
  const inv = entry.inv;
  if (inv.ended) return;
  current = inv;
  inv.pending--;
  let data;
  try {
    data = JSON_parse(payload);
  } catch (e) {
    entry.reject(new TypeError_('the host sent an unreadable result'));
    return;
  }
  if (data.e !== undefined) entry.reject(hostError(data.e));
  else entry.resolve(data.v);
}

// Run the callback of timer `timer` (an interval is scheduled again first).
function fire(timer) {
  const id = +timer;
  const t = MapGet(timers, id);
  if (t === undefined) return;
  const inv = t.inv;
  if (inv.ended) {
    MapDelete(timers, id);
    return;
  }
  current = inv;
  if (t.repeat) {
    outbox[outbox.length] = '[' + q(inv.id) + ',' + id + ',"timer",' + t.ms + ']';
  } else {
    MapDelete(timers, id);
    inv.pending--;
  }
  try {
    Reflect_apply(t.fn, globalThis, t.args); // `this` is the global scope, as in workerd
  } catch (e) {
    reportUncaught(e);
  }
}

// The invocation is over: forget its timers and operations. Returns its last logs.
function finish(inv) {
  inv.ended = true;
  MapDelete(invocations, inv.id);
  const ids = inv.ids;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] > 0) MapDelete(hostOps, ids[i]);
    else MapDelete(timers, -ids[i]);
  }
  inv.ids = newList();
  inv.response = undefined;
  inv.failure = undefined;
  return logsOf(inv);
}

// The host ends invocation `id` (its time is up, or its caller left).
function end(id) {
  try {
    if (current !== null) takeLogs(current);
    current = null;
    const inv = MapGet(invocations, String_(id));
    if (inv === undefined) return '[]';
    return finish(inv);
  } catch (e) {
    return '[]';
  }
}

// Called after every host eval (its microtasks have run). Never throws: an
// exception leaving the host's eval would be converted by stpyv8, which may run
// tenant getters with the GIL held. Returns
//   {"ops": [[inv, id, kind, args], ...],   operations to perform
//    "done": [result, ...],                 responses ready (each with its "id")
//    "fin": [{"id", "logs"}, ...],          invocations over (timers and ops dropped)
//    "data": [[inv, bytes], ...],           streamed body bytes (binary strings)
//    "eos": [[inv, why], ...]}              streamed bodies over ("" complete)
function step() {
  try {
    return stepJSON();
  } catch (e) {
    return '{"ops":[],"done":[],"fin":[],"error":' + describeError(e) + '}';
  }
}

function stepJSON() {
  const inv = current;
  current = null;
  if (inv !== null) {
    takeLogs(inv);
    touch(inv);
  }
  let ops = '';
  const box = outbox;
  outbox = newList();
  for (let i = 0; i < box.length; i++) ops += (i ? ',' : '') + box[i];
  let done = '';
  let fin = '';
  let data = '';
  let eos = '';
  const list = changed;
  changed = newList();
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x.ended) continue;
    if (!x.settled && x.pending === 0) {
      // Nothing left that could settle it: like workerd, it never will.
      x.settled = true;
      x.unsettled = true;
    }
    if (x.settled && !x.reported) {
      x.reported = true;
      done += (done ? ',' : '') + resultJSON(x);
      x.response = undefined;
      x.failure = undefined;
    }
    const p = x.pump;
    if (p !== undefined && x.reported && !p.told) {
      if (p.out.length > 0) {
        data += (data ? ',' : '') + '[' + q(x.id) + ',' + q(ArrayPrototypeJoin(p.out, '')) + ']';
        p.out = newList();
      }
      if (!p.done && p.reading && x.pending <= 0) {
        // its stream waits for a read nothing can answer: like a response, it never will
        try {
          console.error('The script will never finish its response body.');
        } catch (e) {}
        takeLogs(x);
        pumpStop(x, 'unsettled', undefined);
      }
      if (p.done) {
        p.told = true;
        eos += (eos ? ',' : '') + '[' + q(x.id) + ',' + q(p.end) + ']';
      }
    }
    if (x.reported && (p === undefined || p.told) && (x.waitPending <= 0 || x.pending <= 0)) {
      if (x.waitPending > 0) {
        try {
          console.warn('ctx.waitUntil(): a promise was still pending when the invocation ended; it will never settle');
        } catch (e) {}
        takeLogs(x);
      }
      fin += (fin ? ',' : '') + '{"id":' + q(x.id) + ',"logs":' + finish(x) + '}';
    }
  }
  return (
    '{"ops":[' + ops + '],"done":[' + done + '],"fin":[' + fin + '],"data":[' + data +
    '],"eos":[' + eos + ']}'
  );
}

function resultJSON(inv) {
  let text;
  try {
    text = resultFields(inv);
  } catch (e) {
    text = '"outcome":"js_error","error":{"name":"Error","message":"the result could not be read","stack":""}';
  }
  const nr = inv.noRetry ? ',"noRetry":true' : '';
  return '{"id":' + q(inv.id) + ',' + text + nr + ',"logs":' + logsOf(inv) + '}';
}

function resultFields(inv) {
  if (inv.unsettled) {
    return '"outcome":"unsettled"';
  }
  if (inv.failed) {
    return '"outcome":"js_error","error":' + describeError(inv.failure);
  }
  if (inv.scheduled) {
    // a scheduled run has no Response: its success is a 200 with an empty body
    return '"outcome":"ok","status":200,"statusText":"","headers":[],"encoding":"utf8","body":""';
  }
  const response = inv.response;
  let wire;
  try {
    wire = responseToWire(response, maxResponseBody);
  } catch (e) {
    let why = typeName(response);
    if (why === 'Response') why = 'a Response that cannot be sent: ' + safeString(e && e.message, '');
    const err = new TypeError_('the handler did not return a usable Response (got ' + why + ')');
    return '"outcome":"js_error","error":' + describeError(err);
  }
  const tooLarge = '"outcome":"too_large","detail":';
  if (wire.tooLarge === true || wire.body.length > maxResponseBody) {
    return tooLarge + q('response body over ' + maxResponseBody + ' bytes');
  }
  const h = wire.headers;
  // Headers have no cap of their own in the prelude: bound them like the body.
  let headerBytes = 0;
  for (let i = 0; i < h.length; i++) headerBytes += h[i][0].length + h[i][1].length;
  if (headerBytes > maxResponseBody) {
    return tooLarge + q('response headers over ' + maxResponseBody + ' bytes');
  }
  let hs = '[';
  for (let i = 0; i < h.length; i++) {
    if (i) hs += ',';
    hs += '[' + q(h[i][0]) + ',' + q(h[i][1]) + ']';
  }
  hs += ']';
  return (
    '"outcome":"ok","status":' + (wire.status | 0) +
    ',"statusText":' + q(wire.statusText) +
    ',"headers":' + hs +
    ',"encoding":' + q(wire.encoding) +
    ',"body":' + q(wire.body) +
    (wire.stream === true ? ',"stream":true' : '')
  );
}

// Run the whole invocation path with a built-in handler, before any tenant code
// exists in this context: V8 compiles functions lazily per isolate and fills each
// context's inline caches on first use, and a pre-warmed context should not pay that
// on its function's first request. The host runs warmup(0), step(), warmup(1),
// step(), warmup(2), each in a script of its own, like a real call: a response
// settles in the microtasks that run when a script returns, so only the next
// script's step() sees it.
const WARMUP_REQUESTS = [
  '{"method":"POST","url":"http://warm.up/a?b=c","headers":[["content-type","text/plain"]],"body":"x"}',
  '{"method":"GET","url":"http://warm.up/","headers":[],"body":null}',
];

// Module syntax, so that install() defines no globals for its env.
const WARMUP_CONFIG = '{"env":[["WARM","1"]],"maxResponseBody":1048576,"module":true}';
function warmupModule() {
  // a module's namespace, as the source wrapper returns it
  return { default: { fetch: () => Response_.json({ warm: true }, { headers: { 'x-warm': '1' } }) } };
}

// The legacy encodings' tables (isogate/runtime/encodings.py), handed over by the
// host before a function's code is loaded; refused after (tenants must not swap them).
function encodings(t) {
  if (loaded) throw new TypeError_('__isogate.encodings() may only be called by the host');
  installEncodingTables(t);
}

function warmup(n) {
  if (loaded) throw new TypeError_('__isogate.warmup() may only be called by the host');
  if (n < WARMUP_REQUESTS.length) {
    // through the tenant's path: install() is what load() runs
    install(warmupModule, WARMUP_CONFIG);
    invoke('warmup-' + n, '\0'.repeat(SEED_LENGTH) + WARMUP_REQUESTS[n]);
    return;
  }
  handlerObj = undefined;
  handlerFn = undefined;
  envObj = undefined;
  maxResponseBody = DEFAULT_MAX_RESPONSE_BODY;
  fetchListeners = [];
  scheduledListeners = [];
  consoleBuffer.reset();
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
Object_defineProperty(globalThis, 'ScheduledController', {
  value: ScheduledController, writable: true, configurable: true, enumerable: false,
});
Object_defineProperty(globalThis, 'ScheduledEvent', {
  value: ScheduledEvent, writable: true, configurable: true, enumerable: false,
});
if (!('self' in globalThis)) {
  Object_defineProperty(globalThis, 'self', {
    value: globalThis, writable: true, configurable: true, enumerable: false,
  });
}
// The host entry points: not writable, not configurable, frozen. A tenant can
// shadow nothing here, so Python's `__isogate.invoke(...)` always reaches us.
Object_defineProperty(globalThis, '__isogate', {
  value: Object_freeze({
    load, loaded: loadedModule, invoke, scheduled, deliver, fire, step, end, warmup, encodings,
    credit,
  }),
  writable: false, configurable: false, enumerable: false,
});
