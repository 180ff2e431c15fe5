// URL setters: each component, including ones the spec ignores.
function dump(u) {
  return { href: u.href, host: u.host, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash };
}
function apply(start, prop, value) {
  const u = new URL(start);
  try {
    u[prop] = value;
    return { start, prop, value, ...dump(u) };
  } catch (e) {
    return { start, prop, value, error: e.name };
  }
}
const H = 'https://user:pw@example.com:8080/a/b?x=1#frag';
export default {
  fetch() {
    return Response.json([
      apply(H, 'protocol', 'http'),
      apply(H, 'protocol', 'ftp:'),
      apply(H, 'protocol', 'foo'),
      apply(H, 'protocol', 'file'),
      apply('foo://x/', 'protocol', 'https'),
      apply(H, 'username', 'new user'),
      apply(H, 'username', ''),
      apply(H, 'password', 'p@ss:w'),
      apply(H, 'host', 'other.org:99'),
      apply(H, 'host', 'other.org'),
      apply(H, 'host', ''),
      apply(H, 'hostname', 'Other.ORG'),
      apply(H, 'hostname', 'a b'),
      apply(H, 'hostname', 'münchen.de'),
      apply(H, 'port', '443'),
      apply(H, 'port', '8443abc'),
      apply(H, 'port', ''),
      apply(H, 'port', '99999'),
      apply(H, 'port', 'x'),
      apply(H, 'pathname', 'no/slash'),
      apply(H, 'pathname', '/a b/../c'),
      apply(H, 'pathname', ''),
      apply(H, 'search', 'q=a b'),
      apply(H, 'search', '?'),
      apply(H, 'search', ''),
      apply(H, 'search', '??x'),
      apply(H, 'hash', 'new hash'),
      apply(H, 'hash', '#'),
      apply(H, 'hash', ''),
      apply(H, 'href', 'https://replaced.example/'),
      apply(H, 'href', 'not a url'),
      apply(H, 'origin', 'https://ignored.example'),
      apply('mailto:x@y', 'pathname', 'z'),
      apply('mailto:x@y', 'host', 'z'),
      apply('file:///a', 'host', 'server'),
      apply('file:///a', 'port', '80'),
    ]);
  },
};
