// structuredClone and queueMicrotask.

// ---- structuredClone ----------------------------------------------------------
// The HTML structured clone of plain data, as V8's serializer (workerd) does
// it: primitives, wrappers, Date, RegExp, ArrayBuffer, typed arrays, DataView,
// Map, Set, arrays (holes and extra keys kept), Error (name, message, stack,
// cause), and plain objects (own enumerable string keys, read via getters;
// prototypes are not kept). Cycles and shared references are preserved.
// Functions, symbols, WeakMap/WeakSet/Promise throw DataCloneError.

const MapPrototypeGet = uncurryThis(Map.prototype.get);
const MapPrototypeSet = uncurryThis(Map.prototype.set);
const MapPrototypeHas = uncurryThis(Map.prototype.has);
const MapPrototypeEntries = uncurryThis(Map.prototype.entries);
const MapPrototypeGetSize = getterOf(Map.prototype, 'size');
const SetPrototypeAdd = uncurryThis(Set.prototype.add);
const SetPrototypeValues = uncurryThis(Set.prototype.values);
const SetPrototypeGetSize = getterOf(Set.prototype, 'size');
const MapIteratorNext = uncurryThis(Object_getPrototypeOf(new Map_()[Symbol_iterator]()).next);
const SetIteratorNext = uncurryThis(Object_getPrototypeOf(new Set_()[Symbol_iterator]()).next);
const WeakMapPrototypeHas = uncurryThis(WeakMap.prototype.has);
const WeakSetPrototypeHas = uncurryThis(WeakSet.prototype.has);
const PromisePrototypeThen = uncurryThis(Promise.prototype.then);
const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
const RegExpPrototypeGetSource = getterOf(RegExp.prototype, 'source');
const RegExpPrototypeGetFlags = getterOf(RegExp.prototype, 'flags');
const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf);
const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf);
const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf);
const BigIntPrototypeValueOf = uncurryThis(BigInt.prototype.valueOf);
const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString);
const FunctionPrototypeToString = uncurryThis(Function.prototype.toString);
const ArrayBufferPrototypeSlice = uncurryThis(ArrayBuffer.prototype.slice);
const ArrayBufferPrototypeTransfer = ArrayBuffer.prototype.transfer
  ? uncurryThis(ArrayBuffer.prototype.transfer) : undefined;
const Object_ = Object;
const Array_ = Array;
const ERROR_CONSTRUCTORS = {
  __proto__: null,
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
};
const TYPED_ARRAY_CONSTRUCTORS = {
  __proto__: null,
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};
if (typeof Float16Array === 'function') TYPED_ARRAY_CONSTRUCTORS.Float16Array = Float16Array;

// Does f(v) run without throwing (a brand check through an internal slot)?
function hasSlot(f, v) {
  try {
    f(v);
    return true;
  } catch {
    return false;
  }
}

function dataCloneError(what) {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}

function cloneValue(v, memory) {
  const t = typeof v;
  if (t === 'symbol') throw dataCloneError(SymbolPrototypeToString(v));
  if (t === 'function') throw dataCloneError(FunctionPrototypeToString(v));
  if (t !== 'object' || v === null) return v;
  if (MapPrototypeHas(memory, v)) return MapPrototypeGet(memory, v);
  let out;
  if (hasSlot(BooleanPrototypeValueOf, v)) out = new Object_(BooleanPrototypeValueOf(v));
  else if (hasSlot(NumberPrototypeValueOf, v)) out = new Object_(NumberPrototypeValueOf(v));
  else if (hasSlot(StringPrototypeValueOf, v)) out = new Object_(StringPrototypeValueOf(v));
  else if (hasSlot(BigIntPrototypeValueOf, v)) out = new Object_(BigIntPrototypeValueOf(v));
  else if (hasSlot(DatePrototypeGetTime, v)) out = new Date_(DatePrototypeGetTime(v));
  else if (hasSlot(RegExpPrototypeGetSource, v) && v !== RegExp_.prototype) {
    out = new RegExp_(RegExpPrototypeGetSource(v), RegExpPrototypeGetFlags(v));
  } else if (isArrayBuffer(v)) {
    out = ArrayBufferPrototypeSlice(v, 0);
  } else if (isSharedArrayBuffer(v)) {
    out = v; // shared memory is shared, not copied
  } else if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) {
    const tag = TypedArrayPrototypeGetSymbolToStringTag(v);
    const buffer = cloneValue(TypedArrayPrototypeGetBuffer(v), memory);
    out = new TYPED_ARRAY_CONSTRUCTORS[tag](buffer, TypedArrayPrototypeGetByteOffset(v),
      TypedArrayPrototypeGetLength(v));
  } else if (isDataView(v)) {
    const buffer = cloneValue(DataViewPrototypeGetBuffer(v), memory);
    out = new DataView_(buffer, DataViewPrototypeGetByteOffset(v), DataViewPrototypeGetByteLength(v));
  } else if (hasSlot(MapPrototypeGetSize, v)) {
    out = new Map_();
    MapPrototypeSet(memory, v, out);
    const entries = newList();
    const it = MapPrototypeEntries(v);
    for (let r = MapIteratorNext(it); !r.done; r = MapIteratorNext(it)) entries[entries.length] = r.value;
    for (let i = 0; i < entries.length; i++) {
      MapPrototypeSet(out, cloneValue(entries[i][0], memory), cloneValue(entries[i][1], memory));
    }
    return out;
  } else if (hasSlot(SetPrototypeGetSize, v)) {
    out = new Set_();
    MapPrototypeSet(memory, v, out);
    const values = newList();
    const it = SetPrototypeValues(v);
    for (let r = SetIteratorNext(it); !r.done; r = SetIteratorNext(it)) values[values.length] = r.value;
    for (let i = 0; i < values.length; i++) SetPrototypeAdd(out, cloneValue(values[i], memory));
    return out;
  } else if (ObjectPrototypeToString(v) === '[object Error]' && !Array_isArray(v)) {
    const name = v.name;
    const Ctor = (typeof name === 'string' && ERROR_CONSTRUCTORS[name]) || Error_;
    const message = ObjectPrototypeHasOwnProperty(v, 'message') ? toDOMString(v.message) : undefined;
    out = message === undefined ? new Ctor() : new Ctor(message);
    MapPrototypeSet(memory, v, out);
    const stack = v.stack;
    if (typeof stack === 'string') {
      Object_defineProperty(out, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
    }
    if (ObjectPrototypeHasOwnProperty(v, 'cause')) {
      Object_defineProperty(out, 'cause', {
        value: cloneValue(v.cause, memory), writable: true, configurable: true, enumerable: false,
      });
    }
    return out;
  } else if (hasSlot(WeakMapPrototypeHas, v) || hasSlot(WeakSetPrototypeHas, v) || isPromise(v)) {
    throw dataCloneError(`#<${StringPrototypeSlice(ObjectPrototypeToString(v), 8, -1)}>`);
  } else if (Array_isArray(v)) {
    out = new Array_(v.length);
    MapPrototypeSet(memory, v, out);
    copyOwnEnumerable(v, out, memory);
    return out;
  } else {
    const refused = eventCloneError(v); // Event, EventTarget, AbortController, AbortSignal
    if (refused !== undefined) throw refused;
    out = {};
    MapPrototypeSet(memory, v, out);
    copyOwnEnumerable(v, out, memory);
    return out;
  }
  MapPrototypeSet(memory, v, out);
  return out;
}

function isPromise(v) {
  // A Promise has no side-effect-free brand check; its then() is the only
  // one, so look at the tag instead (good enough for an error message).
  return ObjectPrototypeToString(v) === '[object Promise]';
}

function copyOwnEnumerable(from, to, memory) {
  const keys = Reflect_ownKeys(from);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (typeof k !== 'string' || !ObjectPrototypePropertyIsEnumerable(from, k)) continue;
    Object_defineProperty(to, k, {
      value: cloneValue(from[k], memory), writable: true, enumerable: true, configurable: true,
    });
  }
}

function structuredClone(value, options = undefined) {
  if (arguments.length < 1) {
    throw new TypeError_("Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': 1 argument required, but only 0 present.");
  }
  const memory = new Map_();
  const transferred = newList();
  if (options !== undefined && options !== null) {
    const transfer = options.transfer;
    if (transfer !== undefined) {
      for (const ab of transfer) {
        if (!isArrayBuffer(ab)) throw dataCloneError('Value');
        if (MapPrototypeHas(memory, ab)) throw dataCloneError('ArrayBuffer (duplicate in transfer list)');
        // Placeholder; the transfer happens after a successful clone.
        MapPrototypeSet(memory, ab, null);
        transferred[transferred.length] = ab;
      }
    }
  }
  // Transferred buffers: references to them clone as the moved buffer. As in HTML's
  // StructuredSerializeWithTransfer, the value is cloned while they are still attached
  // (a view keeps its offset and length) and they are detached only once it succeeded.
  for (let i = 0; i < transferred.length; i++) {
    MapPrototypeSet(memory, transferred[i], ArrayBufferPrototypeSlice(transferred[i], 0));
  }
  const out = cloneValue(value, memory);
  if (ArrayBufferPrototypeTransfer) {
    for (let i = 0; i < transferred.length; i++) ArrayBufferPrototypeTransfer(transferred[i]);
  }
  return out;
}
defineGlobal('structuredClone', structuredClone);

// ---- queueMicrotask -----------------------------------------------------------------

const resolvedPromise = Promise_resolve(undefined);
// An own `constructor` so then()'s species lookup never reaches a tenant's
// Promise.prototype.constructor.
Object_defineProperty(resolvedPromise, 'constructor', { value: Promise_ });

function queueMicrotask(callback) {
  if (typeof callback !== 'function') {
    throw new TypeError_("Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  }
  PromisePrototypeThen(resolvedPromise, () => {
    try {
      Reflect_apply(callback, undefined, []);
    } catch (e) {
      // Like an uncaught exception in a task: reported, not propagated.
      reportUncaught(e);
    }
  });
}
defineGlobal('queueMicrotask', queueMicrotask);

// ---- navigator -------------------------------------------------------------------------
// As workerd: a Navigator nobody can construct, its three properties read-only data
// properties of the instance, the global itself enumerable.

class Navigator {
  constructor() {
    throw new TypeError_('Illegal constructor');
  }
}
const navigatorObj = Object_create(Navigator.prototype);
for (const [name, value] of [['platform', ''], ['hardwareConcurrency', 1], ['userAgent', 'Cloudflare-Workers']]) {
  Object_defineProperty(navigatorObj, name, {
    value, writable: false, enumerable: true, configurable: true,
  });
}
defineGlobal('Navigator', Navigator);
Object_defineProperty(globalThis, 'navigator', {
  value: navigatorObj, writable: true, enumerable: true, configurable: true,
});
