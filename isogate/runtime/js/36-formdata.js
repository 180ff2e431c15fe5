// FormData (XHR Standard, as workerd has it), its multipart/form-data
// serialisation for bodies and the parsing behind Body.formData() (40-body.js).
//
// An entry value is a string or a File (a Blob given to append/set becomes a
// File named "blob", or the filename given).

let formDataEntries; // (v) -> the entry list of a FormData made here, else undefined
let makeFormData; // (entry list) -> FormData

// A Blob or File as the File an entry holds (spec: "create an entry").
function entryValue(value, filename, given) {
  const blob = blobData(value);
  if (blob === undefined) return toUSVString(value);
  const file = isFile(value);
  if (file && !given) return value;
  const name = given ? toUSVString(filename) : 'blob';
  return new File([value], name, file ? { type: blob[1], lastModified: value.lastModified } : { type: blob[1] });
}

function needArgs(method, n, got) {
  if (got < n) {
    throw new TypeError_(`Failed to execute '${method}' on 'FormData': ${n} arguments required, but only ${got} present.`);
  }
}

const makeFormDataIterator = makeIteratorClass();

class FormData {
  #list = newList();
  constructor(form = undefined) {
    if (form !== undefined) {
      throw new TypeError_("Failed to construct 'FormData': parameter 1 is not of type 'undefined'.");
    }
  }
  append(name, value, filename = undefined) {
    needArgs('append', 2, arguments.length);
    const l = this.#list;
    l[l.length] = pair(toUSVString(name), entryValue(value, filename, arguments.length > 2));
  }
  set(name, value, filename = undefined) {
    needArgs('set', 2, arguments.length);
    const n = toUSVString(name);
    const v = entryValue(value, filename, arguments.length > 2);
    const l = this.#list;
    const out = newList();
    let done = false;
    for (let i = 0; i < l.length; i++) {
      if (l[i][0] !== n) out[out.length] = l[i];
      else if (!done) {
        out[out.length] = pair(n, v);
        done = true;
      }
    }
    if (!done) out[out.length] = pair(n, v);
    this.#list = out;
  }
  get(name) {
    needArgs('get', 1, arguments.length);
    const n = toUSVString(name);
    const l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) return l[i][1];
    return null;
  }
  getAll(name) {
    needArgs('getAll', 1, arguments.length);
    const n = toUSVString(name);
    const l = this.#list;
    const out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) out[out.length] = l[i][1];
    return out;
  }
  has(name) {
    needArgs('has', 1, arguments.length);
    const n = toUSVString(name);
    const l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) return true;
    return false;
  }
  delete(name) {
    needArgs('delete', 1, arguments.length);
    const n = toUSVString(name);
    const l = this.#list;
    const out = newList();
    for (let i = 0; i < l.length; i++) if (l[i][0] !== n) out[out.length] = l[i];
    this.#list = out;
  }
  entries() {
    return this.#iter(2);
  }
  keys() {
    return this.#iter(0);
  }
  values() {
    return this.#iter(1);
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') {
      throw new TypeError_("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.");
    }
    for (let i = 0; i < this.#list.length; i++) {
      const e = this.#list[i];
      Reflect_apply(callback, thisArg, [e[1], e[0], this]);
    }
  }
  #iter(kind) {
    return makeFormDataIterator((i) => this.#list[i], kind);
  }
  static {
    formDataEntries = (v) => (v !== null && typeof v === 'object' && #list in v ? v.#list : undefined);
    makeFormData = (list) => {
      const f = new FormData();
      f.#list = list;
      return f;
    };
  }
}
Object_defineProperty(FormData.prototype, Symbol_iterator, {
  value: FormData.prototype.entries, writable: true, enumerable: false, configurable: true,
});
defineGlobal('FormData', FormData);

// ---- multipart/form-data --------------------------------------------------------

// Names and filenames in a Content-Disposition header: LF, CR and '"'
// percent-encoded (HTML's "multipart/form-data encoding algorithm").
function escapeMultipartName(s) {
  return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(s, /\n/g, '%0A'), /\r/g, '%0D'),
    /"/g, '%22');
}

// A fresh boundary from the prelude's CSPRNG-independent source: it only has to
// be unlikely to occur in the data (browsers and workerd use random ones too).
function makeBoundary() {
  let s = '----formdata-isogate-';
  for (let i = 0; i < 24; i++) s += NumberPrototypeToString(Math_trunc(Math_random() * 16), 16);
  return s;
}

// -> {bytes: Uint8Array, contentType}
function serializeMultipart(list) {
  const boundary = makeBoundary();
  const chunks = newList();
  let total = 0;
  const add = (b) => {
    chunks[chunks.length] = b;
    total += TypedArrayPrototypeGetLength(b);
  };
  for (let i = 0; i < list.length; i++) {
    const name = list[i][0];
    const value = list[i][1];
    let head = '--' + boundary + '\r\nContent-Disposition: form-data; name="' + escapeMultipartName(name) + '"';
    if (typeof value === 'string') {
      add(encodeUTF8(head + '\r\n\r\n' + value + '\r\n', false));
    } else {
      const blob = blobData(value);
      head += '; filename="' + escapeMultipartName(fileNameOf(value)) + '"\r\nContent-Type: ' +
        (blob[1] === '' ? 'application/octet-stream' : blob[1]) + '\r\n\r\n';
      add(encodeUTF8(head, false));
      add(blob[0]);
      add(encodeUTF8('\r\n', false));
    }
  }
  add(encodeUTF8('--' + boundary + '--\r\n', false));
  const bytes = new Uint8Array_(total);
  for (let i = 0, at = 0; i < chunks.length; i++) {
    TypedArrayPrototypeSet(bytes, chunks[i], at);
    at += TypedArrayPrototypeGetLength(chunks[i]);
  }
  return { bytes, contentType: 'multipart/form-data; boundary=' + boundary };
}

// A parameter of a Content-Type / Content-Disposition value (quoted or token),
// case-insensitive name; undefined when absent.
function headerParam(value, name) {
  const s = value;
  let i = StringPrototypeIndexOf(s, ';');
  while (i >= 0 && i < s.length) {
    i++;
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let j = i;
    while (j < s.length && s[j] !== '=' && s[j] !== ';') j++;
    const key = asciiLowerCase(trimAsciiWhitespace(StringPrototypeSlice(s, i, j)));
    if (j >= s.length || s[j] === ';') {
      i = j;
      continue;
    }
    j++;
    let v = '';
    if (s[j] === '"') {
      j++;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j++];
      }
      j++;
      while (j < s.length && s[j] !== ';') j++;
    } else {
      const k = j;
      while (j < s.length && s[j] !== ';') j++;
      v = trimAsciiWhitespace(StringPrototypeSlice(s, k, j));
    }
    if (key === name) return v;
    i = j;
  }
  return undefined;
}

function formError(msg) {
  return new TypeError_(msg);
}

// The UTF-8 text of a binary string.
function binaryToText(s) {
  const b = binaryStringToBytes(s);
  return utf8DecodeBytes(b, TypedArrayPrototypeGetLength(b));
}

// Parse a multipart/form-data body (a binary string) -> entry list.
function parseMultipart(data, boundary) {
  const list = newList();
  const delim = '--' + boundary;
  let at = StringPrototypeIndexOf(data, delim);
  if (at < 0) throw formError('No initial boundary string (or you have a truncated message).');
  at += delim.length;
  for (;;) {
    if (StringPrototypeSlice(data, at, at + 2) === '--') return list;
    // Transport padding, then CRLF.
    while (data[at] === ' ' || data[at] === '\t') at++;
    if (StringPrototypeSlice(data, at, at + 2) !== '\r\n') throw formError('Boundary string not followed by CRLF.');
    at += 2;
    const headEnd = StringPrototypeIndexOf(data, '\r\n\r\n', at - 2);
    if (headEnd < 0) throw formError('No subpart header terminator (or you have a truncated message).');
    const headLines = headEnd < at ? newList() : StringPrototypeSplit(StringPrototypeSlice(data, at, headEnd), '\r\n');
    let name;
    let filename;
    let type = '';
    for (let i = 0; i < headLines.length; i++) {
      const line = headLines[i];
      const colon = StringPrototypeIndexOf(line, ':');
      if (colon <= 0) continue;
      const key = asciiLowerCase(trimAsciiWhitespace(StringPrototypeSlice(line, 0, colon)));
      const val = binaryToText(trimAsciiWhitespace(StringPrototypeSlice(line, colon + 1)));
      if (key === 'content-disposition') {
        name = headerParam(val, 'name');
        filename = headerParam(val, 'filename');
      } else if (key === 'content-type') {
        type = val;
      }
    }
    if (name === undefined) throw formError('Content-Disposition header for FormData part must have a "name" parameter.');
    const bodyStart = headEnd + 4;
    const end = StringPrototypeIndexOf(data, '\r\n' + delim, bodyStart);
    if (end < 0) throw formError('No subpart terminator (or you have a truncated message).');
    const raw = StringPrototypeSlice(data, bodyStart, end);
    if (filename === undefined) list[list.length] = pair(name, binaryToText(raw));
    else list[list.length] = pair(name, makeFile(binaryStringToBytes(raw), type, filename));
    at = end + 2 + delim.length;
  }
}

function makeFile(bytes, type, name) {
  const f = new File([], name, { type: normalizeBlobType(type) === '' ? '' : type });
  return blobWithBytes(f, bytes);
}

// Body.formData(): bytes (a Uint8Array) and the Content-Type (or null) -> FormData.
function parseFormDataBody(bytes, contentType) {
  const ct = contentType === null ? '' : contentType;
  const semi = StringPrototypeIndexOf(ct, ';');
  const essence = asciiLowerCase(trimAsciiWhitespace(semi < 0 ? ct : StringPrototypeSlice(ct, 0, semi)));
  if (essence === 'multipart/form-data') {
    const boundary = headerParam(ct, 'boundary');
    if (boundary === undefined || boundary === '') {
      throw formError('No boundary string in Content-Type header. The multipart/form-data MIME type requires a ' +
        'boundary parameter.');
    }
    return makeFormData(parseMultipart(bytesToBinaryString(bytes, TypedArrayPrototypeGetLength(bytes)), boundary));
  }
  if (essence === 'application/x-www-form-urlencoded') {
    return makeFormData(parseFormUrlencoded(utf8DecodeBytes(bytes, TypedArrayPrototypeGetLength(bytes))));
  }
  throw formError('Unrecognized Content-Type header value. FormData can only parse the following MIME types: ' +
    'multipart/form-data, application/x-www-form-urlencoded');
}
