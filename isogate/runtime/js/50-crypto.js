// crypto.getRandomValues / crypto.randomUUID, drawing from a ChaCha20 CSPRNG
// with fast key erasure: each refill generates 16 blocks with the current key,
// takes the first 32 bytes as the next key and serves the rest, so earlier
// outputs cannot be recomputed from the state. The host calls
// seedRandom(<32 random bytes as a binary string>) before every invocation;
// the seed is XORed into the key and buffered output is discarded.
// crypto.subtle is not provided.

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
defineGlobal('Crypto', Crypto);
// workerd: `crypto` is a writable, enumerable, configurable data property.
Object_defineProperty(globalThis, 'crypto', {
  value: new Crypto(BODY_TOKEN), writable: true, enumerable: true, configurable: true,
});
