// Event, CustomEvent and EventTarget, as workerd implements them (which is not
// quite the DOM Standard: no capture phase, a listener that throws stops the
// dispatch and the exception leaves dispatchEvent(), a listener returning true
// cancels the event, `on<type>` properties are honoured on every EventTarget).
//
// Listeners live in private state, read and changed only through bindings
// captured here: a tenant replacing Map.prototype methods or the prototype
// getters cannot reach another target's listeners nor the host's abort
// reactions (65-abort.js).

const EventsMapGet = uncurryThis(Map.prototype.get);
const EventsMapSet = uncurryThis(Map.prototype.set);
const EventsMapHas = uncurryThis(Map.prototype.has);
const EventsMapDelete = uncurryThis(Map.prototype.delete);
const EventsMapClear = uncurryThis(Map.prototype.clear);
const EventsMapForEach = uncurryThis(Map.prototype.forEach);
const eventsGlobal = globalThis;

// workerd's message for a method or accessor called on the wrong object.
const ILLEGAL_INVOCATION = 'Illegal invocation: function called with incorrect `this` reference. ' +
  'See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.';

// Give a class the shape workerd's (jsg) classes have: prototype members and
// static methods enumerable, `constructor` last, every function's length 0,
// accessors nameless.
function jsgShape(C) {
  Object_defineProperty(C, 'length', { value: 0, writable: false, enumerable: false, configurable: true });
  const zero = (f) => {
    if (typeof f === 'function') {
      Object_defineProperty(f, 'length', { value: 0, writable: false, enumerable: false, configurable: true });
    }
  };
  const nameless = (f) => {
    if (typeof f === 'function') {
      Object_defineProperty(f, 'name', { value: '', writable: false, enumerable: false, configurable: true });
    }
  };
  const proto = C.prototype;
  const keys = Reflect_ownKeys(proto);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === 'constructor') continue;
    const d = Object_getOwnPropertyDescriptor(proto, k);
    d.enumerable = true;
    zero(d.value);
    zero(d.get);
    nameless(d.get);
    nameless(d.set);
    Object_defineProperty(proto, k, d);
  }
  const ctor = Object_getOwnPropertyDescriptor(proto, 'constructor');
  delete proto.constructor;
  Object_defineProperty(proto, 'constructor', ctor);
  const statics = Reflect_ownKeys(C);
  for (let i = 0; i < statics.length; i++) {
    const k = statics[i];
    if (k === 'length' || k === 'name' || k === 'prototype') continue;
    const d = Object_getOwnPropertyDescriptor(C, k);
    if (typeof d.value !== 'function') continue;
    d.enumerable = true;
    zero(d.value);
    Object_defineProperty(C, k, d);
  }
}

// Read an init dictionary member as a WebIDL boolean (absent: false).
function eventInitBool(init, name) {
  return init === undefined ? false : !!init[name];
}

// ---- Event ----------------------------------------------------------------------

const EVENT_TOKEN = Symbol_('event');
let isEvent; // (v) -> boolean
let makeTrustedEvent; // (type) -> Event with isTrusted true
let eventBeginDispatch; // (event, target) -> void; throws when already dispatching
let eventEndDispatch; // (event) -> void
let eventStopped; // (event) -> boolean (stopImmediatePropagation was called)
let eventCancel; // (event) -> void (a listener returned true)
let eventCanceled; // (event) -> boolean (raw preventDefault flag)
let eventTypeOf; // (event) -> its type, read through the private field
let setUpEvent; // (event, type, bubbles, cancelable, composed) -> void (CustomEvent)

// The init argument of Event/CustomEvent: undefined for none, else an object
// whose members are read.
function eventInit(init, ctor, dict) {
  if (init === undefined || init === null) return undefined;
  if (typeof init !== 'object' && typeof init !== 'function') {
    throw new TypeError_("Failed to construct '" + ctor + "': constructor parameter 2 is not of type '" + dict + "'.");
  }
  return init;
}

class Event {
  #type = '';
  #bubbles = false;
  #cancelable = false;
  #composed = false;
  #trusted = false;
  #stopped = false;
  #canceled = false;
  #dispatching = false;
  #propagationStopped = false;
  #target = null;
  constructor(type = undefined, init = undefined) {
    if (type === EVENT_TOKEN) return; // internal construction (makeTrustedEvent)
    if (arguments.length < 1) {
      throw new TypeError_("Failed to construct 'Event': constructor parameter 1 is not of type 'string'.");
    }
    this.#type = toDOMString(type);
    const opts = eventInit(init, 'Event', 'Init');
    this.#bubbles = eventInitBool(opts, 'bubbles');
    this.#cancelable = eventInitBool(opts, 'cancelable');
    this.#composed = eventInitBool(opts, 'composed');
  }
  // Used by CustomEvent, which must read its init dictionary itself (its
  // members are read in one pass, detail last).
  static #setUp(e, type, bubbles, cancelable, composed) {
    e.#type = type;
    e.#bubbles = bubbles;
    e.#cancelable = cancelable;
    e.#composed = composed;
  }
  get type() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#type;
  }
  get eventPhase() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#dispatching ? 2 : 0;
  }
  get composed() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#composed;
  }
  get bubbles() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#bubbles;
  }
  get cancelable() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#cancelable;
  }
  get defaultPrevented() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#cancelable && this.#canceled;
  }
  get returnValue() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return !(this.#cancelable && this.#canceled);
  }
  // workerd: currentTarget is the target (no event paths), kept after dispatch.
  get currentTarget() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#target;
  }
  get target() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#target;
  }
  get srcElement() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#target;
  }
  // Always 0 in workerd (no timing side channel).
  get timeStamp() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return 0;
  }
  get isTrusted() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#trusted;
  }
  get cancelBubble() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#propagationStopped;
  }
  set cancelBubble(v) {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    this.#propagationStopped = !!v;
  }
  stopImmediatePropagation() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    this.#stopped = true;
  }
  preventDefault() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    this.#canceled = true;
  }
  stopPropagation() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    this.#propagationStopped = true;
  }
  composedPath() {
    if (!(#type in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#dispatching ? [this.#target] : [];
  }
  static {
    isEvent = (v) => v !== null && typeof v === 'object' && #type in v;
    makeTrustedEvent = (type) => {
      const e = new Event(EVENT_TOKEN);
      e.#type = type;
      e.#trusted = true;
      return e;
    };
    eventBeginDispatch = (e, target) => {
      if (e.#dispatching) throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
      e.#dispatching = true;
      e.#target = target;
      e.#canceled = false;
    };
    eventEndDispatch = (e) => {
      e.#dispatching = false;
    };
    eventStopped = (e) => e.#stopped;
    eventCancel = (e) => {
      e.#canceled = true;
    };
    eventCanceled = (e) => e.#canceled;
    eventTypeOf = (e) => e.#type;
    setUpEvent = (e, type, bubbles, cancelable, composed) => Event.#setUp(e, type, bubbles, cancelable, composed);
  }
}
{
  // Phase constants, on the constructor and the prototype, like workerd's.
  const phases = ['NONE', 0, 'CAPTURING_PHASE', 1, 'AT_TARGET', 2, 'BUBBLING_PHASE', 3];
  for (let i = 0; i < phases.length; i += 2) {
    const d = { value: phases[i + 1], writable: false, enumerable: true, configurable: true };
    Object_defineProperty(Event, phases[i], d);
    Object_defineProperty(Event.prototype, phases[i], d);
  }
}
jsgShape(Event);
defineGlobal('Event', Event);

class CustomEvent extends Event {
  #detail = undefined;
  constructor(type = undefined, init = undefined) {
    super(EVENT_TOKEN);
    if (arguments.length < 1) {
      throw new TypeError_("Failed to construct 'CustomEvent': constructor parameter 1 is not of type 'string'.");
    }
    const t = toDOMString(type);
    const opts = eventInit(init, 'CustomEvent', 'CustomEventInit');
    const bubbles = eventInitBool(opts, 'bubbles');
    const cancelable = eventInitBool(opts, 'cancelable');
    const composed = eventInitBool(opts, 'composed');
    this.#detail = opts === undefined ? undefined : opts.detail;
    setUpEvent(this, t, bubbles, cancelable, composed);
  }
  get detail() {
    if (!(#detail in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    return this.#detail;
  }
}
jsgShape(CustomEvent);
defineGlobal('CustomEvent', CustomEvent);

// ---- EventTarget ----------------------------------------------------------------

// One registered listener. `key` is its identity (the function or object the
// tenant passed; a private token for an AbortSignal's onabort), `fn` what is
// called with `self` as this, `unregister` undoes its `signal` option.
function listenerEntry(key, fn, self, once) {
  return { __proto__: null, key, fn, self, once, unregister: undefined, types: undefined, type: '' };
}

// () => the object, or undefined once it was collected (a strong reference where
// the engine has no WeakRef).
const WeakRefPrototypeDeref = WeakRef_ ? uncurryThis(WeakRef_.prototype.deref) : undefined;
function weakRefTo(obj) {
  if (WeakRef_ === undefined) return () => obj;
  const ref = new WeakRef_(obj);
  return () => WeakRefPrototypeDeref(ref);
}

// What addEventListener/removeEventListener accept as options: -> {capture,
// once, signal} (signal undefined when absent). Members are read in workerd's
// order (capture, passive, once, signal).
function listenerOptions(options, full) {
  const out = { __proto__: null, capture: false, once: false, signal: undefined, bool: false };
  if (options === undefined) return out;
  if (options !== null && (typeof options === 'object' || typeof options === 'function')) {
    out.capture = !!options.capture;
    if (full) {
      // passive is read, then ignored (this workerd release accepts true).
      void options.passive;
      out.once = !!options.once;
      const signal = options.signal;
      if (signal !== undefined) {
        if (abortSignalOf(signal) === undefined) {
          throw new TypeError_("Incorrect type for the 'signal' field on 'AddEventListenerOptions': " +
            "the provided value is not of type 'AbortSignal'.");
        }
        out.signal = signal;
      }
    }
    return out;
  }
  if (options === null) return out;
  out.capture = !!options;
  out.bool = true;
  return out;
}

function checkCapture(opts, method) {
  if (!opts.capture) return;
  throw new TypeError_(opts.bool
    ? method + '(): useCapture must be false.'
    : method + '(): options.capture must be false.');
}

let eventTargetAddEntry; // (target, type, entry) -> void (appends, position kept on update)
let eventTargetRemoveKey; // (target, type, key) -> void
let eventTargetClear; // (target) -> void (drop every listener of every type)
let eventTargetDispatch; // (target, event) -> boolean
let onPropertySkipped; // (target, type) -> boolean; set by 65-abort.js
let isEventTarget; // (v) -> boolean

class EventTarget {
  // type -> Map(key -> entry), both in insertion order like workerd's tables.
  #types = new Map_();
  constructor() {}
  addEventListener(type = undefined, listener = undefined, options = undefined) {
    if (!(#types in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (arguments.length < 1) {
      throw new TypeError_("Failed to execute 'addEventListener' on 'EventTarget': parameter 1 is not of type 'string'.");
    }
    const t = toDOMString(type);
    let fn;
    let self = eventsGlobal;
    if (arguments.length < 2) listener = 0; // missing: rejected below like a primitive
    if (typeof listener === 'function') {
      fn = listener;
    } else if (listener !== null && typeof listener === 'object') {
      // The handler object's handleEvent is read once, when it is added.
      fn = listener.handleEvent;
      if (typeof fn !== 'function') {
        throw new TypeError_("Incorrect type for the 'handleEvent' field on 'HandlerObject': " +
          "the provided value is not of type 'function'.");
      }
      self = listener;
    } else if (listener !== null && listener !== undefined) {
      throw new TypeError_("Failed to execute 'addEventListener' on 'EventTarget': " +
        "parameter 2 is not of type 'function or HandlerObject'.");
    }
    const opts = listenerOptions(options, true);
    if (fn === undefined) return; // null or undefined listener: nothing to add
    checkCapture(opts, 'addEventListener');
    const signal = opts.signal;
    if (signal !== undefined && signalAborted(signal)) return;
    const types = this.#types;
    let set = EventsMapGet(types, t);
    if (set === undefined) {
      set = new Map_();
      EventsMapSet(types, t, set);
    }
    if (EventsMapHas(set, listener)) return; // already there: first registration wins
    const entry = listenerEntry(listener, fn, self, opts.once);
    EventsMapSet(set, listener, entry);
    if (signal !== undefined) {
      // Removed by an abort reaction, which runs before the signal's abort event.
      // The reaction holds the entry weakly: a long-lived signal must not keep a
      // dropped target's listeners (and what their closures hold) alive.
      entry.types = types;
      entry.type = t;
      const ref = weakRefTo(entry);
      entry.unregister = onAbort(signal, () => {
        const e = ref();
        if (e === undefined) return;
        e.unregister = undefined;
        const cur = EventsMapGet(e.types, e.type);
        if (cur !== undefined && EventsMapGet(cur, e.key) === e) EventsMapDelete(cur, e.key);
      });
    }
  }
  removeEventListener(type = undefined, listener = undefined, options = undefined) {
    if (!(#types in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (arguments.length < 1) {
      throw new TypeError_("Failed to execute 'removeEventListener' on 'EventTarget': parameter 1 is not of type 'string'.");
    }
    const t = toDOMString(type);
    if (arguments.length < 2 ||
      (listener !== null && listener !== undefined && typeof listener !== 'object' && typeof listener !== 'function')) {
      throw new TypeError_("Failed to execute 'removeEventListener' on 'EventTarget': parameter 2 is not of type 'Object'.");
    }
    const opts = listenerOptions(options, false);
    checkCapture(opts, 'removeEventListener');
    if (listener === null || listener === undefined) return;
    removeListenerKey(this.#types, t, listener);
  }
  dispatchEvent(event = undefined) {
    if (!(#types in this)) throw new TypeError_(ILLEGAL_INVOCATION);
    if (!isEvent(event)) {
      throw new TypeError_("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    }
    return dispatchToTarget(this, this.#types, event);
  }
  static {
    eventTargetAddEntry = (target, type, entry) => {
      const types = target.#types;
      let set = EventsMapGet(types, type);
      if (set === undefined) {
        set = new Map_();
        EventsMapSet(types, type, set);
      }
      EventsMapSet(set, entry.key, entry);
    };
    eventTargetRemoveKey = (target, type, key) => removeListenerKey(target.#types, type, key);
    eventTargetDispatch = (target, event) => dispatchToTarget(target, target.#types, event);
    isEventTarget = (v) => v !== null && typeof v === 'object' && #types in v;
    eventTargetClear = (target) => {
      const types = target.#types;
      EventsMapForEach(types, (set) => {
        EventsMapForEach(set, (entry) => {
          if (entry.unregister !== undefined) entry.unregister();
        });
      });
      EventsMapClear(types);
    };
  }
}
jsgShape(EventTarget);
defineGlobal('EventTarget', EventTarget);

function removeListenerKey(types, type, key) {
  const set = EventsMapGet(types, type);
  if (set === undefined) return;
  const entry = EventsMapGet(set, key);
  if (entry === undefined) return;
  EventsMapDelete(set, key);
  if (entry.unregister !== undefined) {
    const u = entry.unregister;
    entry.unregister = undefined;
    u();
  }
}

// Dispatch `event` at `target` like workerd: the listeners present when the
// dispatch starts, in insertion order, skipping those removed meanwhile; the
// `on<type>` property first. An exception from a listener ends the dispatch
// and propagates. Returns false when the event was canceled (preventDefault()
// or a listener returning true), whether or not it is cancelable.
function dispatchToTarget(target, types, event) {
  eventBeginDispatch(event, target);
  try {
    const type = eventTypeOf(event);
    const callbacks = newList();
    let n = 0;
    if (!(onPropertySkipped !== undefined && onPropertySkipped(target, type))) {
      const on = target['on' + type];
      if (typeof on === 'function') callbacks[n++] = listenerEntry(null, on, eventsGlobal, false);
    }
    const set = EventsMapGet(types, type);
    if (set !== undefined) {
      EventsMapForEach(set, (entry) => {
        callbacks[n++] = entry;
      });
    }
    for (let i = 0; i < n; i++) {
      if (eventStopped(event)) break;
      const entry = callbacks[i];
      if (entry.key !== null) {
        // Removed by an earlier listener (or the target was cleared): skip it.
        const cur = EventsMapGet(types, type);
        if (cur === undefined || !EventsMapHas(cur, entry.key)) continue;
        if (entry.once) removeListenerKey(types, type, entry.key);
      }
      const ret = Reflect_apply(entry.fn, entry.self, [event]);
      if (ret === true) eventCancel(event);
    }
    return !eventCanceled(event);
  } finally {
    eventEndDispatch(event);
  }
}
