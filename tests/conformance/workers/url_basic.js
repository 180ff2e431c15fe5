// URL parsing: absolute inputs.
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
  'https://example.com',
  'https://example.com/',
  'HTTPS://EXAMPLE.COM/Path?Q=1#F',
  'https://user:pass@example.com:8080/p/a/t/h?query=string#hash',
  'https://user@example.com',
  'https://:pass@example.com',
  'http://example.com:80/',
  'https://example.com:443/',
  'ws://example.com:80/',
  'wss://example.com:443/',
  'ftp://example.com:21/',
  'http://example.com:0/',
  'http://example.com:65535/',
  'http://example.com:/',
  'https://example.com?',
  'https://example.com#',
  'https://example.com/?#',
  'http:\\\\example.com\\a\\b',
  'https://example.com/a\tb\nc',
  '  https://example.com/trim  ',
  'https:example.com',
  'https://example.com/😀',
  'https://example.com/a?b=😀#😀',
  'http://[::1]:80/',
  'https://example.com./',
].map((i) => parts(i)));
