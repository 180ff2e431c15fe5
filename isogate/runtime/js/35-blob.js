// Blob and File (File API) as workerd has them: the bytes are held in memory.
// A Blob is accepted as a Request/Response body; its type becomes the default
// Content-Type (40-body.js).

let blobData; // (v) -> [bytes, type] for a Blob made here, else undefined
let makeBlob; // (bytes we own, type) -> Blob
let blobWithBytes; // (a Blob made here, bytes we own) -> it, now holding those bytes
let isFile; // (v) -> is v a File made here
let fileNameOf; // (File made here) -> its name

// A Blob type: '' if any character is outside U+0020-U+007E, else lower-cased.
function normalizeBlobType(t) {
  const s = toDOMString(t);
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c < 0x20 || c > 0x7e) return '';
  }
  return asciiLowerCase(s);
}

// WebIDL [Clamp] long long (round half to even), then a position relative to
// the end when negative.
function relativeIndex(v, size) {
  const x = Number_(v);
  let n = 0;
  if (x === x) {
    const f = Math_floor(x);
    const d = x - f;
    n = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  }
  return n < 0 ? Math_max(size + n, 0) : Math_min(n, size);
}

class Blob {
  #bytes;
  #type = '';
  constructor(parts = undefined, options = undefined) {
    const chunks = newList();
    let total = 0;
    if (parts !== undefined) {
      // sequence<BlobPart>: any iterable object (not a string).
      if (!Array_isArray(parts)) {
        const it = parts !== null && typeof parts === 'object' ? getIteratorMethod(parts) : undefined;
        if (it === undefined) {
          throw new TypeError_("Failed to construct 'Blob': constructor parameter 1 is not of type 'Array'.");
        }
        const list = [];
        const iter = Reflect_apply(it, parts, []);
        for (;;) {
          const step = iter.next();
          if (step.done) break;
          list[list.length] = step.value;
        }
        parts = list;
      }
      const n = parts.length;
      for (let i = 0; i < n; i++) {
        const p = parts[i];
        let b;
        if (p !== null && (typeof p === 'object' || typeof p === 'function')) {
          b = #bytes in p ? p.#bytes : viewBufferSource(p);
        }
        if (b === undefined) b = encodeUTF8(toUSVString(p), false);
        chunks[chunks.length] = b;
        total += TypedArrayPrototypeGetLength(b);
      }
    }
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' && typeof options !== 'function') {
        throw new TypeError_("Failed to construct 'Blob': constructor parameter 2 is not of type 'Options'.");
      }
      if (options.endings !== undefined) throw new Error_("The 'endings' field on 'Options' is not implemented.");
      const t = options.type;
      if (t !== undefined) this.#type = normalizeBlobType(t);
    }
    const bytes = new Uint8Array_(total);
    for (let i = 0, at = 0; i < chunks.length; i++) {
      TypedArrayPrototypeSet(bytes, chunks[i], at);
      at += TypedArrayPrototypeGetLength(chunks[i]);
    }
    this.#bytes = bytes;
  }
  get size() {
    return TypedArrayPrototypeGetLength(this.#bytes);
  }
  get type() {
    return this.#type;
  }
  slice(start = undefined, end = undefined, contentType = undefined) {
    const bytes = this.#bytes;
    const size = TypedArrayPrototypeGetLength(bytes);
    const a = start === undefined ? 0 : relativeIndex(start, size);
    const b = end === undefined ? size : relativeIndex(end, size);
    const out = new Blob();
    // A view, not a copy (Blob bytes are never written); no species lookup.
    out.#bytes = new Uint8Array_(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + a,
      Math_max(b - a, 0));
    if (contentType !== undefined) out.#type = normalizeBlobType(contentType);
    return out;
  }
  arrayBuffer() {
    try {
      return Promise_resolve(TypedArrayPrototypeGetBuffer(copyBytes(this.#bytes)));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  bytes() {
    try {
      return Promise_resolve(copyBytes(this.#bytes));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  text() {
    try {
      const b = this.#bytes;
      return Promise_resolve(utf8DecodeBytes(b, TypedArrayPrototypeGetLength(b)));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  // A byte stream of the contents. With a constructible ReadableStream (issue 20,
  // item 2) it is a real one; until then the prelude's one-chunk body stream.
  stream() {
    const b = this.#bytes;
    return bytesBodyStream(b);
  }
  static {
    blobData = (v) => (v !== null && typeof v === 'object' && #bytes in v ? pair(v.#bytes, v.#type) : undefined);
    makeBlob = (bytes, type) => {
      const b = new Blob();
      b.#bytes = bytes;
      b.#type = normalizeBlobType(type) === '' ? '' : type;
      return b;
    };
    blobWithBytes = (b, bytes) => {
      b.#bytes = bytes;
      return b;
    };
  }
}
defineGlobal('Blob', Blob);

// An owned copy of a Uint8Array (or of part of one).
function copyBytes(b) {
  const out = new Uint8Array_(TypedArrayPrototypeGetLength(b));
  TypedArrayPrototypeSet(out, b);
  return out;
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(bits, name, options = undefined) {
    if (arguments.length < 2) {
      throw new TypeError_(`Failed to construct 'File': constructor parameter ${arguments.length + 1} is not of type 'string'.`);
    }
    super(bits, options);
    this.#name = toUSVString(name);
    const lm = options !== undefined && options !== null ? options.lastModified : undefined;
    this.#lastModified = lm === undefined ? Date_now() : Math_trunc(Number_(lm)) || 0;
  }
  get name() {
    return this.#name;
  }
  get lastModified() {
    return this.#lastModified;
  }
  static {
    isFile = (v) => v !== null && typeof v === 'object' && #name in v;
    fileNameOf = (v) => v.#name;
  }
}
defineGlobal('File', File);
