// atob / btoa, including the errors (name and message).
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, message: e.message, code: e.code, isDOMException: e instanceof DOMException };
  }
}
export default {
  fetch() {
    return Response.json({
      btoa: ['', 'f', 'fo', 'foo', 'foob', 'hello world', '\u00ff\u00fe\u0000', String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))].map((s) => attempt(() => btoa(s))),
      btoaUnicode: attempt(() => btoa('✓')),
      btoaNumber: attempt(() => btoa(123)),
      btoaNull: attempt(() => btoa(null)),
      atob: ['', 'Zg==', 'Zm8=', 'Zm9v', 'Zg', 'Zm8', ' Zm 9v\n\t', 'Zm9v\f', 'aGVsbG8gd29ybGQ=', '//79'].map((s) => attempt(() => [...atob(s)].map((c) => c.charCodeAt(0)))),
      atobErrors: ['Z', 'Zm9vY', '====', 'Zm9v=', 'Zg===', 'Z=g=', '!@#$', 'Zm\u00e99v', 'Zm9v\u00a0'].map((s) => attempt(() => atob(s))),
      atobNoArg: attempt(() => atob()),
      atobUndefined: attempt(() => atob(undefined)),
    });
  },
};
