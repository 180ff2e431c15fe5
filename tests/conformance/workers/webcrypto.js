// crypto.subtle: known answers, CryptoKey shapes and error names (never random values:
// signatures of randomised schemes and generated keys are reported as facts).
// Left out, where workerd departs from WebCrypto/WebIDL and isogate follows the standard
// (docs/compatibility.md): an algorithm without a name (workerd NotSupportedError, WebIDL
// TypeError), an unknown usage string (workerd SyntaxError, WebIDL TypeError), an unknown key
// format (workerd NotSupportedError, WebIDL enum: TypeError).
const S = crypto.subtle;
const enc = (s) => new TextEncoder().encode(s);
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
async function err(p) {
  try {
    const v = await p;
    return { ok: v instanceof ArrayBuffer ? hex(v) : typeof v === 'object' ? 'object' : v };
  } catch (e) {
    return { name: e.name, code: e.code, dom: e instanceof DOMException, type: e instanceof TypeError };
  }
}
function shape(k) {
  const a = { ...k.algorithm };
  if (a.publicExponent) a.publicExponent = Array.from(a.publicExponent);
  return { type: k.type, extractable: k.extractable, algorithm: a, usages: k.usages };
}
const HMAC = { name: 'HMAC', hash: 'SHA-256' };
const routes = {
  async '/digest'() {
    const out = {};
    for (const h of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'sha-256']) out[h] = hex(await S.digest(h, enc('abc')));
    out.empty = hex(await S.digest({ name: 'SHA-256' }, new ArrayBuffer(0)));
    return out;
  },
  async '/hmac'() {
    const k = await S.importKey('raw', enc('key'), HMAC, true, ['verify', 'sign', 'sign']);
    const sig = await S.sign('HMAC', k, enc('The quick brown fox'));
    return {
      shape: shape(k), sig: hex(sig), ok: await S.verify('HMAC', k, sig, enc('The quick brown fox')),
      jwk: await S.exportKey('jwk', k),
      gen: shape(await S.generateKey({ name: 'HMAC', hash: 'SHA-384' }, false, ['sign'])),
      len: shape(await S.importKey('raw', enc('key'), { ...HMAC, length: 20 }, false, ['sign'])),
    };
  },
  async '/aes'() {
    const out = {};
    const kb = new Uint8Array(16).map((_, i) => i);
    const iv = new Uint8Array(16).map((_, i) => 255 - i);
    const data = enc('sixteen byte msg and a tail');
    for (const [name, p] of [['AES-CBC', { iv }], ['AES-CTR', { counter: iv, length: 64 }],
      ['AES-GCM', { iv: iv.subarray(0, 12), additionalData: enc('ad'), tagLength: 104 }]]) {
      const k = await S.importKey('raw', kb, name, true, ['encrypt', 'decrypt']);
      const ct = await S.encrypt({ name, ...p }, k, data);
      out[name] = [hex(ct), new TextDecoder().decode(await S.decrypt({ name, ...p }, k, ct)), shape(k)];
    }
    const kw = await S.importKey('raw', kb, 'AES-KW', true, ['wrapKey', 'unwrapKey']);
    const wrapped = await S.wrapKey('raw', await S.importKey('raw', iv, 'AES-GCM', true, ['encrypt']), kw, 'AES-KW');
    out.kw = hex(wrapped);
    out.jwk = await S.exportKey('jwk', kw);
    return out;
  },
  async '/asymmetric'() {
    const out = {};
    for (const g of [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDH', namedCurve: 'P-384' }, { name: 'Ed25519' },
      { name: 'X25519' },
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      { name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-1' }]) {
      const usages = { ECDSA: ['sign', 'verify'], Ed25519: ['sign', 'verify'], ECDH: ['deriveBits'], X25519: ['deriveKey', 'deriveBits'],
        'RSASSA-PKCS1-v1_5': ['verify', 'sign'], 'RSA-OAEP': ['unwrapKey', 'encrypt', 'decrypt', 'wrapKey'] }[g.name];
      const p = await S.generateKey(g, false, usages);
      const jwk = await S.exportKey('jwk', p.publicKey);
      out[g.name] = { pub: shape(p.publicKey), priv: shape(p.privateKey), jwkKeys: Object.keys(jwk).sort(),
        jwk: { ...jwk, x: undefined, y: undefined, n: undefined } };
    }
    return out;
  },
  async '/derive'() {
    const pw = await S.importKey('raw', enc('password'), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
    const ikm = await S.importKey('raw', enc('input key'), { name: 'HKDF' }, false, ['deriveKey', 'deriveBits']);
    return {
      pbkdf2: hex(await S.deriveBits({ name: 'PBKDF2', salt: enc('salt'), iterations: 4096, hash: 'SHA-256' }, pw, 256)),
      hkdf: hex(await S.deriveBits({ name: 'HKDF', salt: enc('salt'), info: enc('info'), hash: 'SHA-512' }, ikm, 512)),
      hkdf0: await err(S.deriveBits({ name: 'HKDF', salt: enc(''), info: enc(''), hash: 'SHA-256' }, ikm, 0)),
      kdfShape: shape(pw),
      dk: shape(await S.deriveKey({ name: 'HKDF', salt: enc('s'), info: enc('i'), hash: 'SHA-256' }, ikm,
        { name: 'AES-CTR', length: 192 }, false, ['encrypt'])),
      dkHmac: shape(await S.deriveKey({ name: 'PBKDF2', salt: enc('s'), iterations: 10, hash: 'SHA-1' }, pw,
        { name: 'HMAC', hash: 'SHA-1' }, true, ['sign'])),
    };
  },
  async '/errors'() {
    const hk = await S.importKey('raw', enc('key'), HMAC, false, ['sign']);
    const aes = await S.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt']);
    const pw = await S.importKey('raw', enc('pw'), 'PBKDF2', false, ['deriveBits']);
    const ec = await S.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    return {
      unknownAlg: await err(S.digest('SHA-3', enc(''))),
      notBuffer: await err(S.digest('SHA-256', 'abc')),
      missingArg: await err(S.digest('SHA-256')),
      verifyUsage: await err(S.verify('HMAC', hk, new Uint8Array(32), enc(''))),
      wrongAlg: await err(S.sign('HMAC', aes, enc(''))),
      notKey: await err(S.sign('HMAC', {}, enc(''))),
      exportNonExtractable: await err(S.exportKey('raw', hk)),
      exportKdf: await err(S.exportKey('raw', pw)),
      emptyUsages: await err(S.importKey('raw', enc('k'), HMAC, true, [])),
      badUsage: await err(S.importKey('raw', enc('k'), HMAC, true, ['encrypt'])),
      hmacEmpty: await err(S.importKey('raw', new Uint8Array(0), HMAC, true, ['sign'])),
      aesLen: await err(S.importKey('raw', new Uint8Array(20), 'AES-CBC', true, ['encrypt'])),
      aesGenLen: await err(S.generateKey({ name: 'AES-CBC', length: 100 }, true, ['encrypt'])),
      aesNoLen: await err(S.generateKey({ name: 'AES-CBC' }, true, ['encrypt'])),
      gcmTag: await err(S.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12), tagLength: 20 }, aes, enc(''))),
      noIv: await err(S.encrypt({ name: 'AES-GCM' }, aes, enc(''))),
      curve: await err(S.generateKey({ name: 'ECDSA', namedCurve: 'P-192' }, true, ['sign'])),
      kdfExtractable: await err(S.importKey('raw', enc('p'), 'PBKDF2', true, ['deriveBits'])),
      kdfNoLength: await err(S.deriveBits({ name: 'PBKDF2', salt: enc('s'), iterations: 1, hash: 'SHA-1' }, pw, null)),
      kdfZeroIter: await err(S.deriveBits({ name: 'PBKDF2', salt: enc('s'), iterations: 0, hash: 'SHA-1' }, pw, 128)),
      kdfOdd: await err(S.deriveBits({ name: 'PBKDF2', salt: enc('s'), iterations: 1, hash: 'SHA-1' }, pw, 12)),
      ecdhPrivAsPub: await err(S.deriveBits({ name: 'ECDH', public: ec.privateKey }, ec.privateKey, 128)),
      ecdhTooLong: await err(S.deriveBits({ name: 'ECDH', public: ec.publicKey }, ec.privateKey, 512)),
      spkiGarbage: await err(S.importKey('spki', new Uint8Array([48, 3, 2, 1, 0]), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])),
      jwkKty: await err(S.importKey('jwk', { kty: 'EC', k: 'AAAA' }, 'AES-GCM', true, ['encrypt'])),
      safeEqual: [S.timingSafeEqual(enc('ab'), enc('ab')), S.timingSafeEqual(enc('ab'), enc('ac'))],
      safeEqualLen: (() => { try { S.timingSafeEqual(enc('a'), enc('ab')); return 'no error'; } catch (e) { return e.name; } })(),
      ctor: (() => { try { new CryptoKey(); return 'made'; } catch (e) { return e.name; } })(),
      tags: [typeof SubtleCrypto, typeof CryptoKey, crypto.subtle instanceof SubtleCrypto, hk instanceof CryptoKey],
    };
  },
  // A deliberate difference (tests/conformance/test_conformance.py KNOWN_DIFFERENCES): WebIDL
  // gives each interface's prototype a @@toStringTag; workerd has none on these three.
  async '/to-string-tag'() {
    const hk = await S.importKey('raw', enc('key'), HMAC, false, ['sign']);
    const d = (C) => Object.getOwnPropertyDescriptor(C.prototype, Symbol.toStringTag) || null;
    return {
      toString: [crypto, crypto.subtle, hk].map((v) => Object.prototype.toString.call(v)),
      descriptors: [Crypto, SubtleCrypto, CryptoKey].map(d),
    };
  },
};
export default {
  async fetch(request) {
    const route = routes[new URL(request.url).pathname];
    if (!route) return new Response('no route', { status: 404 });
    return Response.json(await route());
  },
};
