// Code generation from strings and navigator, as workerd answers them (issue 25).
function attempt(f) {
  try {
    const v = f();
    return { ok: typeof v };
  } catch (e) {
    return { name: e && e.name, message: e && e.message, isEvalError: e instanceof EvalError };
  }
}
const app = {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/navigator') {
      return Response.json({
        userAgent: navigator.userAgent,
        hardwareConcurrency: navigator.hardwareConcurrency,
        type: Object.prototype.toString.call(navigator),
        own: Object.getOwnPropertyNames(navigator),
        platform: navigator.platform,
        props: ['platform', 'hardwareConcurrency', 'userAgent'].map((n) => {
          const d = Object.getOwnPropertyDescriptor(navigator, n);
          return [d.enumerable, d.configurable, d.writable, typeof d.get, typeof d.set];
        }),
        isGlobalNavigator: typeof Navigator === 'function' && navigator instanceof Navigator,
        userAgentOnProto: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(navigator), 'userAgent') !== undefined,
        construct: attempt(() => new Navigator()),
        descriptor: (() => {
          const d = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
          return d && { enumerable: d.enumerable, configurable: d.configurable, writable: d.writable, get: typeof d.get };
        })(),
      });
    }
    return Response.json({
      eval: attempt(() => eval('1 + 1')),
      indirectEval: attempt(() => (0, eval)('1 + 1')),
      Function: attempt(() => new Function('return 1')),
      AsyncFunction: attempt(() => new (Object.getPrototypeOf(async function () {}).constructor)('return 1')),
      setTimeoutString: attempt(() => setTimeout('1 + 1', 0)),
      setIntervalString: attempt(() => { const t = setInterval('1 + 1', 1000); clearInterval(t); return t; }),
    });
  },
};
// what esbuild ends every bundle with
export { app as default };
