// IDNA for URL hosts: Punycode (RFC 3492) and Unicode ToASCII (UTS #46) as the URL
// Standard's "domain to ASCII" runs it for a domain that is not all ASCII:
// CheckHyphens=false, CheckBidi=true, CheckJoiners=true, UseSTD3ASCIIRules=false,
// Transitional_Processing=false, VerifyDnsLength=false, IgnoreInvalidPunycode=false.
//
// The Unicode data (mapping table, Bidi_Class, marks, viramas, Joining_Type) is not
// written here: uts46Tables() is generated from the idna and unicodedata2 packages by
// isogate/runtime/uts46.py (its docstring describes the encoding) and added to the
// prelude by prelude.py. It is first called for the first non-ASCII domain of a
// context; an ASCII host (20-url.js lowercases it) never touches it.

// ---- Punycode (RFC 3492) --------------------------------------------------------------

const PUNYCODE_MAX = 0x7fffffff;

function punycodeAdapt(delta, numPoints, first) {
  delta = first ? Math_floor(delta / 700) : delta >> 1;
  delta += Math_floor(delta / numPoints);
  let k = 0;
  while (delta > 455) {
    delta = Math_floor(delta / 35);
    k += 36;
  }
  return k + Math_floor((36 * delta) / (delta + 38));
}
const punycodeDigit = (d) => String_fromCharCode(d + 22 + 75 * (d < 26));

// code points (list) -> punycode string, or null on overflow.
function punycodeEncode(cps) {
  let out = '';
  let n = 128;
  let delta = 0;
  let bias = 72;
  const len = cps.length;
  for (let i = 0; i < len; i++) if (cps[i] < 0x80) out += String_fromCharCode(cps[i]);
  const basic = out.length;
  let h = basic;
  if (basic) out += '-';
  while (h < len) {
    let m = PUNYCODE_MAX;
    for (let i = 0; i < len; i++) if (cps[i] >= n && cps[i] < m) m = cps[i];
    delta += (m - n) * (h + 1);
    if (delta > PUNYCODE_MAX) return null;
    n = m;
    for (let i = 0; i < len; i++) {
      const c = cps[i];
      if (c < n) delta++;
      if (c === n) {
        let q = delta;
        for (let k = 36; ; k += 36) {
          const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
          if (q < t) break;
          out += punycodeDigit(t + ((q - t) % (36 - t)));
          q = Math_floor((q - t) / (36 - t));
        }
        out += punycodeDigit(q);
        bias = punycodeAdapt(delta, h + 1, h === basic);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return out;
}

// An ASCII punycode string -> its code points (list), or null when it is not valid.
function punycodeDecode(input) {
  const out = newList();
  const len = input.length;
  let b = 0;
  for (let j = 0; j < len; j++) if (StringPrototypeCharCodeAt(input, j) === 0x2d) b = j;
  for (let j = 0; j < b; j++) out[out.length] = StringPrototypeCharCodeAt(input, j);
  let n = 128;
  let i = 0;
  let bias = 72;
  for (let p = b > 0 ? b + 1 : 0; p < len;) {
    const oldi = i;
    let w = 1;
    for (let k = 36; ; k += 36) {
      if (p >= len) return null;
      const c = StringPrototypeCharCodeAt(input, p++);
      const digit = c >= 0x30 && c <= 0x39 ? c - 22 : c >= 0x41 && c <= 0x5a ? c - 0x41
        : c >= 0x61 && c <= 0x7a ? c - 0x61 : 36;
      if (digit === 36 || digit > (PUNYCODE_MAX - i) / w) return null;
      i += digit * w;
      const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
      if (digit < t) break;
      if (w > PUNYCODE_MAX / (36 - t)) return null;
      w *= 36 - t;
    }
    const count = out.length + 1;
    bias = punycodeAdapt(i - oldi, count, oldi === 0);
    if (Math_floor(i / count) > PUNYCODE_MAX - n) return null;
    n += Math_floor(i / count);
    i %= count;
    if (n > 0x10ffff) return null;
    for (let j = out.length; j > i; j--) out[j] = out[j - 1];
    out[i++] = n;
  }
  return out;
}

// ---- the tables -----------------------------------------------------------------------

// Mapping ops (uts46.py): valid, disallowed, ignored, deviation, shift, alternate,
// explicit, shared.
const UTS46_VALID = 0;
const UTS46_DISALLOWED = 1;
const UTS46_IGNORED = 2;
const UTS46_DEVIATION = 3;
const UTS46_SHIFT = 4;
const UTS46_ALTERNATE = 5;
const UTS46_EXPLICIT = 6;
// Property classes: bits 0-2 the bidi group, 3 a mark, 4 a virama, 5-7 Joining_Type.
const BIDI_L = 1;
const BIDI_R = 2;
const BIDI_AL = 3;
const BIDI_AN = 4;
const BIDI_EN = 5;
const BIDI_NEUTRAL = 6;
const BIDI_NSM = 7;
const JOINING_L = 1;
const JOINING_D = 2;
const JOINING_R = 3;
const JOINING_T = 4;

// [runs, maps, props] (uts46.py), fetched on first use. Entries are read from the text
// where they are: nothing is decoded up front (see uts46.py on why).
let uts46Texts = null;
const uts46Digit = (c) => c - 0x21 - (c > 0x27) - (c > 0x5c) - (c > 0x60);
// The 4-digit number at p.
function uts46Fixed4(s, p) {
  const a = StringPrototypeCharCodeAt(s, p);
  const b = StringPrototypeCharCodeAt(s, p + 1);
  const c = StringPrototypeCharCodeAt(s, p + 2);
  const d = StringPrototypeCharCodeAt(s, p + 3);
  return ((uts46Digit(a) * 90 + uts46Digit(b)) * 90 + uts46Digit(c)) * 90 + uts46Digit(d);
}
// The offset of the record of a fixed-width table (records of `width` digits, each
// starting with its first code point in 4) whose run holds code point c.
function uts46Search(s, width, c) {
  let lo = 0;
  let hi = s.length / width - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (uts46Fixed4(s, mid * width) <= c) lo = mid;
    else hi = mid - 1;
  }
  return lo * width;
}

// A code point's mapping run: {op, start, arg}.
function uts46Run(c) {
  if (uts46Texts === null) uts46Texts = uts46Tables();
  const s = uts46Texts[0];
  const p = uts46Search(s, 8, c);
  const v = uts46Fixed4(s, p + 4);
  return { op: v >> 19, start: uts46Fixed4(s, p), arg: v & 0x7ffff };
}
const uts46Zigzag = (v) => (v % 2 ? -(v + 1) / 2 : v / 2);

// The mapping at offset `p` of the maps text after `skip` others; `cp` is the code point
// it was encoded from (its first code point is stored as the difference to it).
function uts46Mapping(p, skip, cp) {
  const s = uts46Texts[1];
  let out = '';
  for (let n = 0; n <= skip; n++) {
    let count = 0;
    for (let k = -1; k < count; k++) {
      let v = 0;
      for (;;) {
        const d = uts46Digit(StringPrototypeCharCodeAt(s, p++));
        if (d < 45) {
          v = v * 45 + d;
          break;
        }
        v = v * 45 + d - 45;
      }
      if (k === -1) count = v;
      else if (n === skip) out += String_fromCodePoint(cp += uts46Zigzag(v));
    }
  }
  return out;
}

// UTS #46 status of c, with a mapped code point of an alternating run as "shift".
function uts46Status(c) {
  const r = uts46Run(c);
  if (r.op === UTS46_ALTERNATE) return (c - r.start) % 2 ? UTS46_VALID : UTS46_SHIFT;
  return r.op;
}

function uts46Class(c) {
  if (uts46Texts === null) uts46Texts = uts46Tables();
  const s = uts46Texts[2];
  const p = uts46Search(s, 6, c) + 4;
  return uts46Digit(StringPrototypeCharCodeAt(s, p)) * 90 + uts46Digit(StringPrototypeCharCodeAt(s, p + 1));
}

// ---- Unicode ToASCII ----------------------------------------------------------------

// Steps 1-2 of UTS #46 Processing: map each code point, then NFC; null if one is
// disallowed.
function uts46MapDomain(domain) {
  let out = '';
  for (let i = 0; i < domain.length; i++) {
    const c = StringPrototypeCodePointAt(domain, i);
    if (c > 0xffff) i++;
    if (c < 0x80) { // ASCII: only A-Z is mapped (test_idna.py checks the table agrees)
      out += String_fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
      continue;
    }
    const r = uts46Run(c);
    const op = r.op;
    if (op === UTS46_VALID || op === UTS46_DEVIATION) out += String_fromCodePoint(c);
    else if (op === UTS46_DISALLOWED) return null;
    else if (op === UTS46_SHIFT) out += String_fromCodePoint(c + uts46Zigzag(r.arg));
    else if (op === UTS46_ALTERNATE) out += String_fromCodePoint((c - r.start) % 2 ? c : c + uts46Zigzag(r.arg));
    else if (op === UTS46_EXPLICIT) out += uts46Mapping(r.arg, c - r.start, c);
    else if (op !== UTS46_IGNORED) out += uts46Mapping(r.arg, 0, r.start); // shared
  }
  return StringPrototypeNormalize(out, 'NFC');
}

function codePointsOf(s) {
  const out = newList();
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCodePointAt(s, i);
    if (c > 0xffff) i++;
    out[out.length] = c;
  }
  return out;
}

function stringOfCodePoints(cps) {
  let s = '';
  for (let i = 0; i < cps.length; i++) s += String_fromCodePoint(cps[i]);
  return s;
}

// CONTEXTJ (RFC 5892 Appendix A.1, A.2) for the joiner at cps[i].
function uts46JoinerAllowed(cps, i) {
  if (i > 0 && uts46Class(cps[i - 1]) & 0x10) return true; // after a virama
  if (cps[i] === 0x200d) return false;
  // ZWNJ: (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D})
  let j = i - 1;
  while (j >= 0 && uts46Class(cps[j]) >> 5 === JOINING_T) j--;
  const before = j >= 0 ? uts46Class(cps[j]) >> 5 : 0;
  if (before !== JOINING_L && before !== JOINING_D) return false;
  j = i + 1;
  while (j < cps.length && uts46Class(cps[j]) >> 5 === JOINING_T) j++;
  const after = j < cps.length ? uts46Class(cps[j]) >> 5 : 0;
  return after === JOINING_R || after === JOINING_D;
}

// Validity criteria (UTS #46 section 4.1) of a non-empty label, except the Bidi rule.
function uts46ValidLabel(label, cps) {
  if (StringPrototypeNormalize(label, 'NFC') !== label) return false;
  if (cps[0] >= 0x80 && uts46Class(cps[0]) & 0x08) return false; // begins with a mark
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === 0x2e) return false;
    if (c < 0x80) { // ASCII: valid unless A-Z (mapped)
      if (c >= 0x41 && c <= 0x5a) return false;
      continue;
    }
    const status = uts46Status(c);
    if (status !== UTS46_VALID && status !== UTS46_DEVIATION) return false;
    if ((c === 0x200c || c === 0x200d) && !uts46JoinerAllowed(cps, i)) return false;
  }
  return true;
}

// The Bidi rule (RFC 5893 section 2) for a non-empty label of a Bidi domain name.
function uts46BidiLabel(cps) {
  const first = uts46Class(cps[0]) & 7;
  const rtl = first === BIDI_R || first === BIDI_AL;
  if (!rtl && first !== BIDI_L) return false; // rule 1
  let end = 0; // the bidi group of the last character that is not NSM
  let en = false;
  let an = false;
  for (let i = 0; i < cps.length; i++) {
    const b = uts46Class(cps[i]) & 7;
    if (rtl ? b === BIDI_L || b === 0 : b !== BIDI_L && b !== BIDI_EN && b !== BIDI_NEUTRAL && b !== BIDI_NSM) {
      return false; // rules 2 and 5
    }
    if (b !== BIDI_NSM) end = b;
    if (b === BIDI_EN) en = true;
    if (b === BIDI_AN) an = true;
  }
  if (rtl) return (end === BIDI_R || end === BIDI_AL || end === BIDI_EN || end === BIDI_AN) && !(en && an);
  return end === BIDI_L || end === BIDI_EN; // rule 6
}

// UTS #46 ToASCII of a domain -> the ASCII domain, or null on any error.
function uts46ToASCII(domain) {
  const mapped = uts46MapDomain(domain);
  if (mapped === null) return null;
  const labels = newList(); // [code points, ASCII form]
  let bidi = false;
  let start = 0;
  for (let i = 0; i <= mapped.length; i++) {
    if (i < mapped.length && StringPrototypeCharCodeAt(mapped, i) !== 0x2e) continue;
    const label = StringPrototypeSlice(mapped, start, i);
    start = i + 1;
    let cps;
    let ascii = label;
    if (StringPrototypeSlice(label, 0, 4) === 'xn--') {
      if (!isAsciiString(label)) return null;
      cps = punycodeDecode(StringPrototypeSlice(label, 4));
      if (cps === null || cps.length === 0) return null;
      let allAscii = true;
      for (let k = 0; k < cps.length; k++) if (cps[k] >= 0x80) allAscii = false;
      if (allAscii || !uts46ValidLabel(stringOfCodePoints(cps), cps)) return null;
    } else {
      cps = codePointsOf(label);
      if (cps.length !== 0 && !uts46ValidLabel(label, cps)) return null;
      if (!isAsciiString(label)) {
        const p = punycodeEncode(cps);
        if (p === null) return null;
        ascii = 'xn--' + p;
      }
    }
    for (let k = 0; k < cps.length && !bidi; k++) {
      if (cps[k] < 0x80) continue; // no ASCII character is R, AL or AN
      const b = uts46Class(cps[k]) & 7;
      bidi = b === BIDI_R || b === BIDI_AL || b === BIDI_AN;
    }
    labels[labels.length] = [cps, ascii];
  }
  let out = '';
  for (let i = 0; i < labels.length; i++) {
    const cps = labels[i][0];
    if (bidi && cps.length !== 0 && !uts46BidiLabel(cps)) return null;
    out += (i ? '.' : '') + labels[i][1];
  }
  return out;
}
