// FormData (XHR Standard, as workerd has it), its multipart/form-data
// serialisation for bodies and the parsing behind Body.formData() (40-body.js).
//
// An entry value is a string or a File (a Blob given to append/set becomes a
// File named "blob", or the filename given).
//
// Lazy by area, like streams (45-streams.js): all of it lives inside loadForms(),
// which V8 only pre-parses until the `FormData` global is first read or a body is
// read with formData(); 40-body.js reaches it through forms(). The loader runs
// while tenant code runs, so its top level looks up nothing a tenant can replace.

let formsNS = null;
// -> {FormData, entries(v) (the entry list of a FormData made here, else undefined),
//     serializeMultipart(list), parseFormDataBody(bytes, contentType)}
function forms() {
  if (formsNS === null) formsNS = loadForms();
  return formsNS;
}
const formsLoaded = () => formsNS !== null;

// Made now: makeIteratorClass() reads WeakMap.prototype, which a tenant may replace.
const makeFormDataIterator = makeIteratorClass();

function loadForms() {
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

  // Missing arguments, worded like workerd (the first missing one's type).
  function needArgs(method, n, got) {
    if (got < n) {
      const type = got === 0 ? 'string' : 'File or Blob or string';
      throw new TypeError_(`Failed to execute '${method}' on 'FormData': parameter ${got + 1} is not of type '${type}'.`);
    }
  }

  class FormData {
    #list = newList();
    // Like workerd, an argument (an HTML form elsewhere) is ignored.
    constructor() {}
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
        throw new TypeError_("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'function'.");
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
    __proto__: null, value: FormData.prototype.entries, writable: true, enumerable: false, configurable: true,
  });

  // ---- multipart/form-data --------------------------------------------------------

  // Names and filenames in a Content-Disposition header: LF, CR and '"'
  // percent-encoded (HTML's "multipart/form-data encoding algorithm"); names
  // (not filenames) have their line breaks normalised to CRLF first.
  function escapeMultipartName(s) {
    return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(s, /\n/g, '%0A'), /\r/g, '%0D'),
      /"/g, '%22');
  }
  const normalizeLineBreaks = (s) => StringPrototypeReplace(s, /\r\n|\r|\n/g, '\r\n');

  // A fresh boundary: it only has to be unlikely to occur in the data (browsers
  // and workerd use random ones too), so Math.random is enough.
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
      let head = '--' + boundary + '\r\nContent-Disposition: form-data; name="' +
        escapeMultipartName(normalizeLineBreaks(name)) + '"';
      if (typeof value === 'string') {
        add(encodeUTF8(head + '\r\n\r\n' + normalizeLineBreaks(value) + '\r\n', false));
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

  // ---- MIME types (MIME Sniffing Standard: parse and serialise) ----------------------

  const TOKEN_RE = /^[!#$%&'*+\-.^_\x60|~0-9A-Za-z]+$/;
  const isHttpToken = (s) => RegExpPrototypeTest(TOKEN_RE, s);
  const isHttpWs = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  // Quoted-string code points: TAB, U+0020-U+007E, U+0080-U+00FF.
  const QUOTED_OK_RE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

  function trimHttpWs(s) {
    let a = 0;
    let b = s.length;
    while (a < b && isHttpWs(s[a])) a++;
    while (b > a && isHttpWs(s[b - 1])) b--;
    return StringPrototypeSlice(s, a, b);
  }

  // -> {essence, params: list of [name, value], text: serialised} or null (failure).
  function parseMimeType(input) {
    const s = trimHttpWs(input);
    let i = StringPrototypeIndexOf(s, '/');
    if (i <= 0) return null;
    const type = StringPrototypeSlice(s, 0, i);
    let j = StringPrototypeIndexOf(s, ';', i + 1);
    if (j < 0) j = s.length;
    const subtype = trimHttpWs(StringPrototypeSlice(s, i + 1, j));
    if (!isHttpToken(type) || subtype === '' || !isHttpToken(subtype)) return null;
    const essence = asciiLowerCase(type) + '/' + asciiLowerCase(subtype);
    const params = newList();
    const seen = { __proto__: null };
    let text = essence;
    i = j;
    while (i < s.length) {
      i++; // ';'
      while (i < s.length && isHttpWs(s[i])) i++;
      let k = i;
      while (k < s.length && s[k] !== ';' && s[k] !== '=') k++;
      const name = asciiLowerCase(StringPrototypeSlice(s, i, k));
      i = k;
      if (i < s.length && s[i] === ';') continue;
      if (i >= s.length) break;
      i++; // '='
      let value;
      if (s[i] === '"') {
        value = '';
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        while (i < s.length && s[i] !== ';') i++;
      } else {
        k = i;
        while (k < s.length && s[k] !== ';') k++;
        value = trimHttpWs(StringPrototypeSlice(s, i, k));
        i = k;
        if (value === '') continue;
      }
      if (name !== '' && isHttpToken(name) && RegExpPrototypeTest(QUOTED_OK_RE, value) && !(name in seen)) {
        seen[name] = true;
        params[params.length] = pair(name, value);
        text += ';' + name + '=' + (value !== '' && isHttpToken(value) ? value
          : '"' + StringPrototypeReplace(value, /["\\]/g, '\\$&') + '"');
      }
    }
    return { essence, params, text };
  }

  function mimeParam(mime, name) {
    for (let i = 0; i < mime.params.length; i++) if (mime.params[i][0] === name) return mime.params[i][1];
    return undefined;
  }

  // A Content-Disposition parameter (quoted or token), case-insensitive name.
  function dispositionParam(s, name) {
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
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      let v = '';
      if (s[j] === '"') {
        j++;
        while (j < s.length && s[j] !== '"') {
          if (s[j] === '\\' && j + 1 < s.length && (s[j + 1] === '"' || s[j + 1] === '\\')) j++;
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

  const skipPadding = (data, at) => {
    while (data[at] === ' ' || data[at] === '\t') at++;
    return at;
  };

  // Parse a multipart/form-data body (a binary string; `delim` is "--" + the
  // boundary's UTF-8 bytes as a binary string) -> entry list. Strict like the
  // Fetch Standard's parser: no preamble, CRLF-terminated header lines, a
  // Content-Disposition with a name in every part, a close delimiter.
  function parseMultipart(data, delim) {
    const list = newList();
    if (StringPrototypeSlice(data, 0, delim.length) !== delim) {
      throw formError('FormData parsing failed: the body does not start with the boundary.');
    }
    let at = delim.length;
    for (;;) {
      if (StringPrototypeSlice(data, at, at + 2) === '--') {
        at = skipPadding(data, at + 2);
        if (at < data.length && StringPrototypeSlice(data, at, at + 2) !== '\r\n') {
          throw formError('FormData parsing failed: junk after the close delimiter.');
        }
        return list;
      }
      at = skipPadding(data, at);
      if (StringPrototypeSlice(data, at, at + 2) !== '\r\n') {
        throw formError('Boundary string was not succeeded by CRLF, LF, or \'--\'.');
      }
      at += 2;
      let name;
      let filename;
      let type = null; // no Content-Type: files are text/plain; an invalid one: ''
      let lines = 0;
      for (;;) {
        const eol = StringPrototypeIndexOf(data, '\r\n', at);
        if (eol < 0) throw formError('No multipart message header termination found.');
        const line = StringPrototypeSlice(data, at, eol);
        at = eol + 2;
        if (line === '') break;
        lines++;
        if (RegExpPrototypeTest(/[\0\r\n]/, line)) throw formError('FormData parsing failed: invalid header line.');
        const colon = StringPrototypeIndexOf(line, ':');
        const key = colon < 0 ? '' : trimAsciiWhitespace(StringPrototypeSlice(line, 0, colon));
        if (!isHttpToken(key)) throw formError('FormData parsing failed: invalid header line.');
        const val = binaryToText(trimAsciiWhitespace(StringPrototypeSlice(line, colon + 1)));
        const lower = asciiLowerCase(key);
        if (lower === 'content-disposition') {
          name = dispositionParam(val, 'name');
          filename = dispositionParam(val, 'filename');
        } else if (lower === 'content-type') {
          // Like Fetch's "extract a MIME type": the last valid value wins.
          const values = StringPrototypeSplit(val, ',');
          let found = false;
          for (let k = 0; k < values.length; k++) {
            const m = parseMimeType(values[k]);
            if (m !== null) {
              type = m.text;
              found = true;
            }
          }
          if (!found && type === null) type = '';
        }
      }
      if (lines === 0 || name === undefined) {
        throw formError('No valid Content-Disposition header found in FormData part.');
      }
      const end = StringPrototypeIndexOf(data, '\r\n' + delim, at);
      if (end < 0) throw formError('No subsequent boundary string after multipart message.');
      const raw = StringPrototypeSlice(data, at, end);
      if (filename === undefined) list[list.length] = pair(name, binaryToText(raw));
      else list[list.length] = pair(name, makeFile(binaryStringToBytes(raw), type, filename));
      at = end + 2 + delim.length;
    }
  }

  // A parsed file part: its type (default text/plain, like browsers), lastModified 0.
  function makeFile(bytes, type, name) {
    const f = new File([], name, { type: type === null ? 'text/plain' : type, lastModified: 0 });
    return blobWithBytes(f, bytes);
  }

  // Body.formData(): bytes (a Uint8Array) and the Content-Type (or null) -> FormData.
  function parseFormDataBody(bytes, contentType) {
    const mime = contentType === null ? null : parseMimeType(contentType);
    const essence = mime === null ? '' : mime.essence;
    if (essence === 'multipart/form-data') {
      const boundary = mimeParam(mime, 'boundary');
      if (boundary === undefined || boundary === '') {
        throw formError('No boundary string in Content-Type header. The multipart/form-data MIME type requires a ' +
          'boundary parameter, e.g. \'Content-Type: multipart/form-data; boundary="abcd"\'. See RFC 7578, section 4.');
      }
      const b = encodeUTF8(boundary, false);
      const delim = '--' + bytesToBinaryString(b, TypedArrayPrototypeGetLength(b));
      return makeFormData(parseMultipart(bytesToBinaryString(bytes, TypedArrayPrototypeGetLength(bytes)), delim));
    }
    if (essence === 'application/x-www-form-urlencoded') {
      return makeFormData(parseFormUrlencoded(utf8DecodeBytes(bytes, TypedArrayPrototypeGetLength(bytes))));
    }
    throw formError('Unrecognized Content-Type header value. FormData can only parse the following MIME types: ' +
      'multipart/form-data, application/x-www-form-urlencoded');
  }

  return { __proto__: null, FormData, entries: formDataEntries, serializeMultipart, parseFormDataBody };
}

defineLazyGlobal('FormData', () => forms().FormData);
