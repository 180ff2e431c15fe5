// The legacy encodings of the WHATWG Encoding Standard for TextDecoder: every label,
// the single-byte decoders, gb18030/GBK, Big5, EUC-JP, ISO-2022-JP, Shift_JIS,
// EUC-KR, UTF-16BE and x-user-defined.
//
// The index tables are not in the prelude: the host evaluates
// `__isogate.encodings({...})` (isogate/runtime/encodings.py, made from Python's
// codecs) into a context whose function source uses TextDecoder, before its code
// runs; `installEncodingTables` keeps them here. Without them a legacy label
// throws a RangeError like an unknown one.

let encodingTables = null;
function installEncodingTables(t) {
  if (encodingTables !== null) return;
  encodingTables = t;
}

// Built on first use (a function that never decodes keeps none of it).
function encodingLabelList() {
  return [
  ['utf-8', 'unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8'],
  ['ibm866', '866 cp866 csibm866 ibm866'],
  ['iso-8859-2', 'csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2'],
  ['iso-8859-3', 'csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3'],
  ['iso-8859-4', 'csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4'],
  ['iso-8859-5', 'csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988'],
  ['iso-8859-6', 'arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e ' +
    'iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987'],
  ['iso-8859-7', 'csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 ' +
    'iso_8859-7 iso_8859-7:1987 sun_eu_greek'],
  ['iso-8859-8', 'csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 ' +
    'iso_8859-8 iso_8859-8:1988 visual'],
  ['iso-8859-8-i', 'csiso88598i iso-8859-8-i logical'],
  ['iso-8859-10', 'csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6'],
  ['iso-8859-13', 'iso-8859-13 iso8859-13 iso885913'],
  ['iso-8859-14', 'iso-8859-14 iso8859-14 iso885914'],
  ['iso-8859-15', 'csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9'],
  ['iso-8859-16', 'iso-8859-16'],
  ['koi8-r', 'cskoi8r koi koi8 koi8-r koi8_r'],
  ['koi8-u', 'koi8-ru koi8-u'],
  ['macintosh', 'csmacintosh mac macintosh x-mac-roman'],
  ['windows-874', 'dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874'],
  ['windows-1250', 'cp1250 windows-1250 x-cp1250'],
  ['windows-1251', 'cp1251 windows-1251 x-cp1251'],
  ['windows-1252', 'ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 ' +
    'iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252'],
  ['windows-1253', 'cp1253 windows-1253 x-cp1253'],
  ['windows-1254', 'cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 ' +
    'l5 latin5 windows-1254 x-cp1254'],
  ['windows-1255', 'cp1255 windows-1255 x-cp1255'],
  ['windows-1256', 'cp1256 windows-1256 x-cp1256'],
  ['windows-1257', 'cp1257 windows-1257 x-cp1257'],
  ['windows-1258', 'cp1258 windows-1258 x-cp1258'],
  ['x-mac-cyrillic', 'x-mac-cyrillic x-mac-ukrainian'],
  ['gbk', 'chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk'],
  ['gb18030', 'gb18030'],
  ['big5', 'big5 big5-hkscs cn-big5 csbig5 x-x-big5'],
  ['euc-jp', 'cseucpkdfmtjapanese euc-jp x-euc-jp'],
  ['iso-2022-jp', 'csiso2022jp iso-2022-jp'],
  ['shift_jis', 'csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis'],
  ['euc-kr', 'cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 ' +
    'windows-949'],
  ['replacement', 'csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement'],
  ['utf-16be', 'unicodefffe utf-16be'],
  ['utf-16le', 'csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le'],
  ['x-user-defined', 'x-user-defined'],
  ];
}

let encodingLabels = null;
// The encoding name of a (trimmed, lower-cased) label, or undefined.
function encodingOfLabel(key) {
  if (encodingLabels === null) {
    const map = { __proto__: null };
    const list = encodingLabelList();
    for (let i = 0; i < list.length; i++) {
      const labels = StringPrototypeSplit(list[i][1], ' ');
      for (let j = 0; j < labels.length; j++) map[labels[j]] = list[i][0];
    }
    encodingLabels = map;
  }
  return encodingLabels[key];
}

// Does this encoding need the host's tables?
const needsTables = (name) => name !== 'utf-16be' && name !== 'x-user-defined';

// The decoders, lazy like the streams area (45-streams.js): loadLegacyDecoders() is
// only pre-parsed until a TextDecoder first decodes a legacy encoding; 10-encoding.js
// reaches them through legacyDecoders(). Its top level only declares.
let legacyNS = null;
// -> {legacyDecoder(name), runLegacyDecoder(d, bytes, n, fatal, flush)}
function legacyDecoders() {
  if (legacyNS === null) legacyNS = loadLegacyDecoders();
  return legacyNS;
}

function loadLegacyDecoders() {
  // Decoder handler results besides a code point.
  const D_CONTINUE = -2;
  const D_ERROR = -3;
  const D_FINISHED = -4;
  const EOQ = -1;

  const isAscii = (b) => b >= 0 && b <= 0x7f;

  // index[pointer] of a table string (U+FFFF = unmapped) -> code point or null.
  function indexAt(table, pointer) {
    if (pointer < 0 || pointer >= table.length) return null;
    const c = StringPrototypeCharCodeAt(table, pointer);
    return c === 0xffff ? null : c;
  }

  // A decoder: {step(byte) -> code point | D_*, restore: bytes to read again, extra}.
  function singleByteDecoder(name) {
    const table = name === 'iso-8859-8-i' ? encodingTables.single['iso-8859-8'] : encodingTables.single[name];
    return {
      __proto__: null, restore: null, extra: -1,
      step(b) {
        if (b === EOQ) return D_FINISHED;
        if (b < 0x80) return b;
        const c = StringPrototypeCharCodeAt(table, b - 0x80);
        return c === 0xffff ? D_ERROR : c;
      },
    };
  }

  function xUserDefinedDecoder() {
    return {
      __proto__: null, restore: null, extra: -1,
      step(b) {
        if (b === EOQ) return D_FINISHED;
        return b < 0x80 ? b : 0xf780 + b - 0x80;
      },
    };
  }

  function gb18030RangesCodePoint(pointer) {
    if ((pointer > 39419 && pointer < 189000) || pointer > 1237575) return null;
    if (pointer >= 189000) return 0x10000 + pointer - 189000;
    if (pointer === 7457) return 0xe7c7;
    const r = encodingTables.gb18030ranges;
    let lo = 0;
    let hi = (r.length >> 1) - 1;
    while (lo < hi) { // last range whose pointer <= pointer
      const mid = (lo + hi + 1) >> 1;
      if (r[mid * 2] <= pointer) lo = mid;
      else hi = mid - 1;
    }
    return r[lo * 2 + 1] + pointer - r[lo * 2];
  }

  function gb18030Decoder() {
    const d = { __proto__: null, restore: null, extra: -1, first: 0, second: 0, third: 0 };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.first === 0 && d.second === 0 && d.third === 0) return D_FINISHED;
        d.first = d.second = d.third = 0;
        return D_ERROR;
      }
      if (d.third !== 0) {
        if (b < 0x30 || b > 0x39) {
          d.restore = [d.second, d.third, b];
          d.first = d.second = d.third = 0;
          return D_ERROR;
        }
        const cp = gb18030RangesCodePoint(((d.first - 0x81) * 10 * 126 * 10) + ((d.second - 0x30) * 10 * 126) +
          ((d.third - 0x81) * 10) + b - 0x30);
        d.first = d.second = d.third = 0;
        return cp === null ? D_ERROR : cp;
      }
      if (d.second !== 0) {
        if (b >= 0x81 && b <= 0xfe) {
          d.third = b;
          return D_CONTINUE;
        }
        d.restore = [d.second, b];
        d.first = d.second = 0;
        return D_ERROR;
      }
      if (d.first !== 0) {
        if (b >= 0x30 && b <= 0x39) {
          d.second = b;
          return D_CONTINUE;
        }
        const lead = d.first;
        d.first = 0;
        let pointer = null;
        if ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe)) pointer = (lead - 0x81) * 190 + (b - (b < 0x7f ? 0x40 : 0x41));
        const cp = pointer === null ? null : indexAt(encodingTables.gb18030, pointer);
        if (cp !== null) return cp;
        if (isAscii(b)) d.restore = [b];
        return D_ERROR;
      }
      if (isAscii(b)) return b;
      if (b === 0x80) return 0x20ac;
      if (b >= 0x81 && b <= 0xfe) {
        d.first = b;
        return D_CONTINUE;
      }
      return D_ERROR;
    };
    return d;
  }

  function big5Code(pointer) {
    const cp = indexAt(encodingTables.big5, pointer);
    if (cp !== null) return cp;
    const a = encodingTables.big5astral;
    for (let i = 0; i < a.length; i += 2) if (a[i] === pointer) return a[i + 1];
    return null;
  }

  function big5Decoder() {
    const d = { __proto__: null, restore: null, extra: -1, lead: 0 };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.lead === 0) return D_FINISHED;
        d.lead = 0;
        return D_ERROR;
      }
      if (d.lead !== 0) {
        const lead = d.lead;
        d.lead = 0;
        let pointer = null;
        if ((b >= 0x40 && b <= 0x7e) || (b >= 0xa1 && b <= 0xfe)) pointer = (lead - 0x81) * 157 + (b - (b < 0x7f ? 0x40 : 0x62));
        if (pointer === 1133 || pointer === 1135) {
          d.extra = pointer === 1133 ? 0x304 : 0x30c;
          return 0xca;
        }
        if (pointer === 1164 || pointer === 1166) {
          d.extra = pointer === 1164 ? 0x304 : 0x30c;
          return 0xea;
        }
        const cp = pointer === null ? null : big5Code(pointer);
        if (cp !== null) return cp;
        if (isAscii(b)) d.restore = [b];
        return D_ERROR;
      }
      if (isAscii(b)) return b;
      if (b >= 0x81 && b <= 0xfe) {
        d.lead = b;
        return D_CONTINUE;
      }
      return D_ERROR;
    };
    return d;
  }

  function eucKrDecoder() {
    const d = { __proto__: null, restore: null, extra: -1, lead: 0 };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.lead === 0) return D_FINISHED;
        d.lead = 0;
        return D_ERROR;
      }
      if (d.lead !== 0) {
        const lead = d.lead;
        d.lead = 0;
        const cp = b >= 0x41 && b <= 0xfe ? indexAt(encodingTables.euckr, (lead - 0x81) * 190 + (b - 0x41)) : null;
        if (cp !== null) return cp;
        if (isAscii(b)) d.restore = [b];
        return D_ERROR;
      }
      if (isAscii(b)) return b;
      if (b >= 0x81 && b <= 0xfe) {
        d.lead = b;
        return D_CONTINUE;
      }
      return D_ERROR;
    };
    return d;
  }

  function shiftJisDecoder() {
    const d = { __proto__: null, restore: null, extra: -1, lead: 0 };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.lead === 0) return D_FINISHED;
        d.lead = 0;
        return D_ERROR;
      }
      if (d.lead !== 0) {
        const lead = d.lead;
        d.lead = 0;
        let pointer = null;
        if ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfc)) {
          pointer = (lead - (lead < 0xa0 ? 0x81 : 0xc1)) * 188 + b - (b < 0x7f ? 0x40 : 0x41);
        }
        if (pointer !== null && pointer >= 8836 && pointer <= 10715) return 0xe000 - 8836 + pointer;
        const cp = pointer === null ? null : indexAt(encodingTables.jis0208, pointer);
        if (cp !== null) return cp;
        if (isAscii(b)) d.restore = [b];
        return D_ERROR;
      }
      if (isAscii(b) || b === 0x80) return b;
      if (b >= 0xa1 && b <= 0xdf) return 0xff61 - 0xa1 + b;
      if ((b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc)) {
        d.lead = b;
        return D_CONTINUE;
      }
      return D_ERROR;
    };
    return d;
  }

  function eucJpDecoder() {
    const d = { __proto__: null, restore: null, extra: -1, lead: 0, jis0212: false };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.lead === 0) return D_FINISHED;
        d.lead = 0;
        return D_ERROR;
      }
      if (d.lead === 0x8e && b >= 0xa1 && b <= 0xdf) {
        d.lead = 0;
        return 0xff61 - 0xa1 + b;
      }
      if (d.lead === 0x8f && b >= 0xa1 && b <= 0xfe) {
        d.jis0212 = true;
        d.lead = b;
        return D_CONTINUE;
      }
      if (d.lead !== 0) {
        const lead = d.lead;
        d.lead = 0;
        let cp = null;
        if (lead >= 0xa1 && lead <= 0xfe && b >= 0xa1 && b <= 0xfe) {
          cp = indexAt(d.jis0212 ? encodingTables.jis0212 : encodingTables.jis0208, (lead - 0xa1) * 94 + b - 0xa1);
        }
        d.jis0212 = false;
        if (cp !== null) return cp;
        if (isAscii(b)) d.restore = [b];
        return D_ERROR;
      }
      if (isAscii(b)) return b;
      if (b === 0x8e || b === 0x8f || (b >= 0xa1 && b <= 0xfe)) {
        d.lead = b;
        return D_CONTINUE;
      }
      return D_ERROR;
    };
    return d;
  }

  const J_ASCII = 0;
  const J_ROMAN = 1;
  const J_KATAKANA = 2;
  const J_LEAD = 3;
  const J_TRAIL = 4;
  const J_ESC_START = 5;
  const J_ESC = 6;
  function iso2022JpDecoder() {
    const d = { __proto__: null, restore: null, extra: -1, state: J_ASCII, out: J_ASCII, lead: 0, output: false };
    d.step = (b) => {
      switch (d.state) {
        case J_ASCII:
        case J_ROMAN:
          if (b === 0x1b) {
            d.state = J_ESC_START;
            return D_CONTINUE;
          }
          if (b === EOQ) return D_FINISHED;
          d.output = false;
          if (b <= 0x7f && b !== 0x0e && b !== 0x0f) {
            if (d.state === J_ROMAN && b === 0x5c) return 0xa5;
            if (d.state === J_ROMAN && b === 0x7e) return 0x203e;
            return b;
          }
          return D_ERROR;
        case J_KATAKANA:
          if (b === 0x1b) {
            d.state = J_ESC_START;
            return D_CONTINUE;
          }
          if (b === EOQ) return D_FINISHED;
          d.output = false;
          if (b >= 0x21 && b <= 0x5f) return 0xff61 - 0x21 + b;
          return D_ERROR;
        case J_LEAD:
          if (b === 0x1b) {
            d.state = J_ESC_START;
            return D_CONTINUE;
          }
          if (b === EOQ) return D_FINISHED;
          d.output = false;
          if (b >= 0x21 && b <= 0x7e) {
            d.lead = b;
            d.state = J_TRAIL;
            return D_CONTINUE;
          }
          return D_ERROR;
        case J_TRAIL:
          if (b === 0x1b) {
            d.state = J_ESC_START;
            return D_ERROR;
          }
          d.state = J_LEAD;
          if (b >= 0x21 && b <= 0x7e) {
            const cp = indexAt(encodingTables.jis0208, (d.lead - 0x21) * 94 + b - 0x21);
            return cp === null ? D_ERROR : cp;
          }
          return D_ERROR;
        case J_ESC_START:
          if (b === 0x24 || b === 0x28) {
            d.lead = b;
            d.state = J_ESC;
            return D_CONTINUE;
          }
          if (b !== EOQ) d.restore = [b];
          d.output = false;
          d.state = d.out;
          return D_ERROR;
        default: { // J_ESC
          const lead = d.lead;
          d.lead = 0;
          let state = -1;
          if (lead === 0x28 && b === 0x42) state = J_ASCII;
          else if (lead === 0x28 && b === 0x4a) state = J_ROMAN;
          else if (lead === 0x28 && b === 0x49) state = J_KATAKANA;
          else if (lead === 0x24 && (b === 0x40 || b === 0x42)) state = J_LEAD;
          if (state !== -1) {
            d.state = d.out = state;
            const output = d.output;
            d.output = true;
            return output ? D_ERROR : D_CONTINUE;
          }
          d.restore = b === EOQ ? [lead] : [lead, b];
          d.output = false;
          d.state = d.out;
          return D_ERROR;
        }
      }
    };
    return d;
  }

  function utf16BeDecoder() {
    const d = { __proto__: null, restore: null, extra: -1, lead: -1, surrogate: -1 };
    d.step = (b) => {
      if (b === EOQ) {
        if (d.lead === -1 && d.surrogate === -1) return D_FINISHED;
        d.lead = d.surrogate = -1;
        return D_ERROR;
      }
      if (d.lead === -1) {
        d.lead = b;
        return D_CONTINUE;
      }
      const unit = (d.lead << 8) + b;
      d.lead = -1;
      if (d.surrogate !== -1) {
        const lead = d.surrogate;
        d.surrogate = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) return 0x10000 + ((lead - 0xd800) << 10) + (unit - 0xdc00);
        d.restore = [unit >> 8, unit & 0xff];
        return D_ERROR;
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        d.surrogate = unit;
        return D_CONTINUE;
      }
      if (unit >= 0xdc00 && unit <= 0xdfff) return D_ERROR;
      return unit;
    };
    return d;
  }

  // A fresh decoder for a legacy encoding name (null for utf-8/utf-16le/windows-1252,
  // which 10-encoding.js decodes itself).
  function legacyDecoder(name) {
    const d = makeLegacyDecoder(name);
    d.name = name;
    return d;
  }
  function makeLegacyDecoder(name) {
    switch (name) {
      case 'gbk':
      case 'gb18030': return gb18030Decoder();
      case 'big5': return big5Decoder();
      case 'euc-jp': return eucJpDecoder();
      case 'iso-2022-jp': return iso2022JpDecoder();
      case 'shift_jis': return shiftJisDecoder();
      case 'euc-kr': return eucKrDecoder();
      case 'utf-16be': return utf16BeDecoder();
      case 'x-user-defined': return xUserDefinedDecoder();
      default: return singleByteDecoder(name);
    }
  }

  // Run a decoder over bytes[0, n) (then end-of-queue when flush) -> string.
  function runLegacyDecoder(d, bytes, n, fatal, flush) {
    const units = newList();
    let u = 0;
    let i = 0;
    let queue = null; // bytes restored by the decoder, read before the input
    let qi = 0;
    for (;;) {
      let b;
      if (queue !== null && qi < queue.length) b = queue[qi++];
      else if (i < n) b = bytes[i++];
      else if (flush) b = EOQ;
      else break;
      const r = d.step(b);
      if (d.restore !== null) {
        const rest = d.restore;
        d.restore = null;
        const q = newList();
        for (let k = 0; k < rest.length; k++) q[q.length] = rest[k];
        if (queue !== null) for (let k = qi; k < queue.length; k++) q[q.length] = queue[k];
        queue = q;
        qi = 0;
      }
      if (r === D_CONTINUE) continue;
      if (r === D_FINISHED) break;
      if (r === D_ERROR) {
        if (fatal) throw new TypeError_('The encoded data was not valid for encoding ' + d.name);
        units[u++] = 0xfffd;
        continue;
      }
      if (r > 0xffff) {
        units[u++] = 0xd800 + ((r - 0x10000) >> 10);
        units[u++] = 0xdc00 + ((r - 0x10000) & 0x3ff);
      } else units[u++] = r;
      if (d.extra !== -1) {
        units[u++] = d.extra;
        d.extra = -1;
      }
    }
    return codeUnitsToString(units, u);
  }

  return { __proto__: null, legacyDecoder, runLegacyDecoder };
}
