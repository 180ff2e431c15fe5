// URL percent-encoding of each component.
function parts(input, base) {
  try {
    const u = base === undefined ? new URL(input) : new URL(input, base);
    return {
      input, base, href: u.href, origin: u.origin, protocol: u.protocol, username: u.username,
      password: u.password, host: u.host, hostname: u.hostname, port: u.port,
      pathname: u.pathname, search: u.search, hash: u.hash,
    };
  } catch (e) {
    return { input, base, error: e.name, isTypeError: e instanceof TypeError };
  }
}
function serve(results) {
  return { fetch: () => Response.json(results) };
}

export default serve([
  'https://example.com/a b/c%20d/e%zz/%41',
  'https://example.com/"<>`{}|^',
  'https://example.com/?q="<>`{}|^ \'',
  'https://example.com/#frag "<>` {}',
  'https://us er:pa ss@example.com/',
  'https://u@s:p@ss@example.com/',
  'https://example.com/é?é#é',
  'https://example.com/%c3%a9?%C3%A9',
  'https://example.com/\u0000x',
  'https://example.com/?a=%00&b=\u007f',
  'https://example.com/path;param?x=1&y=2;z',
  'https://example.com/~!$&\'()*+,;=:@',
  'https://example.com/?~!$&\'()*+,;=:@/?',
  'foo://example.com/a b?c d#e f',
  'foo:/path with space',
  'foo:opaque path ',
  'https://example.com/\uD800',
].map((i) => parts(i)));
