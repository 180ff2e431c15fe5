// Shared helpers for the web APIs (10-80), then DOMException, TextEncoder,
// TextDecoder, atob and btoa.
//
// Everything a host hook (requestFromWire, responseToWire, consoleBuffer,
// seedRandom) may reach is called through bindings captured here, before tenant
// code runs: tenants may replace any prototype method or accessor.

// ---- captured intrinsics ---------------------------------------------------

// uncurryThis(String.prototype.slice)(s, 1, 2) === s.slice(1, 2), but immune to
// later changes of String.prototype or Function.prototype.call (the bound
// function keeps the original `call` and target).
const FunctionPrototypeCall = Function.prototype.call;
const FunctionPrototypeBind = Function.prototype.bind;
function uncurryThis(fn) {
  return Reflect_apply(FunctionPrototypeBind, FunctionPrototypeCall, [fn]);
}
const Object_setPrototypeOf = Object.setPrototypeOf;
const Object_getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const Object_getOwnPropertyNames = Object.getOwnPropertyNames;
const Object_defineProperties = Object.defineProperties;
const Object_is = Object.is;
const Object_prototype = Object.prototype;
const ObjectPrototypeHasOwnProperty = uncurryThis(Object.prototype.hasOwnProperty);
const ObjectPrototypePropertyIsEnumerable = uncurryThis(Object.prototype.propertyIsEnumerable);
const ObjectPrototypeToString = uncurryThis(Object.prototype.toString);
const Reflect_ownKeys = Reflect.ownKeys;
const Reflect_construct = Reflect.construct;
const Number_ = Number;
const Number_isFinite = Number.isFinite;
const Number_isInteger = Number.isInteger;
const Math_max = Math.max;
const Math_random = Math.random;
const Math_round = Math.round;
const Math_sqrt = Math.sqrt;
const Math_trunc = Math.trunc;
const Math_abs = Math.abs;
const Date_now = Date.now;
const Error_captureStackTrace = Error.captureStackTrace;
const Symbol_ = Symbol;
const Symbol_toStringTag = Symbol.toStringTag;
const Symbol_asyncIterator = Symbol.asyncIterator;
const SyntaxError_ = SyntaxError;
const Uint16Array_ = Uint16Array;
const Uint32Array_ = Uint32Array;
const Int32Array_ = Int32Array;
const DataView_ = DataView;
const Set_ = Set;
const Date_ = Date;
const RegExp_ = RegExp;
const BigInt_ = BigInt;
const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
const StringPrototypeCodePointAt = uncurryThis(String.prototype.codePointAt);
const StringPrototypeSlice = uncurryThis(String.prototype.slice);
const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf);
const StringPrototypeToLowerCase = uncurryThis(String.prototype.toLowerCase);
const StringPrototypeToUpperCase = uncurryThis(String.prototype.toUpperCase);
const StringPrototypeToWellFormed = uncurryThis(String.prototype.toWellFormed);
const StringPrototypeIsWellFormed = uncurryThis(String.prototype.isWellFormed);
const StringPrototypeRepeat = uncurryThis(String.prototype.repeat);
const StringPrototypeNormalize = uncurryThis(String.prototype.normalize);
const StringPrototypePadStart = uncurryThis(String.prototype.padStart);
const StringPrototypePadEnd = uncurryThis(String.prototype.padEnd);
const StringPrototypeReplace = uncurryThis(String.prototype.replace);
const StringPrototypeSplit = uncurryThis(String.prototype.split);
const StringPrototypeIncludes = uncurryThis(String.prototype.includes);
const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec);
const RegExpPrototypeTest = uncurryThis(RegExp.prototype.test);
const NumberPrototypeToString = uncurryThis(Number.prototype.toString);
const ArrayPrototypeJoin = uncurryThis(Array.prototype.join);
const ArrayPrototypeSort = uncurryThis(Array.prototype.sort);

function getterOf(proto, name) {
  return uncurryThis(Object_getOwnPropertyDescriptor(proto, name).get);
}
const TypedArrayPrototype = Object_getPrototypeOf(Uint8Array.prototype);
const TypedArrayPrototypeGetBuffer = getterOf(TypedArrayPrototype, 'buffer');
const TypedArrayPrototypeGetByteOffset = getterOf(TypedArrayPrototype, 'byteOffset');
const TypedArrayPrototypeGetByteLength = getterOf(TypedArrayPrototype, 'byteLength');
const TypedArrayPrototypeGetLength = getterOf(TypedArrayPrototype, 'length');
// Returns the element type name ("Uint8Array"...) or undefined for anything
// that is not a typed array: an unforgeable brand check.
const TypedArrayPrototypeGetSymbolToStringTag = getterOf(TypedArrayPrototype, Symbol_toStringTag);
const TypedArrayPrototypeSet = uncurryThis(TypedArrayPrototype.set);
const DataViewPrototypeGetBuffer = getterOf(DataView.prototype, 'buffer');
const DataViewPrototypeGetByteOffset = getterOf(DataView.prototype, 'byteOffset');
const DataViewPrototypeGetByteLength = getterOf(DataView.prototype, 'byteLength');
const ArrayBufferPrototypeGetByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const SharedArrayBuffer_ = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined;
const SharedArrayBufferPrototypeGetByteLength =
  SharedArrayBuffer_ ? getterOf(SharedArrayBuffer_.prototype, 'byteLength') : undefined;

// Install a web-API global like browsers/workerd do: writable, configurable,
// not enumerable. The host never reads these back from globalThis.
// The descriptors have no prototype: defineLazyGlobal's accessors call defineGlobal
// while tenant code runs, when Object.prototype may have a `get` or `value` of theirs.
function defineGlobal(name, value) {
  Object_defineProperty(globalThis, name, {
    __proto__: null, value, writable: true, enumerable: false, configurable: true,
  });
}

// A global that is an accessor until first read, then a plain data property like
// defineGlobal's: for the areas loaded on first use (streams, crypto.subtle, FormData),
// `load(name)` returns its value. Assigning first just defines the value.
function defineLazyGlobal(name, load) {
  Object_defineProperty(globalThis, name, {
    __proto__: null,
    get() {
      const v = load(name);
      defineGlobal(name, v);
      return v;
    },
    set(v) {
      defineGlobal(name, v);
    },
    enumerable: false, configurable: true,
  });
}

// No Symbol.toStringTag on the web-API classes: workerd's have none
// (Object.prototype.toString gives "[object Object]"). Except Crypto, SubtleCrypto and
// CryptoKey, which have WebIDL's (50-crypto.js; WPT checks it on every key).

// An array whose prototype is null: index writes and reads can never reach a
// setter or getter a tenant defined on Array.prototype or Object.prototype,
// and JSON serialisation finds no toJSON on it.
function newList() {
  const a = [];
  Object_setPrototypeOf(a, null);
  return a;
}

// WebIDL DOMString conversion (ToString: throws on symbols).
function toDOMString(v) {
  return `${v}`;
}
// WebIDL USVString: lone surrogates become U+FFFD.
function toUSVString(v) {
  return StringPrototypeToWellFormed(`${v}`);
}

function isArrayBuffer(v) {
  try {
    ArrayBufferPrototypeGetByteLength(v);
    return true;
  } catch {
    return false;
  }
}
function isSharedArrayBuffer(v) {
  if (!SharedArrayBufferPrototypeGetByteLength) return false;
  try {
    SharedArrayBufferPrototypeGetByteLength(v);
    return true;
  } catch {
    return false;
  }
}
// A DataView's buffer, or undefined if ``v`` is no DataView. Unlike isDataView, it is
// defined for a view of a detached buffer (whose byteLength getter throws).
function dataViewBuffer(v) {
  try {
    return DataViewPrototypeGetBuffer(v);
  } catch {
    return undefined;
  }
}
// A buffer that holds no bytes: detached, or empty (reading it needs no view at all).
function holdsNoBytes(buffer) {
  return isArrayBuffer(buffer) && ArrayBufferPrototypeGetByteLength(buffer) === 0;
}

function isDataView(v) {
  try {
    DataViewPrototypeGetByteLength(v);
    return true;
  } catch {
    return false;
  }
}

// A fresh Uint8Array copy of the bytes of any BufferSource (ArrayBuffer,
// SharedArrayBuffer, typed array, DataView), read through captured accessors.
// Returns undefined when v is none of those.
function copyBufferSource(v) {
  let buffer;
  let offset = 0;
  let length;
  if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) {
    buffer = TypedArrayPrototypeGetBuffer(v);
    offset = TypedArrayPrototypeGetByteOffset(v);
    length = TypedArrayPrototypeGetByteLength(v);
  } else if ((buffer = dataViewBuffer(v)) !== undefined) {
    if (holdsNoBytes(buffer)) return new Uint8Array_(0); // detached: no bytes (WebIDL)
    offset = DataViewPrototypeGetByteOffset(v);
    length = DataViewPrototypeGetByteLength(v);
  } else if (isArrayBuffer(v)) {
    buffer = v;
    length = ArrayBufferPrototypeGetByteLength(v);
  } else if (isSharedArrayBuffer(v)) {
    buffer = v;
    length = SharedArrayBufferPrototypeGetByteLength(v);
  } else {
    return undefined;
  }
  const out = new Uint8Array_(length);
  if (length) TypedArrayPrototypeSet(out, new Uint8Array_(buffer, offset, length));
  return out;
}

// A buffer source's bytes as a view (no copy), or undefined if ``v`` is none. A detached buffer
// holds no bytes (WebIDL's "get a copy of the bytes": the empty sequence); a view of one
// reads zero length, and a Uint8Array over it cannot be made at all.
function viewBufferSource(v) {
  if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) {
    const n = TypedArrayPrototypeGetByteLength(v);
    if (n === 0) return new Uint8Array_(0);
    return new Uint8Array_(TypedArrayPrototypeGetBuffer(v), TypedArrayPrototypeGetByteOffset(v), n);
  }
  const buffer = dataViewBuffer(v);
  if (buffer !== undefined) {
    if (holdsNoBytes(buffer)) return new Uint8Array_(0);
    return new Uint8Array_(buffer, DataViewPrototypeGetByteOffset(v),
      DataViewPrototypeGetByteLength(v));
  }
  if (isArrayBuffer(v)) {
    return holdsNoBytes(v) ? new Uint8Array_(0) : new Uint8Array_(v);
  }
  if (isSharedArrayBuffer(v)) return new Uint8Array_(v);
  return undefined;
}

// ---- strings of code units -------------------------------------------------

// Build a string from code units held in a null-prototype list, in chunks
// (String.fromCharCode.apply has an argument-count limit).
const CHUNK = 8192;
function codeUnitsToString(units, n) {
  if (n <= CHUNK) {
    if (units.length !== n) units.length = n;
    return Reflect_apply(String_fromCharCode, null, units);
  }
  let s = '';
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math_min(n, start + CHUNK);
    const part = newList();
    for (let i = start; i < end; i++) part[i - start] = units[i];
    s += Reflect_apply(String_fromCharCode, null, part);
  }
  return s;
}

// bytes (Uint8Array, n bytes) -> "binary string" (one char 0-255 per byte).
function bytesToBinaryString(bytes, n) {
  let s = '';
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math_min(n, start + CHUNK);
    const part = newList();
    for (let i = start; i < end; i++) part[i - start] = bytes[i];
    s += Reflect_apply(String_fromCharCode, null, part);
  }
  return s;
}

// binary string -> Uint8Array (chars above 0xFF keep their low byte; the host
// only ever sends 0-255).
function binaryStringToBytes(s) {
  const n = s.length;
  const out = new Uint8Array_(n);
  for (let i = 0; i < n; i++) out[i] = StringPrototypeCharCodeAt(s, i);
  return out;
}

// ---- UTF-8 -----------------------------------------------------------------

// Number of UTF-8 bytes of a string; lone surrogates count as 3 bytes (they
// are encoded as U+FFFD by utf8Encode, or as WTF-8 by wtf8Encode: both 3).
function utf8Length(s) {
  const n = s.length;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = StringPrototypeCharCodeAt(s, i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 4;
        i++;
      } else {
        len += 3;
      }
    } else len += 3;
  }
  return len;
}

// UTF-8 encode. With wtf8 = false lone surrogates become U+FFFD (TextEncoder);
// with wtf8 = true they are encoded as 3-byte sequences (what V8 / workerd do
// for a Response built from a string with lone surrogates).
function encodeUTF8(s, wtf8) {
  const n = s.length;
  const out = new Uint8Array_(utf8Length(s));
  let j = 0;
  for (let i = 0; i < n; i++) {
    let c = StringPrototypeCharCodeAt(s, i);
    if (c < 0x80) {
      out[j++] = c;
      continue;
    }
    if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      let paired = false;
      if (c <= 0xdbff && i + 1 < n) {
        const d = StringPrototypeCharCodeAt(s, i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          paired = true;
          out[j++] = 0xf0 | (c >> 18);
          out[j++] = 0x80 | ((c >> 12) & 0x3f);
          out[j++] = 0x80 | ((c >> 6) & 0x3f);
          out[j++] = 0x80 | (c & 0x3f);
        }
      }
      if (paired) continue;
      if (!wtf8) c = 0xfffd;
    }
    out[j++] = 0xe0 | (c >> 12);
    out[j++] = 0x80 | ((c >> 6) & 0x3f);
    out[j++] = 0x80 | (c & 0x3f);
  }
  return out;
}

// The WHATWG UTF-8 decoder over bytes[start, end). Invalid sequences become
// U+FFFD per the "maximal subpart" rule of the Encoding Standard, or throw a
// TypeError when fatal. `state` (optional) carries an incomplete trailing
// sequence between streaming calls: {pending: list of bytes}.
function decodeUTF8(bytes, start, end, fatal, stream, state) {
  const units = newList();
  let u = 0;
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  let pendingStart = -1;
  const pending = state ? state.pending : null;
  const np = pending ? pending.length : 0;
  const total = np + (end - start);
  for (let k = 0; k < total; k++) {
    const b = k < np ? pending[k] : bytes[start + k - np];
    if (needed === 0) {
      if (b <= 0x7f) {
        units[u++] = b;
        continue;
      }
      if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        cp = b & 0x7;
      } else {
        if (fatal) throw new TypeError_('Failed to decode input.');
        units[u++] = 0xfffd;
        continue;
      }
      pendingStart = k;
      continue;
    }
    if (b < lower || b > upper) {
      // Error: emit U+FFFD for the bytes seen so far and reprocess b.
      cp = needed = seen = 0;
      lower = 0x80;
      upper = 0xbf;
      pendingStart = -1;
      if (fatal) throw new TypeError_('Failed to decode input.');
      units[u++] = 0xfffd;
      k--;
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen !== needed) continue;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[u++] = 0xd800 + (cp >> 10);
      units[u++] = 0xdc00 + (cp & 0x3ff);
    } else {
      units[u++] = cp;
    }
    cp = needed = seen = 0;
    pendingStart = -1;
  }
  if (state) state.pending = newList();
  if (needed !== 0) {
    if (stream && state) {
      // Keep the incomplete sequence for the next call.
      const keep = newList();
      for (let k = pendingStart; k < total; k++) {
        keep[keep.length] = k < np ? pending[k] : bytes[start + k - np];
      }
      state.pending = keep;
    } else {
      if (fatal) throw new TypeError_('Failed to decode input.');
      units[u++] = 0xfffd;
    }
  }
  return codeUnitsToString(units, u);
}

function utf8DecodeBytes(bytes, n) {
  return decodeUTF8(bytes, 0, n, false, false, null);
}

// ---- DOMException ------------------------------------------------------------

const DOMExceptionCodes = {
  __proto__: null,
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
  InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
  NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
  TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
  URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
  InvalidNodeTypeError: 24, DataCloneError: 25,
};

// Not a real Error object (like workerd's: Object.prototype.toString gives
// "[object Object]"), but Error.prototype is on its prototype chain.
let isDOMException; // (v) -> boolean
class DOMException {
  #name;
  #message;
  constructor(message = '', options = 'Error') {
    this.#message = toDOMString(message);
    if (options !== null && typeof options === 'object') {
      this.#name = 'name' in options ? toDOMString(options.name) : 'Error';
      if ('cause' in options) {
        Object_defineProperty(this, 'cause', {
          value: options.cause, writable: true, enumerable: false, configurable: true,
        });
      }
    } else {
      this.#name = toDOMString(options);
    }
    // Recompute the stack header now that name and message are known.
    if (typeof Error_captureStackTrace === 'function') Error_captureStackTrace(this, DOMException);
  }
  get name() {
    if (!(#name in this)) throw new TypeError_('Illegal invocation');
    return this.#name;
  }
  get message() {
    if (!(#name in this)) throw new TypeError_('Illegal invocation');
    return this.#message;
  }
  get code() {
    if (!(#name in this)) throw new TypeError_('Illegal invocation');
    return DOMExceptionCodes[this.#name] || 0;
  }
  static {
    isDOMException = (v) => v !== null && typeof v === 'object' && #name in v;
  }
}
Object_setPrototypeOf(DOMException.prototype, Error_.prototype);
Object_setPrototypeOf(DOMException, Error_);
{
  // Legacy constants, on the constructor and the prototype, like browsers.
  const legacy = [
    'INDEX_SIZE_ERR', 1, 'DOMSTRING_SIZE_ERR', 2, 'HIERARCHY_REQUEST_ERR', 3,
    'WRONG_DOCUMENT_ERR', 4, 'INVALID_CHARACTER_ERR', 5, 'NO_DATA_ALLOWED_ERR', 6,
    'NO_MODIFICATION_ALLOWED_ERR', 7, 'NOT_FOUND_ERR', 8, 'NOT_SUPPORTED_ERR', 9,
    'INUSE_ATTRIBUTE_ERR', 10, 'INVALID_STATE_ERR', 11, 'SYNTAX_ERR', 12,
    'INVALID_MODIFICATION_ERR', 13, 'NAMESPACE_ERR', 14, 'INVALID_ACCESS_ERR', 15,
    'VALIDATION_ERR', 16, 'TYPE_MISMATCH_ERR', 17, 'SECURITY_ERR', 18, 'NETWORK_ERR', 19,
    'ABORT_ERR', 20, 'URL_MISMATCH_ERR', 21, 'QUOTA_EXCEEDED_ERR', 22, 'TIMEOUT_ERR', 23,
    'INVALID_NODE_TYPE_ERR', 24, 'DATA_CLONE_ERR', 25,
  ];
  for (let i = 0; i < legacy.length; i += 2) {
    const d = { value: legacy[i + 1], writable: false, enumerable: true, configurable: false };
    Object_defineProperty(DOMException, legacy[i], d);
    Object_defineProperty(DOMException.prototype, legacy[i], d);
  }
}
defineGlobal('DOMException', DOMException);

// ---- TextEncoder ------------------------------------------------------------

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }
  encode(input = '') {
    return encodeUTF8(toDOMString(input), false);
  }
  encodeInto(source, destination) {
    const s = toDOMString(source);
    if (TypedArrayPrototypeGetSymbolToStringTag(destination) !== 'Uint8Array') {
      throw new TypeError_("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const cap = TypedArrayPrototypeGetLength(destination);
    const n = s.length;
    let read = 0;
    let written = 0;
    for (let i = 0; i < n; i++) {
      let c = StringPrototypeCharCodeAt(s, i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        c = 0xfffd;
        const hi = StringPrototypeCharCodeAt(s, i);
        if (hi <= 0xdbff && i + 1 < n) {
          const lo = StringPrototypeCharCodeAt(s, i + 1);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            units = 2;
          }
        }
      }
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + size > cap) break;
      if (size === 1) destination[written] = c;
      else if (size === 2) {
        destination[written] = 0xc0 | (c >> 6);
        destination[written + 1] = 0x80 | (c & 0x3f);
      } else if (size === 3) {
        destination[written] = 0xe0 | (c >> 12);
        destination[written + 1] = 0x80 | ((c >> 6) & 0x3f);
        destination[written + 2] = 0x80 | (c & 0x3f);
      } else {
        destination[written] = 0xf0 | (c >> 18);
        destination[written + 1] = 0x80 | ((c >> 12) & 0x3f);
        destination[written + 2] = 0x80 | ((c >> 6) & 0x3f);
        destination[written + 3] = 0x80 | (c & 0x3f);
      }
      written += size;
      read += units;
      i += units - 1;
    }
    return { read, written };
  }
}
defineGlobal('TextEncoder', TextEncoder);

// ---- TextDecoder --------------------------------------------------------------

// Labels: encodingOfLabel (12-encoding-legacy.js), per the Encoding Standard.
// windows-1252 bytes 0x80-0x9F (the rest map to the same code point).
const WINDOWS_1252 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039,
  0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
Object_setPrototypeOf(WINDOWS_1252, null);

// ASCII whitespace trimming for labels (TAB, LF, FF, CR, SPACE).
function trimAsciiWhitespace(s) {
  let a = 0;
  let b = s.length;
  const ws = (c) => c === 9 || c === 10 || c === 12 || c === 13 || c === 32;
  while (a < b && ws(StringPrototypeCharCodeAt(s, a))) a++;
  while (b > a && ws(StringPrototypeCharCodeAt(s, b - 1))) b--;
  return StringPrototypeSlice(s, a, b);
}

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #state = { pending: newList(), bomSeen: false };
  #decoder = null; // a legacy encoding's decoder, kept while streaming
  constructor(label = 'utf-8', options = undefined) {
    const key = StringPrototypeToLowerCase(trimAsciiWhitespace(toDOMString(label)));
    const enc = encodingOfLabel(key);
    // The replacement encoding is not one TextDecoder may use; legacy encodings
    // need the host's tables (present when the function's source names TextDecoder).
    if (enc === undefined || enc === 'replacement' ||
      (encodingTables === null && enc !== 'utf-8' && enc !== 'utf-16le' && enc !== 'windows-1252' &&
        needsTables(enc))) {
      throw new RangeError_(`"${label}" is not a valid encoding.`);
    }
    this.#encoding = enc;
    const opts = options == null ? {} : options;
    this.#fatal = !!opts.fatal;
    this.#ignoreBOM = !!opts.ignoreBOM;
  }
  get encoding() {
    return this.#encoding;
  }
  get fatal() {
    return this.#fatal;
  }
  get ignoreBOM() {
    return this.#ignoreBOM;
  }
  decode(input = undefined, options = undefined) {
    let bytes;
    if (input === undefined) bytes = new Uint8Array_(0);
    else {
      bytes = viewBufferSource(input);
      if (bytes === undefined) {
        throw new TypeError_("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'Array'.");
      }
    }
    const stream = options != null && !!options.stream;
    const n = TypedArrayPrototypeGetLength(bytes);
    const state = this.#state;
    let s;
    if (this.#encoding === 'utf-8') {
      s = decodeUTF8(bytes, 0, n, this.#fatal, stream, state);
    } else if (this.#encoding === 'utf-16le') {
      s = decodeUTF16LE(bytes, n, this.#fatal, stream, state);
    } else if (this.#encoding !== 'windows-1252') {
      if (this.#decoder === null) this.#decoder = legacyDecoders().legacyDecoder(this.#encoding);
      try {
        s = legacyDecoders().runLegacyDecoder(this.#decoder, bytes, n, this.#fatal, !stream);
      } catch (e) {
        this.#decoder = null;
        throw e;
      }
      if (!stream) this.#decoder = null;
    } else {
      const units = newList();
      for (let i = 0; i < n; i++) {
        const b = bytes[i];
        units[i] = b >= 0x80 && b <= 0x9f ? WINDOWS_1252[b - 0x80] : b;
      }
      s = codeUnitsToString(units, n);
    }
    // Strip one leading BOM per stream unless ignoreBOM (Encoding Standard).
    if (!this.#ignoreBOM && !state.bomSeen && s.length) {
      state.bomSeen = true;
      const e = this.#encoding;
      if ((e === 'utf-8' || e === 'utf-16le' || e === 'utf-16be') && StringPrototypeCharCodeAt(s, 0) === 0xfeff) {
        s = StringPrototypeSlice(s, 1);
      }
    }
    if (!stream) {
      state.pending = newList();
      state.bomSeen = false;
    }
    return s;
  }
}
defineGlobal('TextDecoder', TextDecoder);

function decodeUTF16LE(bytes, n, fatal, stream, state) {
  const all = newList();
  const pending = state.pending;
  for (let i = 0; i < pending.length; i++) all[all.length] = pending[i];
  for (let i = 0; i < n; i++) all[all.length] = bytes[i];
  const units = newList();
  let u = 0;
  let k = 0;
  const total = all.length;
  for (; k + 1 < total; k += 2) {
    const c = all[k] | (all[k + 1] << 8);
    if (c >= 0xd800 && c <= 0xdbff) {
      if (k + 3 < total) {
        const d = all[k + 2] | (all[k + 3] << 8);
        if (d >= 0xdc00 && d <= 0xdfff) {
          units[u++] = c;
          units[u++] = d;
          k += 2;
          continue;
        }
      } else if (stream) break; // wait for the low surrogate
      if (fatal) throw new TypeError_('Failed to decode input.');
      units[u++] = 0xfffd;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      if (fatal) throw new TypeError_('Failed to decode input.');
      units[u++] = 0xfffd;
    } else {
      units[u++] = c;
    }
  }
  const rest = newList();
  for (; k < total; k++) rest[rest.length] = all[k];
  state.pending = newList();
  if (rest.length) {
    if (stream) state.pending = rest;
    else {
      if (fatal) throw new TypeError_('Failed to decode input.');
      units[u++] = 0xfffd;
    }
  }
  return codeUnitsToString(units, u);
}

// ---- atob / btoa ----------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int32Array_(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[StringPrototypeCharCodeAt(B64, i)] = i;

function invalidBase64() {
  return new DOMException(
    "atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, " +
    "and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)",
    'InvalidCharacterError');
}

// forgiving-base64 decode (HTML spec) -> list of byte values, or throws.
function base64Decode(s) {
  const clean = newList();
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c === 9 || c === 10 || c === 12 || c === 13 || c === 32) continue;
    clean[clean.length] = c;
  }
  let len = clean.length;
  if (len % 4 === 0 && len > 0) {
    if (clean[len - 1] === 61) {
      len--;
      if (clean[len - 1] === 61) len--;
    }
  }
  if (len % 4 === 1) throw invalidBase64();
  const out = newList();
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = clean[i];
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw invalidBase64();
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[out.length] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function atob(data) {
  if (arguments.length < 1) {
    throw new TypeError_("Failed to execute 'atob' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'string'.");
  }
  const bytes = base64Decode(toDOMString(data));
  return codeUnitsToString(bytes, bytes.length);
}

function btoa(data) {
  if (arguments.length < 1) {
    throw new TypeError_("Failed to execute 'btoa' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'string'.");
  }
  const s = toDOMString(data);
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (StringPrototypeCharCodeAt(s, i) > 0xff) {
      throw new DOMException('btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.',
        'InvalidCharacterError');
    }
  }
  let out = '';
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (StringPrototypeCharCodeAt(s, i) << 16) | (StringPrototypeCharCodeAt(s, i + 1) << 8) |
      StringPrototypeCharCodeAt(s, i + 2);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  if (n - i === 1) {
    const v = StringPrototypeCharCodeAt(s, i) << 16;
    out += B64[v >> 18] + B64[(v >> 12) & 63] + '==';
  } else if (n - i === 2) {
    const v = (StringPrototypeCharCodeAt(s, i) << 16) | (StringPrototypeCharCodeAt(s, i + 1) << 8);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + '=';
  }
  return out;
}
defineGlobal('atob', atob);
defineGlobal('btoa', btoa);
