// URL: non-http schemes, opaque paths, file URLs.
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
  'file:///etc/passwd',
  'file://localhost/etc/passwd',
  'file://host/share/file',
  'file:///C:/Windows/',
  'file:/x/../y',
  'data:text/plain,hello world',
  'data:,A%20brief%20note',
  'javascript:alert(1)',
  'mailto:someone@example.com?subject=hi',
  'blob:https://example.com/uuid',
  'urn:isbn:0451450523',
  'about:blank',
  'tel:+1-555-0100',
  'git+ssh://git@github.com/a/b.git',
  'custom://host:99/path',
  'custom:/just/path',
  'custom:',
  'a1+-.://x/',
  '1a://x/',
].map((i) => parts(i)));
