// URL parsing: relative references against a base, dot segments.
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

const base = 'http://a/b/c/d;p?q';
// RFC 3986 section 5.4 examples, plus a few more.
export default serve([
  ...['g:h', 'g', './g', 'g/', '/g', '//g', '?y', 'g?y', '#s', 'g#s', 'g?y#s', ';x', 'g;x', 'g;x?y#s', '', '.', './', '..', '../', '../g', '../..', '../../', '../../g',
    '../../../g', '../../../../g', '/./g', '/../g', 'g.', '.g', 'g..', '..g', './../g', './g/.', 'g/./h', 'g/../h', 'g;x=1/./y', 'g;x=1/../y',
    'g?y/./x', 'g?y/../x', 'g#s/./x', 'g#s/../x', 'http:g', '%2e%2e/g', '.%2E/g', '/a/%2e/b', '\\g', '//user@host/p'].map((i) => parts(i, base)),
  parts('/x', 'https://example.com/a/b?c#d'),
  parts('?new', 'https://example.com/a/b?c#d'),
  parts('#new', 'https://example.com/a/b?c#d'),
  parts('//other.org/z', 'https://example.com/a'),
  parts('x', 'https://example.com'),
  parts('x', 'data:text/plain,hello'),
  parts('x', 'not a url'),
]);
