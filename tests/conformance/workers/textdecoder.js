// TextDecoder: replacement of invalid UTF-8, BOM handling, fatal mode, streaming.
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, isTypeError: e instanceof TypeError, isRangeError: e instanceof RangeError };
  }
}
const codes = (s) => [...s].map((c) => c.codePointAt(0));
const B = (...a) => new Uint8Array(a);
export default {
  fetch() {
    const d = new TextDecoder();
    const cases = {
      ascii: B(104, 105),
      twoByte: B(0xc3, 0xa9),
      threeByte: B(0xe2, 0x9c, 0x93),
      fourByte: B(0xf0, 0x9f, 0x98, 0x80),
      lone80: B(0x80),
      loneFF: B(0xff, 0xfe),
      truncated2: B(0xc3),
      truncated3: B(0xe2, 0x9c),
      truncated4: B(0xf0, 0x9f, 0x98),
      truncatedThenAscii: B(0xe2, 0x9c, 0x41),
      overlong: B(0xc0, 0xaf),
      overlong3: B(0xe0, 0x80, 0xaf),
      surrogate: B(0xed, 0xa0, 0x80),
      tooBig: B(0xf4, 0x90, 0x80, 0x80),
      f5: B(0xf5, 0x80),
      bom: B(0xef, 0xbb, 0xbf, 0x41),
      doubleBom: B(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x41),
      nul: B(0, 0x41),
    };
    const out = { encoding: d.encoding, fatal: d.fatal, ignoreBOM: d.ignoreBOM, decoded: {}, ignoreBOMOn: {}, fatalMode: {} };
    for (const [k, v] of Object.entries(cases)) {
      out.decoded[k] = codes(d.decode(v));
      out.ignoreBOMOn[k] = codes(new TextDecoder('utf-8', { ignoreBOM: true }).decode(v));
      out.fatalMode[k] = attempt(() => codes(new TextDecoder('utf-8', { fatal: true }).decode(v)));
    }
    const s = new TextDecoder();
    out.stream = [
      codes(s.decode(B(0xe2), { stream: true })),
      codes(s.decode(B(0x9c), { stream: true })),
      codes(s.decode(B(0x93, 0x41), { stream: true })),
      codes(s.decode(B(0xf0, 0x9f))),
    ];
    out.labels = {};
    for (const label of ['utf8', 'UTF-8', ' utf-8 ', 'unicode-1-1-utf-8', 'utf-16le', 'latin1', 'ascii', 'nope']) {
      out.labels[label] = attempt(() => new TextDecoder(label).encoding);
    }
    out.noArg = d.decode();
    out.arrayBuffer = d.decode(B(0x6f, 0x6b).buffer);
    out.dataView = d.decode(new DataView(B(0x61, 0x62, 0x63).buffer, 1));
    out.subarray = d.decode(B(0x61, 0x62, 0x63, 0x64).subarray(1, 3));
    out.badInput = attempt(() => d.decode('string'));
    return Response.json(out);
  },
};
