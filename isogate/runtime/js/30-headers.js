// Headers, matching workerd:
// - names: ASCII characters must be RFC 9110 token characters; like workerd,
//   non-ASCII characters and the empty name are accepted by the API (workerd
//   then drops such headers on the wire, and so does headersToWire below);
//   names are lower-cased (ASCII only).
// - values: leading/trailing HTTP whitespace is stripped; NUL, CR and LF are
//   rejected ("Invalid header value."). Like workerd, values are not
//   ByteStrings: "\u00e9\u20ac" is accepted and sent as UTF-8 bytes.
// - iteration: sorted by name, values of one name joined with ", " except
//   set-cookie; iterators work on a snapshot taken when they are created.
// Storage: one null-prototype list of [lowerName, value, spelledName] lists
// kept sorted by lower-case name (stable: insertion order within a name).
// spelledName is the name as the Worker wrote it; workerd sends a header under
// the spelling of its first value (set() on an existing name keeps it).

// Invalid ASCII header-name characters (not tchar), as a 128-entry table.
const INVALID_NAME_CHAR = new Uint8Array_(128);
for (let c = 0; c <= 32; c++) INVALID_NAME_CHAR[c] = 1;
for (const c of [34, 40, 41, 44, 47, 58, 59, 60, 61, 62, 63, 64, 91, 92, 93, 123, 125, 127]) {
  INVALID_NAME_CHAR[c] = 1;
}

function normalizeHeaderName(name) {
  const s = toDOMString(name);
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c < 128 && INVALID_NAME_CHAR[c]) throw new TypeError_('Invalid header name.');
    if (c >= 0x41 && c <= 0x5a) changed = true;
  }
  return changed ? asciiLowerCase(s) : s;
}

function asciiLowerCase(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    out += c >= 0x41 && c <= 0x5a ? String_fromCharCode(c + 32) : s[i];
  }
  return out;
}

const isHTTPWhitespace = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function normalizeHeaderValue(value) {
  const s = toDOMString(value);
  let a = 0;
  let b = s.length;
  while (a < b && isHTTPWhitespace(StringPrototypeCharCodeAt(s, a))) a++;
  while (b > a && isHTTPWhitespace(StringPrototypeCharCodeAt(s, b - 1))) b--;
  for (let i = a; i < b; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw new TypeError_('Invalid header value.');
  }
  return a === 0 && b === s.length ? s : StringPrototypeSlice(s, a, b);
}

const GUARD_NONE = 0;
const GUARD_IMMUTABLE = 1;

const makeHeadersIterator = makeIteratorClass();

function headerEntry(name, value, spelled) {
  const e = newList();
  e[0] = name;
  e[1] = value;
  e[2] = spelled;
  return e;
}

// Module-level access to Headers internals for Request/Response (40-body.js)
// and the host hooks; assigned in the class's static block.
let headersList; // (h) -> internal list (brand-checked), or undefined
let headersSetGuard; // (h, guard) -> void
let headersFromList; // (list, guard) -> new Headers with a copy of list
let headersAppendRaw; // (h, lowerName, value) -> void, no validation or guard

class Headers {
  #list = newList();
  #guard = GUARD_NONE;
  // Bumped by every change of #list, so live iterators know to re-sort and combine.
  #version = 0;
  constructor(init = undefined) {
    if (init === undefined) return;
    if (init === null || (typeof init !== 'object' && typeof init !== 'function')) {
      throw new TypeError_("Failed to construct 'Headers': constructor parameter 1 is not of type 'Headers or Sequence or object'.");
    }
    // A Headers whose iteration is the original one is copied directly; one with its own
    // @@iterator is a sequence like any other (WebIDL converts it by iterating).
    if (#list in init && init[Symbol_iterator] === headersEntries) {
      const src = init.#list;
      for (let i = 0; i < src.length; i++) this.#list[i] = headerEntry(src[i][0], src[i][1], src[i][2]);
      return;
    }
    const iter = getIteratorMethod(init);
    if (iter !== undefined) {
      for (const p of { [Symbol_iterator]: () => call(iter, init) }) {
        if (p === null || (typeof p !== 'object' && typeof p !== 'function')) {
          throw new TypeError_('To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.');
        }
        const items = newList(); // no Array.prototype setters
        for (const x of p) items[items.length] = x;
        if (items.length !== 2) {
          throw new TypeError_('To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.');
        }
        const k = toDOMString(items[0]);
        this.#append(normalizeHeaderName(k), normalizeHeaderValue(items[1]), k);
      }
      return;
    }
    const keys = Reflect_ownKeys(init);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k !== 'string') continue;
      const d = Object_getOwnPropertyDescriptor(init, k);
      if (d === undefined || !d.enumerable) continue;
      this.#append(normalizeHeaderName(k), normalizeHeaderValue(init[k]), k);
    }
  }

  // Insert after the last entry whose name is <= name (keeps the list sorted
  // and stable).
  #append(name, value, spelled) {
    this.#version++;
    const list = this.#list;
    let i = list.length;
    while (i > 0 && list[i - 1][0] > name) {
      list[i] = list[i - 1];
      i--;
    }
    list[i] = headerEntry(name, value, spelled);
  }
  #checkMutable() {
    if (this.#guard === GUARD_IMMUTABLE) throw new TypeError_("Can't modify immutable headers.");
  }
  #remove(name) {
    this.#version++;
    const list = this.#list;
    const out = newList();
    for (let i = 0; i < list.length; i++) if (list[i][0] !== name) out[out.length] = list[i];
    this.#list = out;
  }
  // Sorted entries with the values of a name joined (set-cookie kept apart).
  #combined() {
    const list = this.#list;
    const out = newList();
    for (let i = 0; i < list.length; i++) {
      const name = list[i][0];
      const last = out.length ? out[out.length - 1] : null;
      if (last !== null && last[0] === name && name !== 'set-cookie') last[1] += ', ' + list[i][1];
      else out[out.length] = pair(name, list[i][1]);
    }
    return out;
  }

  append(name, value) {
    if (arguments.length < 2) {
      throw new TypeError_(`Failed to execute 'append' on 'Headers': parameter ${arguments.length + 1} is not of type 'string'.`);
    }
    const spelled = toDOMString(name);
    name = normalizeHeaderName(spelled);
    value = normalizeHeaderValue(value);
    this.#checkMutable();
    this.#append(name, value, spelled);
  }
  delete(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'delete' on 'Headers': parameter 1 is not of type 'string'.");
    name = normalizeHeaderName(name);
    this.#checkMutable();
    this.#remove(name);
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'get' on 'Headers': parameter 1 is not of type 'string'.");
    name = normalizeHeaderName(name);
    const list = this.#list;
    let out = null;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) out = out === null ? list[i][1] : out + ', ' + list[i][1];
    }
    return out;
  }
  // workerd's non-standard getAll(): only for Set-Cookie.
  getAll(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'getAll' on 'Headers': parameter 1 is not of type 'string'.");
    name = normalizeHeaderName(name);
    if (name !== 'set-cookie') throw new TypeError_('getAll() can only be used with the header name "Set-Cookie".');
    return this.getSetCookie();
  }
  getSetCookie() {
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i++) if (list[i][0] === 'set-cookie') out[out.length] = list[i][1];
    return out;
  }
  has(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'has' on 'Headers': parameter 1 is not of type 'string'.");
    name = normalizeHeaderName(name);
    const list = this.#list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === name) return true;
    return false;
  }
  set(name, value) {
    if (arguments.length < 2) {
      throw new TypeError_(`Failed to execute 'set' on 'Headers': parameter ${arguments.length + 1} is not of type 'string'.`);
    }
    let spelled = toDOMString(name);
    name = normalizeHeaderName(spelled);
    value = normalizeHeaderValue(value);
    this.#checkMutable();
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) {
        spelled = list[i][2];
        break;
      }
    }
    this.#remove(name);
    this.#append(name, value, spelled);
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') {
      throw new TypeError_("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    }
    // WebIDL's forEach re-reads the pairs at every step, so changes made by the callback
    // are seen (as by the iterators).
    const source = this.#source();
    for (let i = 0, e; (e = source(i)) !== undefined; i++) call(callback, thisArg, e[1], e[0], this);
  }
  // The pairs to iterate over, read afresh at each step (WebIDL pair iterators are live:
  // a header appended or deleted during iteration moves what the next index finds);
  // re-sorted only when the list changed since the last step.
  #source() {
    let version = -1;
    let entries;
    return (i) => {
      if (version !== this.#version) {
        entries = this.#combined();
        version = this.#version;
      }
      return i < entries.length ? entries[i] : undefined;
    };
  }
  entries() {
    return makeHeadersIterator(this.#source(), 2);
  }
  keys() {
    return makeHeadersIterator(this.#source(), 0);
  }
  values() {
    return makeHeadersIterator(this.#source(), 1);
  }
  static {
    headersList = (h) => (h !== null && typeof h === 'object' && #list in h ? h.#list : undefined);
    headersSetGuard = (h, guard) => {
      h.#guard = guard;
    };
    headersFromList = (list, guard) => {
      const h = new Headers();
      for (let i = 0; i < list.length; i++) h.#list[i] = headerEntry(list[i][0], list[i][1], list[i][2]);
      h.#guard = guard;
      return h;
    };
    headersAppendRaw = (h, name, value) => {
      h.#append(name, value, name);
    };
  }
}
const headersEntries = Headers.prototype.entries;
Object_defineProperty(Headers.prototype, Symbol_iterator, {
  value: Headers.prototype.entries, writable: true, enumerable: false, configurable: true,
});
defineGlobal('Headers', Headers);

// Headers workerd never writes from a Response: it frames the message itself
// (the gateway adds Content-Length) and drops hop-by-hop headers.
const WIRE_DROPPED = {
  __proto__: null,
  'content-length': true, 'transfer-encoding': true, 'connection': true,
  'keep-alive': true, 'upgrade': true, 'te': true, 'trailer': true,
};

// The headers workerd (kj) indexes, in the order it writes them: kj's built-in
// ones, then workerd's table of common headers, then a few it registers
// elsewhere (checked on the wire with workerd). They go out first, in this
// order, under this spelling, with the values of one name joined by ", " on
// one line (Set-Cookie: one line each; after the first, lines carry the
// Worker's spelling).
const COMMON_HEADERS = ' Sec-WebSocket-Key Sec-WebSocket-Version Sec-WebSocket-Accept ' +
  'Sec-WebSocket-Extensions Host Date Location Content-Type Range Content-Range Accept-Charset ' +
  'Accept-Encoding Accept-Language Accept-Ranges Accept Access-Control-Allow-Origin Age Allow ' +
  'Authorization Cache-Control Content-Disposition Content-Encoding Content-Language ' +
  'Content-Location Cookie ETag Expect Expires From If-Match If-Modified-Since If-None-Match ' +
  'If-Range If-Unmodified-Since Last-Modified Link Max-Forwards Proxy-Authenticate ' +
  'Proxy-Authorization Referer Refresh Retry-After Server Set-Cookie Strict-Transport-Security ' +
  'User-Agent Vary Via WWW-Authenticate CF-Cache-Status Pragma Sec-WebSocket-Protocol CF-Ray Origin ';
// Looked up by position in the lower-case copy (no table object: this runs in
// every isolate's warm-up, and its garbage costs memory per isolate).
let commonHeadersLower;

// A header value as the bytes workerd sends (UTF-8), as a binary string.
const wireValue = (v) => {
  if (isAsciiString(v)) return v;
  const b = encodeUTF8(v, false);
  return bytesToBinaryString(b, TypedArrayPrototypeGetLength(b));
};

// Headers as workerd sends them, from a Headers list (sorted by lower-case
// name): the common headers first (see above), then the others sorted by
// name as spelled (byte order), one line per value under that spelling.
// Names that cannot go on the wire (empty, non-ASCII) and the framing headers
// are dropped. Returns a plain list of [name, value] built only from primitive
// strings; values are binary strings (UTF-8 bytes).
function headersToWire(list) {
  if (commonHeadersLower === undefined) commonHeadersLower = StringPrototypeToLowerCase(COMMON_HEADERS);
  const common = newList();
  const other = newList();
  for (let i = 0; i < list.length;) {
    const name = list[i][0];
    const spelled = list[i][2];
    let j = i;
    while (j < list.length && list[j][0] === name) j++;
    if (name !== '' && WIRE_DROPPED[name] !== true && isAsciiString(name)) {
      const at = StringPrototypeIndexOf(commonHeadersLower, ' ' + name + ' ');
      if (at >= 0) {
        const canonical = StringPrototypeSlice(COMMON_HEADERS, at + 1, at + 1 + name.length);
        if (name === 'set-cookie') {
          for (let k = i; k < j; k++) {
            common[common.length] = headerEntry(at, wireValue(list[k][1]), k === i ? canonical : spelled);
          }
        } else {
          let value = list[i][1];
          for (let k = i + 1; k < j; k++) value += ', ' + list[k][1];
          common[common.length] = headerEntry(at, wireValue(value), canonical);
        }
      } else {
        for (let k = i; k < j; k++) other[other.length] = headerEntry(spelled, wireValue(list[k][1]), k);
      }
    }
    i = j;
  }
  // Sorts: by table position (stable); by spelling, then original position.
  ArrayPrototypeSort(common, (a, b) => a[0] - b[0]);
  ArrayPrototypeSort(other, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
  const out = newList();
  for (let i = 0; i < common.length; i++) out[out.length] = pair(common[i][2], common[i][1]);
  for (let i = 0; i < other.length; i++) out[out.length] = pair(other[i][0], other[i][1]);
  return out;
}
