// crypto.getRandomValues / crypto.randomUUID, drawing from a ChaCha20 CSPRNG
// with fast key erasure: each refill generates 16 blocks with the current key,
// takes the first 32 bytes as the next key and serves the rest, so earlier
// outputs cannot be recomputed from the state. The host calls
// seedRandom(<32 random bytes as a binary string>) before every invocation;
// the seed is XORed into the key and buffered output is discarded.
// crypto.subtle (below) is a host operation: keys stay in the host (isogate/runtime/
// webcrypto/) and a CryptoKey holds only an opaque handle.

const rngKey = new Uint32Array_(8);
const rngBlock = new Uint32Array_(16);
const rngState = new Uint32Array_(16);
// Lengths are constants: a tenant may redefine TypedArray.prototype.length.
const RNG_OUT_LEN = 16 * 64;
const rngOut = new Uint8Array_(RNG_OUT_LEN);
let rngPos = RNG_OUT_LEN; // nothing buffered
let rngSeeded = false;

function chachaBlock(counter) {
  const s = rngState;
  s[0] = 0x61707865;
  s[1] = 0x3320646e;
  s[2] = 0x79622d32;
  s[3] = 0x6b206574;
  for (let i = 0; i < 8; i++) s[4 + i] = rngKey[i];
  s[12] = counter;
  s[13] = 0;
  s[14] = 0;
  s[15] = 0;
  const x = rngBlock;
  for (let i = 0; i < 16; i++) x[i] = s[i];
  for (let r = 0; r < 10; r++) {
    qr(x, 0, 4, 8, 12);
    qr(x, 1, 5, 9, 13);
    qr(x, 2, 6, 10, 14);
    qr(x, 3, 7, 11, 15);
    qr(x, 0, 5, 10, 15);
    qr(x, 1, 6, 11, 12);
    qr(x, 2, 7, 8, 13);
    qr(x, 3, 4, 9, 14);
  }
  for (let i = 0; i < 16; i++) x[i] = (x[i] + s[i]) >>> 0;
}

function qr(x, a, b, c, d) {
  x[a] = (x[a] + x[b]) >>> 0;
  let t = x[d] ^ x[a];
  x[d] = (t << 16) | (t >>> 16);
  x[c] = (x[c] + x[d]) >>> 0;
  t = x[b] ^ x[c];
  x[b] = (t << 12) | (t >>> 20);
  x[a] = (x[a] + x[b]) >>> 0;
  t = x[d] ^ x[a];
  x[d] = (t << 8) | (t >>> 24);
  x[c] = (x[c] + x[d]) >>> 0;
  t = x[b] ^ x[c];
  x[b] = (t << 7) | (t >>> 25);
}

function rngRefill() {
  if (!rngSeeded) {
    // Only reached before the host's first seedRandom (e.g. at load time):
    // fall back to V8's Math.random, which V8 seeds from the OS per isolate.
    for (let i = 0; i < 8; i++) rngKey[i] ^= (Math_random() * 0x100000000) >>> 0;
    rngSeeded = true;
  }
  for (let b = 0; b < 16; b++) {
    chachaBlock(b);
    for (let i = 0; i < 16; i++) {
      const w = rngBlock[i];
      const o = b * 64 + i * 4;
      rngOut[o] = w & 0xff;
      rngOut[o + 1] = (w >>> 8) & 0xff;
      rngOut[o + 2] = (w >>> 16) & 0xff;
      rngOut[o + 3] = w >>> 24;
    }
  }
  // Fast key erasure: the first 32 bytes become the next key and are wiped.
  for (let i = 0; i < 8; i++) {
    rngKey[i] = rngOut[4 * i] | (rngOut[4 * i + 1] << 8) | (rngOut[4 * i + 2] << 16) | (rngOut[4 * i + 3] << 24);
  }
  for (let i = 0; i < 32; i++) rngOut[i] = 0;
  rngPos = 32;
}

function randomBytesInto(view, n) {
  for (let i = 0; i < n; i++) {
    if (rngPos >= RNG_OUT_LEN) rngRefill();
    view[i] = rngOut[rngPos];
    rngOut[rngPos++] = 0;
  }
}

// Host hook: s is a binary string of 32 bytes.
function seedRandom(s) {
  if (typeof s !== 'string') return;
  for (let i = 0; i < s.length && i < 32; i++) {
    const w = i >> 2;
    rngKey[w] ^= (StringPrototypeCharCodeAt(s, i) & 0xff) << ((i & 3) * 8);
  }
  rngSeeded = true;
  // Discard buffered output derived from the previous key.
  for (let i = rngPos; i < RNG_OUT_LEN; i++) rngOut[i] = 0;
  rngPos = RNG_OUT_LEN;
}

const INTEGER_ARRAY_TYPES = {
  __proto__: null,
  Int8Array: true, Uint8Array: true, Uint8ClampedArray: true, Int16Array: true, Uint16Array: true,
  Int32Array: true, Uint32Array: true, BigInt64Array: true, BigUint64Array: true,
};

// WebIDL: every interface's prototype has @@toStringTag, the interface's name (not
// writable, not enumerable, configurable), so Object.prototype.toString.call(key) is
// "[object CryptoKey]". workerd leaves it out of Crypto, SubtleCrypto and CryptoKey (WPT
// checks it on every key); isogate follows WebIDL here (docs/compatibility.md).
function defineToStringTag(C, name) {
  Object_defineProperty(C.prototype, Symbol_toStringTag, {
    __proto__: null, // SubtleCrypto and CryptoKey load after tenant code ran
    value: name, writable: false, enumerable: false, configurable: true,
  });
}

class Crypto {
  constructor(token) {
    if (token !== BODY_TOKEN) throw new TypeError_('Illegal constructor');
  }
  getRandomValues(array) {
    if (arguments.length < 1) {
      throw new TypeError_("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
    }
    const tag = TypedArrayPrototypeGetSymbolToStringTag(array);
    if (tag === undefined && !isDataView(array)) {
      throw new TypeError_("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
    }
    if (INTEGER_ARRAY_TYPES[tag] !== true) {
      throw new DOMException('ArrayBufferView argument to getRandomValues() must be an integer-typed view.',
        'TypeMismatchError');
    }
    const n = TypedArrayPrototypeGetByteLength(array);
    if (n > 65536) {
      throw new DOMException(`getRandomValues() only accepts buffers of size <= 64K but provided ${n} bytes.`,
        'QuotaExceededError');
    }
    randomBytesInto(new Uint8Array_(TypedArrayPrototypeGetBuffer(array), TypedArrayPrototypeGetByteOffset(array), n), n);
    return array;
  }
  randomUUID() {
    const b = new Uint8Array_(16);
    randomBytesInto(b, 16);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += '0123456789abcdef'[b[i] >> 4] + '0123456789abcdef'[b[i] & 15];
    }
    return s;
  }
}

// ---- crypto.subtle ------------------------------------------------------------------
// Each method reads its arguments into plain data (WebIDL conversions happen here,
// while the tenant's objects are at hand), hands them to the host as a 'crypto' host
// operation and turns the host's plain answer back into ArrayBuffers, CryptoKeys and
// DOMExceptions. The host normalises algorithms and does the work.
//
// Lazy by area, like streams (45-streams.js): all of it lives inside loadSubtle(),
// which V8 only pre-parses until `crypto.subtle`, `SubtleCrypto` or `CryptoKey` is
// first read, so a function that never uses it pays neither heap nor start-up for it.
// The loader runs while tenant code runs, so nothing in its top level may look up a
// method a tenant can replace (no spreads, no `X.prototype.y` reads): those bindings
// are captured here, with the prelude.

const WeakMapGet = uncurryThis(WeakMap_.prototype.get);
const WeakMapSet = uncurryThis(WeakMap_.prototype.set);

let subtleNS = null;
function subtleArea() {
  if (subtleNS === null) subtleNS = loadSubtle();
  return subtleNS;
}

function loadSubtle() {
  // CryptoKey -> {h, type, extractable, algorithm, usages}. `h` is the host's sealed copy
  // of the key (encrypted, webcrypto/keys.py), sent back with every operation: the key
  // lives exactly as long as its CryptoKey, whenever the garbage collector runs.
  const keySlots = new WeakMap_();
  const KEY_USAGES = { __proto__: null, encrypt: 1, decrypt: 1, sign: 1, verify: 1, deriveKey: 1, deriveBits: 1, wrapKey: 1, unwrapKey: 1,
    // the KeyUsage values the Modern Algorithms draft adds (ML-KEM): valid enum values,
    // so a key that cannot have them is a SyntaxError, not a TypeError
    encapsulateKey: 1, encapsulateBits: 1, decapsulateKey: 1, decapsulateBits: 1 };
  const KEY_FORMATS = { __proto__: null, raw: 1, spki: 1, pkcs8: 1, jwk: 1 };
  const BYTES_MEMBERS = ['iv', 'counter', 'additionalData', 'salt', 'info', 'label', 'publicExponent', 'context'];
  const NUMBER_MEMBERS = ['length', 'tagLength', 'iterations', 'saltLength', 'modulusLength'];
  const JWK_STRINGS = ['kty', 'use', 'alg', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
  const BAD = { __proto__: null, bad: true }; // a member of the wrong type: the host says TypeError

  class CryptoKey {
    constructor(token) {
      if (token !== BODY_TOKEN) throw new TypeError_('Illegal constructor');
    }
    get type() { return slots(this).type; }
    get extractable() { return slots(this).extractable; }
    get algorithm() { return slots(this).algorithm; }
    get usages() { return slots(this).usages; }
  }

  function slots(key) {
    const s = (typeof key === 'object' && key !== null) ? WeakMapGet(keySlots, key) : undefined;
    if (s === undefined) throw new TypeError_('Illegal invocation');
    return s;
  }

  function keyHandle(key, what) {
    const s = (typeof key === 'object' && key !== null) ? WeakMapGet(keySlots, key) : undefined;
    if (s === undefined) throw new TypeError_(`${what} is not of type 'CryptoKey'.`);
    return s.h;
  }

  function makeKey(info) {
    const key = new CryptoKey(BODY_TOKEN);
    const a = info.a;
    // members in the host's order (workerd's): name first, then the algorithm's own
    const algorithm = {};
    const names = Object_keys(a);
    for (let i = 0; i < names.length; i++) {
      const m = names[i];
      const v = a[m];
      if (m === 'publicExponent') algorithm[m] = binaryStringToBytes(v);
      else if (m === 'hash') algorithm[m] = { name: v.name };
      else algorithm[m] = v;
    }
    const usages = [];
    for (let i = 0; i < info.u.length; i++) usages[i] = info.u[i];
    WeakMapSet(keySlots, key, {
      __proto__: null, h: info.h, type: info.t, extractable: info.x, algorithm, usages,
    });
    return key;
  }

  // The bytes of a BufferSource as a binary string (a copy, taken now); undefined when v
  // is not one. A detached buffer holds no bytes (WebIDL), it is not an error.
  function bufferBytes(v) {
    let b;
    try {
      b = viewBufferSource(v);
    } catch (e) {
      if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined || isDataView(v) || isArrayBuffer(v)) return '';
      throw e;
    }
    if (b === undefined) return undefined;
    return bytesToBinaryString(b, TypedArrayPrototypeGetByteLength(b));
  }

  function bufferArg(v, what) {
    const s = bufferBytes(v);
    if (s === undefined) throw new TypeError_(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
    return s;
  }

  // WebIDL converts every argument before the method's steps run: a key that is not a
  // CryptoKey, data that is not a BufferSource or a usage that is not a KeyUsage is a
  // TypeError before the algorithm is normalised (NotSupportedError). The bytes are
  // copied after normalisation (WebCrypto), so a getter on the algorithm still changes them.
  function isBufferSource(v) {
    return TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined || isDataView(v) || isArrayBuffer(v) ||
      isSharedArrayBuffer(v);
  }

  function bufferType(v, what) {
    if (!isBufferSource(v)) throw new TypeError_(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  }

  // encrypt, decrypt and sign: (algorithm, key, data), converted in WebIDL's order
  function keyDataOp(self, n, op, algorithm, key, data) {
    return subtleOp(self, n, 3, op, () => {
      const k = keyHandle(key, 'key');
      bufferType(data, 'data');
      const alg = checkAlgorithm(op, algorithmArg(algorithm));
      return { __proto__: null, alg, k, d: bufferArg(data, 'data') };
    });
  }

  function hashArg(v) {
    if (typeof v === 'object' && v !== null) {
      const name = v.name;
      if (name === undefined) return BAD;
      return { __proto__: null, name: toDOMString(name) };
    }
    return { __proto__: null, name: toDOMString(v) };
  }

  // An AlgorithmIdentifier as plain data: the members any algorithm dictionary has.
  function algorithmArg(alg) {
    if (typeof alg !== 'object' || alg === null) {
      if (typeof alg === 'function') throw new TypeError_('Algorithm must be an object or a string.');
      return { __proto__: null, name: toDOMString(alg) };
    }
    const name = alg.name;
    if (name === undefined) throw new TypeError_("Algorithm: required member 'name' is undefined.");
    const out = { __proto__: null, name: toDOMString(name) };
    const h = alg.hash;
    if (h !== undefined) out.hash = hashArg(h);
    const c = alg.namedCurve;
    if (c !== undefined) out.namedCurve = toDOMString(c);
    for (let i = 0; i < BYTES_MEMBERS.length; i++) {
      const m = BYTES_MEMBERS[i];
      const v = alg[m];
      if (v === undefined) continue;
      const b = bufferBytes(v);
      out[m] = b === undefined ? BAD : b;
    }
    for (let i = 0; i < NUMBER_MEMBERS.length; i++) {
      const m = NUMBER_MEMBERS[i];
      const v = alg[m];
      if (v === undefined) continue;
      const n = +v; // ToNumber (throws for symbols, BigInts)
      out[m] = Number_isFinite(n) ? n : BAD;
    }
    const pub = alg.public;
    if (pub !== undefined) {
      const s = (typeof pub === 'object' && pub !== null) ? WeakMapGet(keySlots, pub) : undefined;
      out.public = s === undefined ? BAD : s.h;
    }
    return out;
  }

  // Algorithm normalisation's refusals, checked here so that they reject the promise
  // before any other microtask runs (as WebCrypto's synchronous steps do); the host
  // normalises again and does the rest.
  const SHA = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
  const AES_ALGS = ['AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW'];
  const RSA_ALGS = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP'];
  const OP_ALGORITHMS = {
    __proto__: null,
    digest: SHA,
    sign: ['HMAC', 'ECDSA', 'Ed25519', 'Ed448', 'RSASSA-PKCS1-v1_5', 'RSA-PSS'],
    verify: ['HMAC', 'ECDSA', 'Ed25519', 'Ed448', 'RSASSA-PKCS1-v1_5', 'RSA-PSS'],
    encrypt: ['AES-CTR', 'AES-CBC', 'AES-GCM', 'RSA-OAEP'],
    decrypt: ['AES-CTR', 'AES-CBC', 'AES-GCM', 'RSA-OAEP'],
    generateKey: ['HMAC', 'AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW', 'ECDSA', 'ECDH', 'Ed25519', 'Ed448', 'X25519',
      'X448', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP'],
    importKey: ['HMAC', 'AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW', 'ECDSA', 'ECDH', 'Ed25519', 'Ed448', 'X25519',
      'X448', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP', 'PBKDF2', 'HKDF'],
    deriveBits: ['ECDH', 'X25519', 'X448', 'PBKDF2', 'HKDF'],
    wrapKey: ['AES-KW', 'AES-CTR', 'AES-CBC', 'AES-GCM', 'RSA-OAEP'],
    unwrapKey: ['AES-KW', 'AES-CTR', 'AES-CBC', 'AES-GCM', 'RSA-OAEP'],
  };
  // the algorithms whose parameters for an operation include a hash
  const HASHED = { __proto__: null, HMAC: 1, 'RSASSA-PKCS1-v1_5': 1, 'RSA-PSS': 1, 'RSA-OAEP': 1, PBKDF2: 1, HKDF: 1 };

  function registered(list, name) {
    const up = StringPrototypeToUpperCase(name);
    for (let i = 0; i < list.length; i++) if (StringPrototypeToUpperCase(list[i]) === up) return list[i];
    return undefined;
  }

  function notSupported(what) {
    return new DOMException(`Unrecognized or unimplemented algorithm: ${what}`, 'NotSupportedError');
  }

  function checkAlgorithm(op, alg) {
    const name = registered(OP_ALGORITHMS[op], alg.name);
    if (name === undefined) throw notSupported(alg.name);
    const h = alg.hash;
    const hashed = HASHED[name] === 1 || (name === 'ECDSA' && (op === 'sign' || op === 'verify'));
    if (hashed && h !== undefined && h !== BAD && registered(SHA, h.name) === undefined) throw notSupported(h.name);
    if (op === 'generateKey') {
      // what generateKey refuses before generating anything
      if (registered(AES_ALGS, name) !== undefined && typeof alg.length === 'number' &&
          alg.length !== 128 && alg.length !== 192 && alg.length !== 256) {
        throw new DOMException('AES key length must be 128, 192 or 256 bits', 'OperationError');
      }
      if ((name === 'ECDSA' || name === 'ECDH') && alg.namedCurve !== undefined &&
          alg.namedCurve !== 'P-256' && alg.namedCurve !== 'P-384' && alg.namedCurve !== 'P-521') {
        throw new DOMException(`curve ${alg.namedCurve} is not supported`, 'NotSupportedError');
      }
      if (registered(RSA_ALGS, name) !== undefined && typeof alg.publicExponent === 'string') {
        const e = alg.publicExponent;
        let ok = false;
        let i = 0;
        while (i < e.length && StringPrototypeCharCodeAt(e, i) === 0) i++;
        const rest = StringPrototypeSlice(e, i);
        ok = rest === '\x03' || rest === '\x01\x00\x01';
        if (!ok) throw new DOMException('publicExponent must be 3 or 65537', 'OperationError');
      }
    }
    return alg;
  }

  function usagesArg(v) {
    if (typeof v !== 'object' || v === null || typeof v[Symbol_iterator] !== 'function') {
      throw new TypeError_("Failed to convert keyUsages: not a sequence.");
    }
    const out = newList();
    for (const u of v) {
      const s = toDOMString(u);
      if (KEY_USAGES[s] !== 1) throw new TypeError_(`'${s}' is not a valid KeyUsage.`);
      out[out.length] = s;
    }
    return out;
  }

  function formatArg(v) {
    const s = toDOMString(v);
    if (KEY_FORMATS[s] !== 1) throw new TypeError_(`'${s}' is not a valid KeyFormat.`);
    return s;
  }

  function jwkArg(v) {
    if (v === undefined || v === null) v = {};
    if (typeof v !== 'object' && typeof v !== 'function') throw new TypeError_('keyData is not a JsonWebKey.');
    const out = { __proto__: null };
    for (let i = 0; i < JWK_STRINGS.length; i++) {
      const m = JWK_STRINGS[i];
      const x = v[m];
      if (x !== undefined) out[m] = toDOMString(x);
    }
    const ext = v.ext;
    if (ext !== undefined) out.ext = !!ext;
    const ops = v.key_ops;
    if (ops !== undefined) {
      if (typeof ops !== 'object' || ops === null) throw new TypeError_('key_ops is not a sequence.');
      const list = newList();
      for (const o of ops) list[list.length] = toDOMString(o);
      out.key_ops = list;
    }
    if (v.oth !== undefined) out.oth = true;
    return out;
  }

  function cryptoError(x) {
    const name = String_(x[0]);
    const message = String_(x[1]);
    if (name === 'TypeError') return new TypeError_(message);
    return new DOMException(message, name);
  }

  function fromHost(v) {
    if (v.x !== undefined) throw cryptoError(v.x);
    if (v.b !== undefined) return TypedArrayPrototypeGetBuffer(binaryStringToBytes(v.b));
    const j = v.j;
    if (typeof j === 'object' && j !== null) {
      if (j.key !== undefined) return makeKey(j.key);
      if (j.pair !== undefined) return { publicKey: makeKey(j.pair[0]), privateKey: makeKey(j.pair[1]) };
    }
    return j;
  }

  // Run `method` with the arguments built by `build` (which may throw: the promise rejects).
  function subtleOp(self, nargs, min, name, build) {
    try {
      if (WeakMapGet(subtleBrand, self) !== true) throw new TypeError_('Illegal invocation');
      if (nargs < min) {
        throw new TypeError_(`Failed to execute '${name}' on 'SubtleCrypto': ${min} arguments required, but only ${nargs} present.`);
      }
      const args = build();
      args.m = name;
      const op = startHostOp('crypto', JSON_stringify(args));
      return call(Promise_then, op.promise, fromHost);
    } catch (e) {
      return Promise_reject(e);
    }
  }

  const subtleBrand = new WeakMap_();
  class SubtleCrypto {
    constructor(token) {
      if (token !== BODY_TOKEN) throw new TypeError_('Illegal constructor');
      WeakMapSet(subtleBrand, this, true);
    }
    digest(algorithm, data) {
      return subtleOp(this, arguments.length, 2, 'digest', () => {
        bufferType(data, 'data');
        const alg = checkAlgorithm('digest', algorithmArg(algorithm));
        return { __proto__: null, alg, d: bufferArg(data, 'data') };
      });
    }
    encrypt(algorithm, key, data) {
      return keyDataOp(this, arguments.length, 'encrypt', algorithm, key, data);
    }
    decrypt(algorithm, key, data) {
      return keyDataOp(this, arguments.length, 'decrypt', algorithm, key, data);
    }
    sign(algorithm, key, data) {
      return keyDataOp(this, arguments.length, 'sign', algorithm, key, data);
    }
    verify(algorithm, key, signature, data) {
      return subtleOp(this, arguments.length, 4, 'verify', () => {
        const k = keyHandle(key, 'key');
        bufferType(signature, 'signature');
        bufferType(data, 'data');
        const alg = checkAlgorithm('verify', algorithmArg(algorithm));
        return { __proto__: null, alg, k, s: bufferArg(signature, 'signature'), d: bufferArg(data, 'data') };
      });
    }
    generateKey(algorithm, extractable, keyUsages) {
      return subtleOp(this, arguments.length, 3, 'generateKey', () => {
        const u = usagesArg(keyUsages);
        return { __proto__: null, alg: checkAlgorithm('generateKey', algorithmArg(algorithm)), x: !!extractable, u };
      });
    }
    importKey(format, keyData, algorithm, extractable, keyUsages) {
      return subtleOp(this, arguments.length, 5, 'importKey', () => {
        // WebIDL converts keyData ((BufferSource or JsonWebKey): a JWK's members are read now)
        // and keyUsages first; WebCrypto then normalises the algorithm, checks keyData's type
        // against the format and only then copies the bytes.
        const f = formatArg(format);
        const isBuffer = isBufferSource(keyData);
        const jwk = isBuffer ? undefined : jwkArg(keyData);
        const u = usagesArg(keyUsages);
        const alg = checkAlgorithm('importKey', algorithmArg(algorithm));
        let d;
        if (f === 'jwk') {
          if (isBuffer) throw new TypeError_('keyData for jwk must be a JsonWebKey.');
          d = jwk;
        } else {
          if (!isBuffer) throw new TypeError_('keyData is not a BufferSource.');
          d = bufferArg(keyData, 'keyData');
        }
        return { __proto__: null, f, d, alg, x: !!extractable, u };
      });
    }
    exportKey(format, key) {
      return subtleOp(this, arguments.length, 2, 'exportKey', () => ({
        __proto__: null, f: formatArg(format), k: keyHandle(key, 'key'),
      }));
    }
    deriveBits(algorithm, baseKey, length = null) {
      return subtleOp(this, arguments.length, 2, 'deriveBits', () => {
        const k = keyHandle(baseKey, 'baseKey');
        let l = null;
        if (length !== null && length !== undefined) {
          l = +length;
          if (!Number_isFinite(l) || l < 0 || l > 4294967295) throw new TypeError_('length is outside the range of unsigned long.');
          l = Math_floor(l);
        }
        const alg = checkAlgorithm('deriveBits', algorithmArg(algorithm));
        return { __proto__: null, alg, k, l };
      });
    }
    deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      return subtleOp(this, arguments.length, 5, 'deriveKey', () => {
        const k = keyHandle(baseKey, 'baseKey');
        const u = usagesArg(keyUsages);
        const alg = checkAlgorithm('deriveBits', algorithmArg(algorithm));
        return { __proto__: null, alg, k, t: checkAlgorithm('importKey', algorithmArg(derivedKeyType)), x: !!extractable, u };
      });
    }
    wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      return subtleOp(this, arguments.length, 4, 'wrapKey', () => ({
        __proto__: null, f: formatArg(format), k: keyHandle(key, 'key'),
        w: keyHandle(wrappingKey, 'wrappingKey'), alg: checkAlgorithm('wrapKey', algorithmArg(wrapAlgorithm)),
      }));
    }
    unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      return subtleOp(this, arguments.length, 7, 'unwrapKey', () => {
        const f = formatArg(format);
        bufferType(wrappedKey, 'wrappedKey');
        const w = keyHandle(unwrappingKey, 'unwrappingKey');
        const u = usagesArg(keyUsages);
        const alg = checkAlgorithm('unwrapKey', algorithmArg(unwrapAlgorithm));
        const t = checkAlgorithm('importKey', algorithmArg(unwrappedKeyAlgorithm));
        return { __proto__: null, f, d: bufferArg(wrappedKey, 'wrappedKey'), w, alg, t, x: !!extractable, u };
      });
    }
    // Workers extra: synchronous, constant time over the bytes (for equal lengths).
    timingSafeEqual(a, b) {
      if (WeakMapGet(subtleBrand, this) !== true) throw new TypeError_('Illegal invocation');
      const x = viewBufferSource(a);
      const y = viewBufferSource(b);
      if (x === undefined || y === undefined) {
        throw new TypeError_("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameters must be ArrayBuffer or ArrayBufferView.");
      }
      const n = TypedArrayPrototypeGetByteLength(x);
      if (n !== TypedArrayPrototypeGetByteLength(y)) throw new TypeError_('Input buffers must have the same byte length.');
      let diff = 0;
      for (let i = 0; i < n; i++) diff |= x[i] ^ y[i];
      return diff === 0;
    }
  }
  defineToStringTag(SubtleCrypto, 'SubtleCrypto');
  defineToStringTag(CryptoKey, 'CryptoKey');
  const subtleInstance = new SubtleCrypto(BODY_TOKEN);
  return { __proto__: null, subtle: subtleInstance, SubtleCrypto, CryptoKey };
}

Object_defineProperty(Crypto.prototype, 'subtle', {
  get() { return subtleArea().subtle; }, enumerable: true, configurable: true,
});
defineLazyGlobal('SubtleCrypto', () => subtleArea().SubtleCrypto);
defineLazyGlobal('CryptoKey', () => subtleArea().CryptoKey);

defineToStringTag(Crypto, 'Crypto');
defineGlobal('Crypto', Crypto);
// workerd: `crypto` is a writable, enumerable, configurable data property.
Object_defineProperty(globalThis, 'crypto', {
  value: new Crypto(BODY_TOKEN), writable: true, enumerable: true, configurable: true,
});
