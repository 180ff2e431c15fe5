// Intrinsics captured before any tenant code runs. The host and the web APIs use
// these bindings, never the globals, so a tenant that overwrites JSON, Reflect,
// Object or Promise methods can break only its own function, not the host's
// reading of its result.
const JSON_stringify = JSON.stringify;
const JSON_parse = JSON.parse;
const Reflect_apply = Reflect.apply;
const Object_freeze = Object.freeze;
const Object_defineProperty = Object.defineProperty;
const Object_create = Object.create;
const Object_keys = Object.keys;
const Object_getPrototypeOf = Object.getPrototypeOf;
const Array_isArray = Array.isArray;
const String_fromCharCode = String.fromCharCode;
const Promise_ = Promise;
const Promise_resolve = Promise.resolve.bind(Promise);
const Promise_then = Promise.prototype.then;
const Error_ = Error;
const TypeError_ = TypeError;
const RangeError_ = RangeError;
const Uint8Array_ = Uint8Array;
const ArrayBuffer_ = ArrayBuffer;
const ArrayBuffer_isView = ArrayBuffer.isView;
const Math_min = Math.min;
const Math_floor = Math.floor;
const String_ = String;
const Symbol_iterator = Symbol.iterator;
const WeakMap_ = WeakMap;
// workerd puts neither WeakRef nor FinalizationRegistry on the global scope (garbage
// collection is not observable on Workers). The prelude keeps WeakRef for itself (the
// listeners an AbortSignal holds) and takes both off globalThis before any tenant code
// runs: no WeakRef made here is ever handed to a tenant.
const WeakRef_ = typeof WeakRef === 'function' ? WeakRef : undefined;
Reflect.deleteProperty(globalThis, 'WeakRef');
Reflect.deleteProperty(globalThis, 'FinalizationRegistry');
const Map_ = Map;

// call(fn, thisArg, ...args) without trusting Function.prototype.call.
function call(fn, self, ...args) {
  return Reflect_apply(fn, self, args);
}
