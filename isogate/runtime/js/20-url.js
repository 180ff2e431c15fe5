// URL and URLSearchParams: a compact implementation of the WHATWG URL Standard
// (basic URL parser with state override, host parsing with IPv4/IPv6, serialisers,
// setters, application/x-www-form-urlencoded). A non-ASCII domain goes through UTS #46
// ToASCII (21-idna.js, tables generated from the idna package).
//
// Hand-written rather than bundled: whatwg-url needs tr46's ~250 KB mapping
// table and core-js's URL pulls in its polyfill runtime; both exceed the
// prelude's size budget.

// ---- code point sets -----------------------------------------------------------

const inC0ControlSet = (c) => c < 0x20 || c > 0x7e;
const inFragmentSet = (c) => inC0ControlSet(c) || c === 0x20 || c === 0x22 || c === 0x3c ||
  c === 0x3e || c === 0x60;
const inQuerySet = (c) => inC0ControlSet(c) || c === 0x20 || c === 0x22 || c === 0x23 ||
  c === 0x3c || c === 0x3e;
const inSpecialQuerySet = (c) => inQuerySet(c) || c === 0x27;
// The path set as workerd (Ada) applies it: '^' is encoded, '|' is left as it is.
const inPathSet = (c) => inQuerySet(c) || c === 0x3f || c === 0x5e || c === 0x60 || c === 0x7b || c === 0x7d;
const inUserinfoSet = (c) => inPathSet(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d ||
  c === 0x40 || (c >= 0x5b && c <= 0x5e) || c === 0x7c;
const inComponentSet = (c) => inUserinfoSet(c) || (c >= 0x24 && c <= 0x26) || c === 0x2b || c === 0x2c;
const inFormSet = (c) => inComponentSet(c) || c === 0x21 || (c >= 0x27 && c <= 0x29) || c === 0x7e;

const HEX = '0123456789ABCDEF';
const isAsciiDigit = (c) => c >= 0x30 && c <= 0x39;
const isAsciiAlpha = (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAsciiHexDigit = (c) => isAsciiDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexValue = (c) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
const String_fromCodePoint = String.fromCodePoint;

function percentEncodeByte(b) {
  return '%' + HEX[b >> 4] + HEX[b & 15];
}

// UTF-8 percent-encode one code point if it is in `set`.
function percentEncodeCodePoint(c, set) {
  if (!set(c)) return String_fromCodePoint(c);
  if (c < 0x80) return percentEncodeByte(c);
  if (c < 0x800) return percentEncodeByte(0xc0 | (c >> 6)) + percentEncodeByte(0x80 | (c & 0x3f));
  if (c < 0x10000) {
    return percentEncodeByte(0xe0 | (c >> 12)) + percentEncodeByte(0x80 | ((c >> 6) & 0x3f)) +
      percentEncodeByte(0x80 | (c & 0x3f));
  }
  return percentEncodeByte(0xf0 | (c >> 18)) + percentEncodeByte(0x80 | ((c >> 12) & 0x3f)) +
    percentEncodeByte(0x80 | ((c >> 6) & 0x3f)) + percentEncodeByte(0x80 | (c & 0x3f));
}

function percentEncodeString(s, set, spaceAsPlus) {
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = StringPrototypeCodePointAt(s, i);
    if (c > 0xffff) i++;
    if (spaceAsPlus && c === 0x20) out += '+';
    else out += percentEncodeCodePoint(c, set);
  }
  return out;
}

// Percent-decode a string (after UTF-8 encoding it) into bytes.
function percentDecodeToBytes(s) {
  const bytes = encodeUTF8(s, false);
  const n = TypedArrayPrototypeGetLength(bytes);
  const out = new Uint8Array_(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < n && isAsciiHexDigit(bytes[i + 1]) && isAsciiHexDigit(bytes[i + 2])) {
      out[j++] = (hexValue(bytes[i + 1]) << 4) | hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[j++] = b;
    }
  }
  return { bytes: out, length: j };
}

function percentDecodeToString(s) {
  const d = percentDecodeToBytes(s);
  return utf8DecodeBytes(d.bytes, d.length);
}

// ---- schemes ----------------------------------------------------------------------

const SPECIAL_PORTS = { __proto__: null, 'ftp': 21, 'file': null, 'http': 80, 'https': 443, 'ws': 80, 'wss': 443 };
const isSpecialScheme = (s) => s in SPECIAL_PORTS;
const defaultPort = (s) => (s in SPECIAL_PORTS ? SPECIAL_PORTS[s] : null);

// ---- hosts ----------------------------------------------------------------------------

const isForbiddenHost = (c) => c === 0 || c === 9 || c === 0xa || c === 0xd || c === 0x20 ||
  c === 0x23 || c === 0x2f || c === 0x3a || c === 0x3c || c === 0x3e || c === 0x3f || c === 0x40 ||
  c === 0x5b || c === 0x5c || c === 0x5d || c === 0x5e || c === 0x7c;
const isForbiddenDomain = (c) => isForbiddenHost(c) || c <= 0x1f || c === 0x25 || c === 0x7f;

function isAsciiString(s) {
  for (let i = 0; i < s.length; i++) if (StringPrototypeCharCodeAt(s, i) >= 0x80) return false;
  return true;
}

// The URL Standard's "domain to ASCII" (beStrict false), or null on failure. An ASCII
// domain is only lowercased, xn-- labels included (they are not decoded or checked);
// any other goes through UTS #46 ToASCII.
function domainToASCII(domain) {
  const result = isAsciiString(domain) ? StringPrototypeToLowerCase(domain) : uts46ToASCII(domain);
  if (result === null || result === '') return null;
  for (let i = 0; i < result.length; i++) {
    if (isForbiddenDomain(StringPrototypeCharCodeAt(result, i))) return null;
  }
  return result;
}

// IPv4 number parser: a number, or -1 on failure.
function parseIPv4Number(s) {
  if (s === '') return -1;
  let radix = 10;
  let i = 0;
  if (s.length >= 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) {
    radix = 16;
    i = 2;
  } else if (s.length >= 2 && s[0] === '0') {
    radix = 8;
    i = 1;
  }
  if (i === s.length) return 0;
  let v = 0;
  for (; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    let d;
    if (radix === 16 && isAsciiHexDigit(c)) d = hexValue(c);
    else if (isAsciiDigit(c) && c - 0x30 < radix) d = c - 0x30;
    else return -1;
    v = v * radix + d;
  }
  return v;
}

function splitDots(s) {
  return StringPrototypeSplit(s, '.');
}

function endsInANumber(s) {
  const parts = splitDots(s);
  let n = parts.length;
  if (parts[n - 1] === '') {
    if (n === 1) return false;
    n--;
  }
  const last = parts[n - 1];
  if (last !== '') {
    let digits = true;
    for (let i = 0; i < last.length; i++) if (!isAsciiDigit(StringPrototypeCharCodeAt(last, i))) digits = false;
    if (digits) return true;
  }
  return parseIPv4Number(last) >= 0;
}

// -> serialised IPv4 string, or null on failure.
function parseIPv4(s) {
  const parts = splitDots(s);
  let n = parts.length;
  if (parts[n - 1] === '' && n > 1) n--;
  if (n > 4) return null;
  const nums = newList();
  for (let i = 0; i < n; i++) {
    const v = parseIPv4Number(parts[i]);
    if (v < 0) return null;
    nums[i] = v;
  }
  for (let i = 0; i < n - 1; i++) if (nums[i] > 255) return null;
  if (nums[n - 1] >= 256 ** (5 - n)) return null;
  let ipv4 = nums[n - 1];
  for (let i = 0; i < n - 1; i++) ipv4 += nums[i] * 256 ** (3 - i);
  let out = '';
  for (let i = 3; i >= 0; i--) {
    out += (i < 3 ? '.' : '') + Math_floor(ipv4 / 256 ** i) % 256;
  }
  return out;
}

// IPv6 parser over a string (without brackets) -> serialised "[...]" or null.
function parseIPv6(s) {
  const address = new Uint16Array_(8);
  let piece = 0;
  let compress = -1;
  let p = 0;
  const n = s.length;
  const at = (i) => (i < n ? StringPrototypeCharCodeAt(s, i) : -1);
  if (at(p) === 0x3a) {
    if (at(p + 1) !== 0x3a) return null;
    p += 2;
    piece++;
    compress = piece;
  }
  while (at(p) !== -1) {
    if (piece === 8) return null;
    if (at(p) === 0x3a) {
      if (compress !== -1) return null;
      p++;
      piece++;
      compress = piece;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && isAsciiHexDigit(at(p))) {
      value = value * 16 + hexValue(at(p));
      p++;
      length++;
    }
    if (at(p) === 0x2e) {
      if (length === 0) return null;
      p -= length;
      if (piece > 6) return null;
      let numbersSeen = 0;
      while (at(p) !== -1) {
        let ipv4Piece = -1;
        if (numbersSeen > 0) {
          if (at(p) === 0x2e && numbersSeen < 4) p++;
          else return null;
        }
        if (!isAsciiDigit(at(p))) return null;
        while (isAsciiDigit(at(p))) {
          const number = at(p) - 0x30;
          if (ipv4Piece === -1) ipv4Piece = number;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return null;
          p++;
        }
        address[piece] = address[piece] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) piece++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (at(p) === 0x3a) {
      p++;
      if (at(p) === -1) return null;
    } else if (at(p) !== -1) {
      return null;
    }
    address[piece] = value;
    piece++;
  }
  if (compress !== -1) {
    let swaps = piece - compress;
    piece = 7;
    while (piece !== 0 && swaps > 0) {
      const t = address[compress + swaps - 1];
      address[compress + swaps - 1] = address[piece];
      address[piece] = t;
      piece--;
      swaps--;
    }
  } else if (piece !== 8) {
    return null;
  }
  // Serialise: compress the first longest run of two or more zero pieces.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '[';
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (best === i) {
      out += i === 0 ? '::' : ':';
      ignore0 = true;
      continue;
    }
    out += NumberPrototypeToString(address[i], 16);
    if (i !== 7) out += ':';
  }
  return out + ']';
}

// host parser -> serialised host string, or null on failure.
function parseHost(input, isOpaque) {
  if (input[0] === '[') {
    if (input[input.length - 1] !== ']') return null;
    return parseIPv6(StringPrototypeSlice(input, 1, -1));
  }
  if (isOpaque) {
    for (let i = 0; i < input.length; i++) {
      if (isForbiddenHost(StringPrototypeCharCodeAt(input, i))) return null;
    }
    return percentEncodeString(input, inC0ControlSet, false);
  }
  const domain = percentDecodeToString(input);
  const ascii = domainToASCII(domain);
  if (ascii === null) return null;
  if (endsInANumber(ascii)) return parseIPv4(ascii);
  return ascii;
}

// ---- the URL record and the basic URL parser -----------------------------------------

function newURLRecord() {
  return {
    __proto__: null,
    scheme: '',
    username: '',
    password: '',
    host: null,
    port: null,
    path: newList(),
    opaque: false, // path is an opaque string
    query: null,
    fragment: null,
  };
}

function copyPath(path) {
  const out = newList();
  for (let i = 0; i < path.length; i++) out[i] = path[i];
  return out;
}

const isWindowsDriveLetter = (s) => s.length === 2 && isAsciiAlpha(StringPrototypeCharCodeAt(s, 0)) &&
  (s[1] === ':' || s[1] === '|');
const isNormalizedWindowsDriveLetter = (s) => isWindowsDriveLetter(s) && s[1] === ':';

function startsWithWindowsDriveLetter(cps, p) {
  if (cps.length - p < 2) return false;
  if (!isAsciiAlpha(cps[p]) || (cps[p + 1] !== 0x3a && cps[p + 1] !== 0x7c)) return false;
  if (cps.length - p === 2) return true;
  const c = cps[p + 2];
  return c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23;
}

function shortenPath(url) {
  const path = url.path;
  if (url.scheme === 'file' && path.length === 1 && isNormalizedWindowsDriveLetter(path[0])) return;
  if (path.length) path.length--;
}

const isSingleDot = (s) => s === '.' || StringPrototypeToLowerCase(s) === '%2e';
function isDoubleDot(s) {
  if (s.length !== 2 && s.length !== 4 && s.length !== 6) return false;
  const l = StringPrototypeToLowerCase(s);
  return l === '..' || l === '.%2e' || l === '%2e.' || l === '%2e%2e';
}

const S_SCHEME_START = 1;
const S_SCHEME = 2;
const S_NO_SCHEME = 3;
const S_SPECIAL_RELATIVE_OR_AUTHORITY = 4;
const S_PATH_OR_AUTHORITY = 5;
const S_RELATIVE = 6;
const S_RELATIVE_SLASH = 7;
const S_SPECIAL_AUTHORITY_SLASHES = 8;
const S_SPECIAL_AUTHORITY_IGNORE_SLASHES = 9;
const S_AUTHORITY = 10;
const S_HOST = 11;
const S_HOSTNAME = 12;
const S_PORT = 13;
const S_FILE = 14;
const S_FILE_SLASH = 15;
const S_FILE_HOST = 16;
const S_PATH_START = 17;
const S_PATH = 18;
const S_OPAQUE_PATH = 19;
const S_QUERY = 20;
const S_FRAGMENT = 21;

const EOF = -1;

// The basic URL parser. Returns the URL record (`url` itself when a state
// override is given), or null on failure. With a state override, returning
// `url` unchanged is the standard's plain "return".
function basicURLParse(input, base, url, stateOverride) {
  // Strip leading/trailing C0 controls and spaces (only without a URL given),
  // remove all tabs and newlines, split into code points.
  let a = 0;
  let b = input.length;
  if (!url) {
    while (a < b && StringPrototypeCharCodeAt(input, a) <= 0x20) a++;
    while (b > a && StringPrototypeCharCodeAt(input, b - 1) <= 0x20) b--;
  }
  const cps = newList();
  for (let i = a; i < b; i++) {
    const c = StringPrototypeCodePointAt(input, i);
    if (c > 0xffff) i++;
    if (c === 9 || c === 0xa || c === 0xd) continue;
    cps[cps.length] = c;
  }
  if (!url) url = newURLRecord();
  let state = stateOverride || S_SCHEME_START;
  let buffer = '';
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  const len = cps.length;
  const remainingStartsWith = (p, c) => p + 1 < len && cps[p + 1] === c;

  for (let p = 0; ; p++) {
    const c = p < len ? cps[p] : EOF;
    const special = isSpecialScheme(url.scheme);
    switch (state) {
      case S_SCHEME_START:
        if (isAsciiAlpha(c)) {
          buffer += String_fromCharCode(c | 0x20);
          state = S_SCHEME;
        } else if (!stateOverride) {
          state = S_NO_SCHEME;
          p--;
        } else {
          return null;
        }
        break;
      case S_SCHEME:
        if (isAsciiAlpha(c) || isAsciiDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) {
          buffer += String_fromCharCode(isAsciiAlpha(c) ? c | 0x20 : c);
        } else if (c === 0x3a) {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((url.username !== '' || url.password !== '' || url.port !== null) && buffer === 'file') return url;
            if (url.scheme === 'file' && url.host === '') return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === defaultPort(url.scheme)) url.port = null;
            return url;
          }
          buffer = '';
          if (url.scheme === 'file') {
            state = S_FILE;
          } else if (isSpecialScheme(url.scheme) && base && base.scheme === url.scheme) {
            state = S_SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (isSpecialScheme(url.scheme)) {
            state = S_SPECIAL_AUTHORITY_SLASHES;
          } else if (remainingStartsWith(p, 0x2f)) {
            state = S_PATH_OR_AUTHORITY;
            p++;
          } else {
            url.path = '';
            url.opaque = true;
            state = S_OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = '';
          state = S_NO_SCHEME;
          p = -1;
        } else {
          return null;
        }
        break;
      case S_NO_SCHEME:
        if (!base || (base.opaque && c !== 0x23)) return null;
        if (base.opaque && c === 0x23) {
          url.scheme = base.scheme;
          url.path = base.path;
          url.opaque = true;
          url.query = base.query;
          url.fragment = '';
          state = S_FRAGMENT;
        } else if (base.scheme !== 'file') {
          state = S_RELATIVE;
          p--;
        } else {
          state = S_FILE;
          p--;
        }
        break;
      case S_SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === 0x2f && remainingStartsWith(p, 0x2f)) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S_RELATIVE;
          p--;
        }
        break;
      case S_PATH_OR_AUTHORITY:
        if (c === 0x2f) {
          state = S_AUTHORITY;
        } else {
          state = S_PATH;
          p--;
        }
        break;
      case S_RELATIVE:
        url.scheme = base.scheme;
        if (c === 0x2f || (isSpecialScheme(url.scheme) && c === 0x5c)) {
          state = S_RELATIVE_SLASH;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = copyPath(base.path);
          url.query = base.query;
          if (c === 0x3f) {
            url.query = '';
            state = S_QUERY;
          } else if (c === 0x23) {
            url.fragment = '';
            state = S_FRAGMENT;
          } else if (c !== EOF) {
            url.query = null;
            shortenPath(url);
            state = S_PATH;
            p--;
          }
        }
        break;
      case S_RELATIVE_SLASH:
        if (special && (c === 0x2f || c === 0x5c)) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
        } else if (c === 0x2f) {
          state = S_AUTHORITY;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = S_PATH;
          p--;
        }
        break;
      case S_SPECIAL_AUTHORITY_SLASHES:
        if (c === 0x2f && remainingStartsWith(p, 0x2f)) {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = S_SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p--;
        }
        break;
      case S_SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== 0x2f && c !== 0x5c) {
          state = S_AUTHORITY;
          p--;
        }
        break;
      case S_AUTHORITY:
        if (c === 0x40) {
          if (atSignSeen) buffer = '%40' + buffer;
          atSignSeen = true;
          for (let i = 0; i < buffer.length; i++) {
            const bc = StringPrototypeCodePointAt(buffer, i);
            if (bc > 0xffff) i++;
            if (bc === 0x3a && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            const enc = percentEncodeCodePoint(bc, inUserinfoSet);
            if (passwordTokenSeen) url.password += enc;
            else url.username += enc;
          }
          buffer = '';
        } else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special && c === 0x5c)) {
          if (atSignSeen && buffer === '') return null;
          // Go back by the code points of buffer, plus one.
          let back = 0;
          for (let i = 0; i < buffer.length; i++) {
            if (StringPrototypeCodePointAt(buffer, i) > 0xffff) i++;
            back++;
          }
          p -= back + 1;
          buffer = '';
          state = S_HOST;
        } else {
          buffer += String_fromCodePoint(c);
        }
        break;
      case S_HOST:
      case S_HOSTNAME:
        if (stateOverride && url.scheme === 'file') {
          p--;
          state = S_FILE_HOST;
        } else if (c === 0x3a && !insideBrackets) {
          if (buffer === '') return null;
          if (stateOverride === S_HOSTNAME) return url;
          const host = parseHost(buffer, !special);
          if (host === null) return null;
          url.host = host;
          buffer = '';
          state = S_PORT;
        } else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special && c === 0x5c)) {
          p--;
          if (special && buffer === '') return null;
          if (stateOverride && buffer === '' &&
            (url.username !== '' || url.password !== '' || url.port !== null)) return url;
          const host = parseHost(buffer, !special);
          if (host === null) return null;
          url.host = host;
          buffer = '';
          state = S_PATH_START;
          if (stateOverride) return url;
        } else {
          if (c === 0x5b) insideBrackets = true;
          if (c === 0x5d) insideBrackets = false;
          buffer += String_fromCodePoint(c);
        }
        break;
      case S_PORT:
        if (isAsciiDigit(c)) {
          buffer += String_fromCharCode(c);
        } else if (c === EOF || c === 0x2f || c === 0x3f || c === 0x23 || (special && c === 0x5c) ||
          stateOverride) {
          if (buffer !== '') {
            let port = 0;
            for (let i = 0; i < buffer.length; i++) {
              port = port * 10 + (StringPrototypeCharCodeAt(buffer, i) - 0x30);
              if (port > 65535) return null;
            }
            url.port = port === defaultPort(url.scheme) ? null : port;
            buffer = '';
          }
          if (stateOverride) return url;
          state = S_PATH_START;
          p--;
        } else {
          return null;
        }
        break;
      case S_FILE:
        url.scheme = 'file';
        url.host = '';
        if (c === 0x2f || c === 0x5c) {
          state = S_FILE_SLASH;
        } else if (base && base.scheme === 'file') {
          url.host = base.host;
          url.path = copyPath(base.path);
          url.query = base.query;
          if (c === 0x3f) {
            url.query = '';
            state = S_QUERY;
          } else if (c === 0x23) {
            url.fragment = '';
            state = S_FRAGMENT;
          } else if (c !== EOF) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, p)) shortenPath(url);
            else url.path = newList();
            state = S_PATH;
            p--;
          }
        } else {
          state = S_PATH;
          p--;
        }
        break;
      case S_FILE_SLASH:
        if (c === 0x2f || c === 0x5c) {
          state = S_FILE_HOST;
        } else {
          if (base && base.scheme === 'file') {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, p) && base.path.length &&
              isNormalizedWindowsDriveLetter(base.path[0])) {
              url.path[url.path.length] = base.path[0];
            }
          }
          state = S_PATH;
          p--;
        }
        break;
      case S_FILE_HOST:
        if (c === EOF || c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23) {
          p--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = S_PATH;
          } else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = S_PATH_START;
          } else {
            let host = parseHost(buffer, false);
            if (host === null) return null;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = S_PATH_START;
          }
        } else {
          buffer += String_fromCodePoint(c);
        }
        break;
      case S_PATH_START:
        if (special) {
          state = S_PATH;
          if (c !== 0x2f && c !== 0x5c) p--;
        } else if (!stateOverride && c === 0x3f) {
          url.query = '';
          state = S_QUERY;
        } else if (!stateOverride && c === 0x23) {
          url.fragment = '';
          state = S_FRAGMENT;
        } else if (c !== EOF) {
          state = S_PATH;
          if (c !== 0x2f) p--;
        } else if (stateOverride && url.host === null) {
          url.path[url.path.length] = '';
        }
        break;
      case S_PATH:
        if (c === EOF || c === 0x2f || (special && c === 0x5c) ||
          (!stateOverride && (c === 0x3f || c === 0x23))) {
          const slash = c === 0x2f || (special && c === 0x5c);
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) url.path[url.path.length] = '';
          } else if (isSingleDot(buffer) && !slash) {
            url.path[url.path.length] = '';
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === 'file' && url.path.length === 0 && isWindowsDriveLetter(buffer)) {
              buffer = buffer[0] + ':';
            }
            url.path[url.path.length] = buffer;
          }
          buffer = '';
          if (c === 0x3f) {
            url.query = '';
            state = S_QUERY;
          }
          if (c === 0x23) {
            url.fragment = '';
            state = S_FRAGMENT;
          }
        } else {
          buffer += percentEncodeCodePoint(c, inPathSet);
        }
        break;
      case S_OPAQUE_PATH:
        if (c === 0x3f) {
          url.query = '';
          state = S_QUERY;
        } else if (c === 0x23) {
          url.fragment = '';
          state = S_FRAGMENT;
        } else if (c === 0x20 && (remainingStartsWith(p, 0x3f) || remainingStartsWith(p, 0x23))) {
          // a space before the query or fragment is encoded, so that removing them
          // (search = '', hash = '') leaves no trailing space in the opaque path
          url.path += '%20';
        } else if (c !== EOF) {
          url.path += percentEncodeCodePoint(c, inC0ControlSet);
        }
        break;
      case S_QUERY:
        if ((!stateOverride && c === 0x23) || c === EOF) {
          url.query += percentEncodeString(buffer, special ? inSpecialQuerySet : inQuerySet, false);
          buffer = '';
          if (c === 0x23) {
            url.fragment = '';
            state = S_FRAGMENT;
          }
        } else if (c !== EOF) {
          buffer += String_fromCodePoint(c);
        }
        break;
      case S_FRAGMENT:
        if (c !== EOF) url.fragment += percentEncodeCodePoint(c, inFragmentSet);
        break;
    }
    // The standard: stop once a run ended with the pointer at EOF; a state
    // that decremented the pointer at EOF gets another run.
    if (p >= len) break;
  }
  return url;
}

function serializePath(url) {
  if (url.opaque) return url.path;
  let out = '';
  for (let i = 0; i < url.path.length; i++) out += '/' + url.path[i];
  return out;
}

function serializeURL(url, excludeFragment) {
  let out = url.scheme + ':';
  if (url.host !== null) {
    out += '//';
    if (url.username !== '' || url.password !== '') {
      out += url.username;
      if (url.password !== '') out += ':' + url.password;
      out += '@';
    }
    out += url.host;
    if (url.port !== null) out += ':' + url.port;
  }
  if (url.host === null && !url.opaque && url.path.length > 1 && url.path[0] === '') out += '/.';
  out += serializePath(url);
  if (url.query !== null) out += '?' + url.query;
  if (!excludeFragment && url.fragment !== null) out += '#' + url.fragment;
  return out;
}

function serializeOrigin(url) {
  const s = url.scheme;
  if (s === 'blob') {
    const inner = basicURLParse(serializePath(url), null, null, 0);
    if (inner && (inner.scheme === 'http' || inner.scheme === 'https')) return serializeOrigin(inner);
    return 'null';
  }
  if (s === 'ftp' || s === 'http' || s === 'https' || s === 'ws' || s === 'wss') {
    return s + '://' + url.host + (url.port !== null ? ':' + url.port : '');
  }
  return 'null';
}

const cannotHaveCredentialsOrPort = (url) => url.host === null || url.host === '' || url.scheme === 'file';

// ---- application/x-www-form-urlencoded ---------------------------------------------

// -> null-prototype list of [name, value] lists.
function parseFormUrlencoded(s) {
  const out = newList();
  const parts = StringPrototypeSplit(s, '&');
  for (let i = 0; i < parts.length; i++) {
    const seq = parts[i];
    if (seq === '') continue;
    const eq = StringPrototypeIndexOf(seq, '=');
    let name = eq >= 0 ? StringPrototypeSlice(seq, 0, eq) : seq;
    let value = eq >= 0 ? StringPrototypeSlice(seq, eq + 1) : '';
    name = percentDecodeToString(StringPrototypeReplace(name, /\+/g, ' '));
    value = percentDecodeToString(StringPrototypeReplace(value, /\+/g, ' '));
    out[out.length] = pair(name, value);
  }
  return out;
}

function pair(a, b) {
  const p = newList();
  p[0] = a;
  p[1] = b;
  return p;
}

function serializeFormUrlencoded(list) {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    if (i) out += '&';
    out += percentEncodeString(list[i][0], inFormSet, true) + '=' +
      percentEncodeString(list[i][1], inFormSet, true);
  }
  return out;
}

// WebIDL attributes and operations are enumerable (workerd's are too); class members
// are not, so they are redefined once the class exists.
function enumerableMembers(proto) {
  const names = Object_getOwnPropertyNames(proto);
  for (let i = 0; i < names.length; i++) {
    if (names[i] === 'constructor') continue;
    const d = Object_getOwnPropertyDescriptor(proto, names[i]);
    d.enumerable = true;
    Object_defineProperty(proto, names[i], d);
  }
}

// ---- URLSearchParams -------------------------------------------------------------------

// Shared iterator machinery for Headers and URLSearchParams: live, index-based
// iterators over a snapshot function, with the prototype chain browsers use.
const IteratorPrototype = Object_getPrototypeOf(Object_getPrototypeOf([][Symbol_iterator]()));
function makeIteratorClass() {
  // kind: 0 keys, 1 values, 2 entries; source(i) -> [k, v] or undefined.
  const proto = Object_create(IteratorPrototype);
  const states = new WeakMap_();
  const WeakMapGet = uncurryThis(WeakMap.prototype.get);
  const WeakMapSet = uncurryThis(WeakMap.prototype.set);
  Object_defineProperty(proto, 'next', {
    value: function next() {
      const st = WeakMapGet(states, this);
      if (st === undefined) throw new TypeError_('Illegal invocation');
      const entry = st.source(st.index);
      if (entry === undefined) return { value: undefined, done: true };
      st.index++;
      const value = st.kind === 0 ? entry[0] : st.kind === 1 ? entry[1] : [entry[0], entry[1]];
      return { value, done: false };
    },
    writable: true, enumerable: true, configurable: true,
  });
  return (source, kind) => {
    const it = Object_create(proto);
    WeakMapSet(states, it, { __proto__: null, source, kind, index: 0 });
    return it;
  };
}
const makeSearchParamsIterator = makeIteratorClass();

// Is v iterable (has a callable @@iterator)? Used to tell sequences from records.
function getIteratorMethod(v) {
  const m = v[Symbol_iterator];
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'function') throw new TypeError_('Symbol.iterator is not a function');
  return m;
}

let urlUpdateQuery; // (url object, serialised query or null) -> void, set by URL
let searchParamsFromURL; // (URL object, query) -> URLSearchParams, set below
let searchParamsSetList; // (params, list) -> void
let serializeSearchParams; // (params) -> string, or undefined when not a URLSearchParams

class URLSearchParams {
  #list = newList();
  #url = null;
  constructor(init = '') {
    if (init !== null && (typeof init === 'object' || typeof init === 'function')) {
      const iter = getIteratorMethod(init);
      if (iter !== undefined) {
        for (const p of { [Symbol_iterator]: () => call(iter, init) }) {
          if (p === null || (typeof p !== 'object' && typeof p !== 'function')) {
            throw new TypeError_('Each query pair must be an iterable [name, value] tuple');
          }
          const items = newList(); // no Array.prototype setters
          for (const x of p) items[items.length] = x;
          if (items.length !== 2) {
            throw new TypeError_('Each query pair must be an iterable [name, value] tuple');
          }
          this.#list[this.#list.length] = pair(toUSVString(items[0]), toUSVString(items[1]));
        }
      } else {
        // WebIDL record<USVString, USVString>: two keys that differ only in lone
        // surrogates become one (U+FFFD), which keeps its place and takes the later value.
        const keys = Reflect_ownKeys(init);
        const at = Object_create(null);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (typeof k !== 'string') continue;
          const d = Object_getOwnPropertyDescriptor(init, k);
          if (d === undefined || !d.enumerable) continue;
          const name = toUSVString(k);
          const value = toUSVString(init[k]);
          const list = this.#list;
          if (name in at) list[at[name]] = pair(name, value);
          else list[at[name] = list.length] = pair(name, value);
        }
      }
    } else {
      let s = toUSVString(init);
      if (s[0] === '?') s = StringPrototypeSlice(s, 1);
      this.#list = parseFormUrlencoded(s);
    }
  }
  #update() {
    if (this.#url !== null) {
      const q = serializeFormUrlencoded(this.#list);
      urlUpdateQuery(this.#url, q === '' ? null : q);
    }
  }
  get size() {
    return this.#list.length;
  }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError_("Failed to execute 'append' on 'URLSearchParams': 2 arguments required.");
    this.#list[this.#list.length] = pair(toUSVString(name), toUSVString(value));
    this.#update();
  }
  delete(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'delete' on 'URLSearchParams': 1 argument required.");
    name = toUSVString(name);
    if (value !== undefined) value = toUSVString(value);
    const out = newList();
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name && (value === undefined || list[i][1] === value)) continue;
      out[out.length] = list[i];
    }
    this.#list = out;
    this.#update();
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'get' on 'URLSearchParams': 1 argument required.");
    name = toUSVString(name);
    const list = this.#list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === name) return list[i][1];
    return null;
  }
  getAll(name) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'getAll' on 'URLSearchParams': 1 argument required.");
    name = toUSVString(name);
    const out = [];
    const list = this.#list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === name) out[out.length] = list[i][1];
    return out;
  }
  has(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'has' on 'URLSearchParams': 1 argument required.");
    name = toUSVString(name);
    if (value !== undefined) value = toUSVString(value);
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name && (value === undefined || list[i][1] === value)) return true;
    }
    return false;
  }
  set(name, value) {
    if (arguments.length < 2) throw new TypeError_("Failed to execute 'set' on 'URLSearchParams': 2 arguments required.");
    name = toUSVString(name);
    value = toUSVString(value);
    const out = newList();
    const list = this.#list;
    let found = false;
    for (let i = 0; i < list.length; i++) {
      if (list[i][0] === name) {
        if (found) continue;
        found = true;
        out[out.length] = pair(name, value);
      } else {
        out[out.length] = list[i];
      }
    }
    if (!found) out[out.length] = pair(name, value);
    this.#list = out;
    this.#update();
  }
  sort() {
    // Stable insertion sort by code units of the name.
    const list = this.#list;
    for (let i = 1; i < list.length; i++) {
      const x = list[i];
      let j = i - 1;
      while (j >= 0 && list[j][0] > x[0]) {
        list[j + 1] = list[j];
        j--;
      }
      list[j + 1] = x;
    }
    this.#update();
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') {
      throw new TypeError_("Failed to execute 'forEach' on 'URLSearchParams': parameter 1 is not of type 'Function'.");
    }
    for (let i = 0; i < this.#list.length; i++) {
      const p = this.#list[i];
      call(callback, thisArg, p[1], p[0], this);
    }
  }
  #source() {
    return (i) => (i < this.#list.length ? this.#list[i] : undefined);
  }
  entries() {
    return makeSearchParamsIterator(this.#source(), 2);
  }
  keys() {
    return makeSearchParamsIterator(this.#source(), 0);
  }
  values() {
    return makeSearchParamsIterator(this.#source(), 1);
  }
  toString() {
    return serializeFormUrlencoded(this.#list);
  }
  static {
    searchParamsFromURL = (urlObj, query) => {
      const p = new URLSearchParams();
      p.#list = query === null ? newList() : parseFormUrlencoded(query);
      p.#url = urlObj;
      return p;
    };
    searchParamsSetList = (p, query) => {
      p.#list = query === null ? newList() : parseFormUrlencoded(query);
    };
    // Body extraction (40-body.js) reads the list directly.
    serializeSearchParams = (p) => (#list in p ? serializeFormUrlencoded(p.#list) : undefined);
  }
}
Object_defineProperty(URLSearchParams.prototype, Symbol_iterator, {
  value: URLSearchParams.prototype.entries, writable: true, enumerable: false, configurable: true,
});
enumerableMembers(URLSearchParams.prototype);
defineGlobal('URLSearchParams', URLSearchParams);

// ---- URL ----------------------------------------------------------------------------------

let urlRecordOf; // (URL object) -> record or undefined, for Request/Response

class URL {
  #url;
  #params = null;
  constructor(url = undefined, base = undefined) {
    if (arguments.length < 1) throw new TypeError_("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const input = toUSVString(url);
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = basicURLParse(toUSVString(base), null, null, 0);
      if (baseRecord === null) throw new TypeError_('Invalid base URL string.');
    }
    const record = basicURLParse(input, baseRecord, null, 0);
    if (record === null) throw new TypeError_('Invalid URL string.');
    this.#url = record;
  }
  static canParse(url, base = undefined) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = basicURLParse(toUSVString(base), null, null, 0);
      if (baseRecord === null) return false;
    }
    return basicURLParse(toUSVString(url), baseRecord, null, 0) !== null;
  }
  static parse(url, base = undefined) {
    if (arguments.length < 1) throw new TypeError_("Failed to execute 'parse' on 'URL': 1 argument required, but only 0 present.");
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }
  get href() {
    return serializeURL(this.#url, false);
  }
  set href(value) {
    const record = basicURLParse(toUSVString(value), null, null, 0);
    if (record === null) throw new TypeError_('Invalid URL string.');
    this.#url = record;
    if (this.#params !== null) searchParamsSetList(this.#params, record.query);
  }
  get origin() {
    return serializeOrigin(this.#url);
  }
  get protocol() {
    return this.#url.scheme + ':';
  }
  set protocol(value) {
    basicURLParse(toUSVString(value) + ':', null, this.#url, S_SCHEME_START);
  }
  get username() {
    return this.#url.username;
  }
  set username(value) {
    const url = this.#url;
    if (cannotHaveCredentialsOrPort(url)) return;
    url.username = percentEncodeString(toUSVString(value), inUserinfoSet, false);
  }
  get password() {
    return this.#url.password;
  }
  set password(value) {
    const url = this.#url;
    if (cannotHaveCredentialsOrPort(url)) return;
    url.password = percentEncodeString(toUSVString(value), inUserinfoSet, false);
  }
  get host() {
    const url = this.#url;
    if (url.host === null) return '';
    return url.port === null ? url.host : url.host + ':' + url.port;
  }
  set host(value) {
    if (this.#url.opaque) return;
    this.#setWith(toUSVString(value), S_HOST);
  }
  get hostname() {
    return this.#url.host === null ? '' : this.#url.host;
  }
  set hostname(value) {
    if (this.#url.opaque) return;
    this.#setWith(toUSVString(value), S_HOSTNAME);
  }
  get port() {
    return this.#url.port === null ? '' : '' + this.#url.port;
  }
  set port(value) {
    const url = this.#url;
    if (cannotHaveCredentialsOrPort(url)) return;
    const s = toUSVString(value);
    if (s === '') url.port = null;
    else this.#setWith(s, S_PORT);
  }
  get pathname() {
    return serializePath(this.#url);
  }
  set pathname(value) {
    const url = this.#url;
    if (url.opaque) return;
    const copy = this.#copy();
    copy.path = newList();
    if (basicURLParse(toUSVString(value), null, copy, S_PATH_START) !== null) url.path = copy.path;
  }
  get search() {
    const q = this.#url.query;
    return q === null || q === '' ? '' : '?' + q;
  }
  set search(value) {
    const url = this.#url;
    let s = toUSVString(value);
    if (s === '') {
      url.query = null;
      if (this.#params !== null) searchParamsSetList(this.#params, null);
      return;
    }
    if (s[0] === '?') s = StringPrototypeSlice(s, 1);
    const copy = this.#copy();
    copy.query = '';
    if (basicURLParse(s, null, copy, S_QUERY) !== null) url.query = copy.query;
    if (this.#params !== null) searchParamsSetList(this.#params, url.query);
  }
  get searchParams() {
    if (this.#params === null) this.#params = searchParamsFromURL(this, this.#url.query);
    return this.#params;
  }
  get hash() {
    const f = this.#url.fragment;
    return f === null || f === '' ? '' : '#' + f;
  }
  set hash(value) {
    const url = this.#url;
    let s = toUSVString(value);
    if (s === '') {
      url.fragment = null;
      return;
    }
    if (s[0] === '#') s = StringPrototypeSlice(s, 1);
    const copy = this.#copy();
    copy.fragment = '';
    if (basicURLParse(s, null, copy, S_FRAGMENT) !== null) url.fragment = copy.fragment;
  }
  toString() {
    return serializeURL(this.#url, false);
  }
  toJSON() {
    return serializeURL(this.#url, false);
  }
  // pathname, search and hash parse into a copy and take the one component from it.
  #copy() {
    const u = this.#url;
    const c = newURLRecord();
    c.scheme = u.scheme;
    c.username = u.username;
    c.password = u.password;
    c.host = u.host;
    c.port = u.port;
    c.path = u.opaque ? u.path : copyPath(u.path);
    c.opaque = u.opaque;
    c.query = u.query;
    c.fragment = u.fragment;
    return c;
  }
  // host, hostname and port parse into the URL itself, as the standard does: a host
  // followed by an invalid port ('example.com:65536') is still set.
  #setWith(s, state) {
    basicURLParse(s, null, this.#url, state);
  }
  static {
    urlUpdateQuery = (u, q) => {
      u.#url.query = q;
    };
    urlRecordOf = (u) => (#url in u ? u.#url : undefined);
  }
}
enumerableMembers(URL.prototype);
defineGlobal('URL', URL);

// Parse an absolute URL string (no base) and serialise it, or return null.
function parseAbsoluteURL(s) {
  const record = basicURLParse(s, null, null, 0);
  return record === null ? null : serializeURL(record, false);
}
