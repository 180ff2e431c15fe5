// TextEncoder: UTF-8 output, lone surrogates, encodeInto.
export default {
  fetch() {
    const enc = new TextEncoder();
    const bytes = (s) => [...enc.encode(s)];
    const into = (s, n) => {
      const buf = new Uint8Array(n);
      const r = enc.encodeInto(s, buf);
      return { read: r.read, written: r.written, buf: [...buf] };
    };
    return Response.json({
      encoding: enc.encoding,
      ascii: bytes('abc'),
      latin1: bytes('é'),
      bmp: bytes('✓'),
      astral: bytes('😀'),
      loneHigh: bytes('a\uD800b'),
      loneLow: bytes('\uDC00'),
      reversedPair: bytes('\uDC00\uD800'),
      nul: bytes('\0'),
      empty: bytes(''),
      noArg: [...enc.encode()],
      undef: [...enc.encode(undefined)],
      number: bytes(12),
      isUint8Array: enc.encode('x') instanceof Uint8Array,
      into: into('a😀b', 4),
      intoExact: into('é✓', 5),
      intoSmall: into('✓✓', 4),
    });
  },
};
