// Which Web/Workers globals exist (typeof only). Differences here are expected to be
// deliberate (no timers, no fetch in isogate) but should be visible.
const names = [
  'Request', 'Response', 'Headers', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'atob', 'btoa',
  'crypto', 'structuredClone', 'queueMicrotask', 'console', 'DOMException', 'Blob', 'FormData', 'File',
  'ReadableStream', 'WritableStream', 'TransformStream', 'AbortController', 'AbortSignal', 'Event', 'EventTarget',
  'fetch', 'setTimeout', 'clearTimeout', 'setInterval', 'performance', 'navigator', 'caches', 'WebSocket',
  'addEventListener', 'self', 'globalThis', 'FetchEvent', 'CompressionStream', 'URLPattern', 'scheduler',
  'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'Intl', 'WeakRef', 'eval', 'Function',
];
export default {
  fetch() {
    const out = {};
    for (const n of names) out[n] = typeof globalThis[n];
    out.selfIsGlobal = typeof self !== 'undefined' && self === globalThis;
    out.navigatorUA = typeof navigator === 'object' ? navigator.userAgent : null;
    return Response.json(out);
  },
};
