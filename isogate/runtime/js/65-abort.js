// AbortController and AbortSignal as workerd implements them: AbortSignal.any
// follows the DOM Standard's dependent signals (a dependent is marked aborted
// before its source's abort event fires, and fires its own event after it),
// abort reactions (the `signal` option of addEventListener, the host's fetch)
// run before the abort event, listeners of the abort event may throw out of
// abort(), and once its event has fired an aborted signal drops every
// listener.
//
// Hooks for the host (90-host.js), all reading private state only:
//   abortSignalOf(v)        -> v if it is a genuine AbortSignal, else undefined
//   onAbort(signal, fn)     -> unregister(); fn() runs once, before the abort
//                              event, when the signal aborts (never when it
//                              already has: check signalAborted first)
//   signalAborted(signal)   -> boolean
//   signalReason(signal)    -> the abort reason (undefined while not aborted)
// AbortSignal.timeout(ms) calls setHostTimer(callback, ms) (defined by the host
// file), at run time only.

const AbortSetAdd = uncurryThis(Set.prototype.add);
const AbortSetDelete = uncurryThis(Set.prototype.delete);
const AbortSetForEach = uncurryThis(Set.prototype.forEach);

// workerd clamps timer delays to [0, 100 years] in whole milliseconds.
const ABORT_MAX_DELAY = 3153600000000;

const SIGNAL_TOKEN = Symbol_('signal');
const abortNoop = () => {};

function defaultAbortReason() {
  return new DOMException('The operation was aborted', 'AbortError');
}

let isAbortSignal; // (v) -> boolean
let signalAbort; // (signal, reason) -> void; reason undefined: an AbortError
let newAbortSignal; // (neverAborts) -> a fresh signal
let abortedSignal; // (reason) -> a fresh signal, already aborted
let signalNeverAborts; // (signal) -> boolean
let onAbortImpl; // (signal, fn) -> unregister
let signalAbortedImpl; // (signal) -> boolean
let signalReasonImpl; // (signal) -> reason

class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #neverAborts = false; // AbortSignal.any([]) and a Request's own signal
  #dependent = false; // made by AbortSignal.any
  #sources = null; // Set of the signals a dependent follows
  #dependents = null; // Set of the dependents following this signal
  #reactions = null; // Map token -> fn: abort reactions, in registration order
  #onabort = null;
  #onabortKey = null; // identity of the listener entry that calls #onabort
  constructor(token = undefined) {
    if (token !== SIGNAL_TOKEN) throw new TypeError_('Illegal constructor');
    super();
  }
  get aborted() {
    if (!(#aborted in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#aborted;
  }
  get reason() {
    if (!(#aborted in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#reason;
  }
  // Like an event handler attribute: the first function (or object) set adds a
  // listener at the end of the abort listeners; replacing it keeps that place;
  // anything else removes it.
  get onabort() {
    if (!(#aborted in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#onabort;
  }
  set onabort(v) {
    if (!(#aborted in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
      if (this.#onabort === null) {
        if (this.#onabortKey === null) this.#onabortKey = Object_create(null);
        const signal = this;
        const call = (event) => {
          const h = signal.#onabort;
          return typeof h === 'function' ? Reflect_apply(h, eventsGlobal, [event]) : undefined;
        };
        eventTargetAddEntry(this, 'abort', listenerEntry(this.#onabortKey, call, eventsGlobal, false));
      }
      this.#onabort = v;
    } else {
      if (this.#onabort !== null) eventTargetRemoveKey(this, 'abort', this.#onabortKey);
      this.#onabort = null;
    }
  }
  throwIfAborted() {
    if (!(#aborted in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (this.#aborted) throw this.#reason;
  }
  static abort(reason = undefined) {
    return abortedSignal(reason);
  }
  static timeout(ms = undefined) {
    if (arguments.length < 1) {
      throw new TypeError_("Failed to execute 'timeout' on 'AbortSignal': parameter 1 is not of type 'number'.");
    }
    const n = +ms; // ToNumber: throws for symbols and BigInts, like workerd
    const delay = !(n > 0) ? 0 : n >= ABORT_MAX_DELAY ? ABORT_MAX_DELAY : Math_trunc(n);
    const signal = newAbortSignal(false);
    setHostTimer(() => {
      signalAbort(signal, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, delay);
    return signal;
  }
  static any(signals = undefined) {
    if (!Array_isArray(signals)) {
      throw new TypeError_("Failed to execute 'any' on 'AbortSignal': parameter 1 is not of type 'Array'.");
    }
    const n = signals.length;
    const list = newList();
    for (let i = 0; i < n; i++) {
      const s = signals[i];
      if (!isAbortSignal(s)) {
        throw new TypeError_('Incorrect type for array element ' + i + ": the provided value is not of type 'AbortSignal'.");
      }
      list[i] = s;
    }
    if (n === 0) return newAbortSignal(true);
    for (let i = 0; i < n; i++) {
      if (list[i].#aborted) return abortedSignal(list[i].#reason);
    }
    const result = newAbortSignal(false);
    result.#dependent = true;
    result.#sources = new Set_();
    const follow = (source) => {
      AbortSetAdd(result.#sources, source);
      if (source.#dependents === null) source.#dependents = new Set_();
      AbortSetAdd(source.#dependents, result);
    };
    for (let i = 0; i < n; i++) {
      const s = list[i];
      // A dependent's sources are followed directly (they are never dependents).
      if (s.#dependent) AbortSetForEach(s.#sources, follow);
      else follow(s);
    }
    return result;
  }
  static {
    isAbortSignal = (v) => v !== null && typeof v === 'object' && #aborted in v;
    newAbortSignal = (neverAborts) => {
      const s = new AbortSignal(SIGNAL_TOKEN);
      if (neverAborts) {
        s.#neverAborts = true;
        s.#dependent = true;
        s.#sources = new Set_();
      }
      return s;
    };
    abortedSignal = (reason) => {
      const s = new AbortSignal(SIGNAL_TOKEN);
      s.#aborted = true;
      s.#reason = reason === undefined ? defaultAbortReason() : reason;
      return s;
    };
    signalNeverAborts = (s) => s.#neverAborts;
    signalAbortedImpl = (s) => s.#aborted;
    signalReasonImpl = (s) => s.#reason;
    onAbortImpl = (signal, fn) => {
      if (signal.#aborted || signal.#neverAborts) return abortNoop;
      let reactions = signal.#reactions;
      if (reactions === null) reactions = signal.#reactions = new Map_();
      const token = Object_create(null);
      EventsMapSet(reactions, token, fn);
      // Deletes from the map it was added to, which abort detaches before
      // running it: a reaction unregistered by an earlier one does not run.
      return () => {
        EventsMapDelete(reactions, token);
      };
    };
    // The abort steps of one signal: its reactions, then its abort event; its
    // listeners are dropped afterwards even when one of them throws.
    const runAbortSteps = (s) => {
      const reactions = s.#reactions;
      s.#reactions = null;
      if (reactions !== null) {
        EventsMapForEach(reactions, (fn) => {
          try {
            fn();
          } catch (e) {
            // a host reaction must not stop the others nor the event
          }
        });
      }
      try {
        eventTargetDispatch(s, makeTrustedEvent('abort'));
      } finally {
        eventTargetClear(s);
      }
    };
    signalAbort = (signal, reason) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? defaultAbortReason() : reason;
      const dependents = signal.#dependents;
      signal.#dependents = null;
      const toAbort = newList();
      let n = 0;
      if (dependents !== null) {
        AbortSetForEach(dependents, (d) => {
          if (d.#aborted) return;
          d.#aborted = true;
          d.#reason = signal.#reason;
          toAbort[n++] = d;
          // It has nothing left to follow: its other sources forget it.
          AbortSetForEach(d.#sources, (src) => {
            if (src.#dependents !== null) AbortSetDelete(src.#dependents, d);
          });
        });
      }
      runAbortSteps(signal);
      for (let i = 0; i < n; i++) runAbortSteps(toAbort[i]);
    };
    onPropertySkipped = (target, type) =>
      type === 'abort' && #aborted in target && target.#onabort !== null;
  }
}
jsgShape(AbortSignal);
defineGlobal('AbortSignal', AbortSignal);

let isAbortController; // (v) -> boolean

class AbortController {
  #signal;
  constructor() {
    this.#signal = newAbortSignal(false);
  }
  get signal() {
    if (!(#signal in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#signal;
  }
  abort(reason = undefined) {
    if (!(#signal in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    signalAbort(this.#signal, reason);
  }
  static {
    isAbortController = (v) => v !== null && typeof v === 'object' && #signal in v;
  }
}
jsgShape(AbortController);
defineGlobal('AbortController', AbortController);

// ---- hooks (see the top of this file) ---------------------------------------------

function abortSignalOf(v) {
  return isAbortSignal(v) ? v : undefined;
}

function onAbort(signal, fn) {
  return onAbortImpl(signal, fn);
}

function signalAborted(signal) {
  return signalAbortedImpl(signal);
}

function signalReason(signal) {
  return signalReasonImpl(signal);
}

// A signal that never aborts: what request.signal gives for a Request made
// without one (workerd makes one lazily, per request).
function newNeverAbortSignal() {
  return newAbortSignal(true);
}

// structuredClone refuses these objects like workerd: the DataCloneError to throw
// for `v`, or undefined when `v` is none of them.
function eventCloneError(v) {
  if (isAbortSignal(v)) return new DOMException('AbortSignal serialization is not enabled.', 'DataCloneError');
  let fallback;
  if (isEvent(v)) fallback = 'Event';
  else if (isEventTarget(v)) fallback = 'EventTarget';
  else if (isAbortController(v)) fallback = 'AbortController';
  else return undefined;
  // workerd names the object's class (a tenant subclass by its own name).
  let name = fallback;
  try {
    const proto = Object_getPrototypeOf(v);
    const d = proto === null ? undefined : Object_getOwnPropertyDescriptor(proto, 'constructor');
    const ctor = d === undefined ? undefined : d.value;
    if (typeof ctor === 'function') {
      const nd = Object_getOwnPropertyDescriptor(ctor, 'name');
      if (nd !== undefined && typeof nd.value === 'string' && nd.value !== '') name = nd.value;
    }
  } catch (e) {
    // keep the fallback
  }
  return new DOMException('Could not serialize object of type "' + name + '". This type does not support serialization.',
    'DataCloneError');
}
