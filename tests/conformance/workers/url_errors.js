// URL errors, statics and conversions.
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e.name, isTypeError: e instanceof TypeError };
  }
}
export default {
  fetch() {
    return Response.json({
      noBase: attempt(() => new URL('/relative').href),
      empty: attempt(() => new URL('').href),
      badBase: attempt(() => new URL('x', 'nope').href),
      spaceHost: attempt(() => new URL('https://a b/').href),
      badPort: attempt(() => new URL('https://a:99999/').href),
      canParse: typeof URL.canParse === 'function' ? [URL.canParse('https://x'), URL.canParse('/x'), URL.canParse('/x', 'https://b')] : 'missing',
      parse: typeof URL.parse === 'function' ? [URL.parse('https://x/y')?.href ?? null, URL.parse('nope')] : 'missing',
      toJSON: JSON.stringify({ u: new URL('https://example.com/a?b#c') }),
      toString: String(new URL('HTTPS://EXAMPLE.com')),
      concat: new URL('https://example.com') + '',
      urlFromUrl: new URL(new URL('https://example.com/x')).href,
      baseUrlObject: new URL('y', new URL('https://example.com/x/')).href,
      nonString: attempt(() => new URL(123, 'https://example.com/').href),
      instance: new URL('https://x') instanceof URL,
      tag: Object.prototype.toString.call(new URL('https://x')),
      keys: Object.keys(new URL('https://x')),
    });
  },
};
