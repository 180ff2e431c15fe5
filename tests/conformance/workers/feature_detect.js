// What a Worker feature-detects, for the APIs isogate implements (issue 25): each
// name's typeof and `in globalThis`. Unimplemented APIs are in globals.js (a known
// difference); so are removeEventListener/dispatchEvent on the global. WeakRef and
// FinalizationRegistry are absent on both (garbage collection is not observable). workerd keeps
// most globals on the global scope's prototype, isogate as own properties: no
// descriptor is compared.
const names = [
  'Request', 'Response', 'Headers', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder',
  'atob', 'btoa', 'crypto', 'structuredClone', 'queueMicrotask', 'console', 'DOMException',
  'Blob', 'File', 'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'fetch',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'navigator', 'Navigator',
  'addEventListener', 'self', 'globalThis',
  'FetchEvent', 'eval', 'Function', 'Intl',
  'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'process', 'Buffer', 'require', 'module',
  'exports', 'global', 'window', 'document', 'importScripts', 'XMLHttpRequest',
  'WeakRef', 'FinalizationRegistry', 'WeakMap', 'WeakSet',
];
export default {
  fetch() {
    const out = {};
    for (const n of names) {
      out[n] = [typeof globalThis[n], n in globalThis];
    }
    return Response.json(out);
  },
};
