// AbortController / AbortSignal, and aborting fetch().
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function errorInfo(e) {
  if (e === null || typeof e !== 'object') return { value: e === undefined ? 'undefined' : e, type: typeof e };
  return {
    name: e.name, message: e.message, code: e.code,
    isDOMException: typeof DOMException !== 'undefined' && e instanceof DOMException,
    isError: e instanceof Error,
  };
}

const routes = {
  async '/api'() {
    const c = new AbortController();
    const s = c.signal;
    const log = [];
    s.addEventListener('abort', (ev) => log.push(`listener ${ev.type} ${s.aborted}`));
    s.onabort = () => log.push('onabort');
    const before = { aborted: s.aborted, reason: String(s.reason) };
    c.abort();
    c.abort('second call ignored');
    let thrown;
    try {
      s.throwIfAborted();
    } catch (e) {
      thrown = errorInfo(e);
    }
    const c2 = new AbortController();
    c2.abort('my reason');
    const c3 = new AbortController();
    const err = new TypeError('custom');
    c3.abort(err);
    const already = AbortSignal.abort();
    const alreadyWhy = AbortSignal.abort(42);
    const timeout = AbortSignal.timeout(10);
    const timeoutBefore = timeout.aborted;
    await sleep(40);
    let any = null;
    if (typeof AbortSignal.any === 'function') {
      const a = new AbortController();
      const b = new AbortController();
      const combined = AbortSignal.any([a.signal, b.signal]);
      b.abort('b won');
      any = { aborted: combined.aborted, reason: combined.reason };
    }
    let constructError;
    try {
      new AbortSignal();
    } catch (e) {
      constructError = errorInfo(e);
    }
    return {
      before, after: { aborted: s.aborted, reason: errorInfo(s.reason) }, log, thrown,
      stringReason: c2.signal.reason, sameError: c3.signal.reason === err,
      already: errorInfo(already.reason), alreadyWhy: alreadyWhy.reason,
      timeout: { before: timeoutBefore, after: timeout.aborted, reason: errorInfo(timeout.reason) },
      any, constructError,
      types: [typeof AbortController, typeof AbortSignal, Object.prototype.toString.call(s)],
    };
  },
  async '/fetch-already-aborted'(env) {
    const c = new AbortController();
    c.abort();
    const out = {};
    try {
      await fetch(env.UPSTREAM + '/echo', { signal: c.signal });
      out.plain = 'resolved';
    } catch (e) {
      out.plain = errorInfo(e);
    }
    const c2 = new AbortController();
    c2.abort('custom reason');
    try {
      await fetch(env.UPSTREAM + '/echo', { signal: c2.signal });
      out.custom = 'resolved';
    } catch (e) {
      out.custom = errorInfo(e);
    }
    try {
      await fetch(new Request(env.UPSTREAM + '/echo', { signal: AbortSignal.abort() }));
      out.request = 'resolved';
    } catch (e) {
      out.request = errorInfo(e);
    }
    return out;
  },
  async '/fetch-abort-during'(env) {
    const c = new AbortController();
    const p = fetch(env.UPSTREAM + '/slow?ms=3000', { signal: c.signal });
    setTimeout(() => c.abort(), 30);
    try {
      await p;
      return { result: 'resolved' };
    } catch (e) {
      return { result: 'rejected', error: errorInfo(e), sameAsReason: e === c.signal.reason };
    }
  },
  async '/fetch-abort-reason'(env) {
    const c = new AbortController();
    const p = fetch(env.UPSTREAM + '/slow?ms=3000', { signal: c.signal });
    setTimeout(() => c.abort(new Error('gave up')), 30);
    try {
      await p;
      return { result: 'resolved' };
    } catch (e) {
      return { result: 'rejected', error: errorInfo(e) };
    }
  },
  async '/fetch-timeout'(env) {
    try {
      await fetch(env.UPSTREAM + '/slow?ms=3000', { signal: AbortSignal.timeout(40) });
      return { result: 'resolved' };
    } catch (e) {
      return { result: 'rejected', error: errorInfo(e) };
    }
  },
  async '/fetch-not-aborted'(env) {
    const c = new AbortController();
    const r = await fetch(env.UPSTREAM + '/slow?ms=20', { signal: c.signal });
    const body = await r.json();
    c.abort(); // after the body was read: nothing happens
    return { status: r.status, body, aborted: c.signal.aborted };
  },
};

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response('no route', { status: 404 });
    return Response.json(await route(env));
  },
};
