// crypto.randomUUID / getRandomValues: formats and errors, never the random values.
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, code: e.code, isDOMException: e instanceof DOMException, isTypeError: e instanceof TypeError };
  }
}
export default {
  fetch() {
    const uuids = Array.from({ length: 50 }, () => crypto.randomUUID());
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const arr = new Uint8Array(16);
    const ret = crypto.getRandomValues(arr);
    return Response.json({
      type: typeof uuids[0],
      length: uuids[0].length,
      allMatch: uuids.every((u) => re.test(u)),
      distinct: new Set(uuids).size,
      sameArray: ret === arr,
      u16: attempt(() => crypto.getRandomValues(new Uint16Array(4)).length),
      u32: attempt(() => crypto.getRandomValues(new Uint32Array(4)).length),
      bigint: attempt(() => crypto.getRandomValues(new BigUint64Array(2)).length),
      max: attempt(() => crypto.getRandomValues(new Uint8Array(65536)).length),
      tooBig: attempt(() => crypto.getRandomValues(new Uint8Array(65537)).length),
      float: attempt(() => crypto.getRandomValues(new Float32Array(4)).length),
      dataView: attempt(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4))).byteLength),
      notView: attempt(() => crypto.getRandomValues([1, 2, 3]).length),
      hasSubtle: typeof crypto.subtle,
    });
  },
};
