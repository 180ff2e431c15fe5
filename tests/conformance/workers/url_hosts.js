// URL hosts: IPv4 forms, IPv6, case, invalid characters.
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
  'http://192.168.0.1/',
  'http://0xC0.0xA8.0x0.0x1/',
  'http://3232235521/',
  'http://0300.0250.0.1/',
  'http://192.168.1/',
  'http://192.0x00A80001/',
  'http://1.2.3.4.5/',
  'http://256.0.0.1/',
  'http://4294967296/',
  'http://0x/',
  'http://1.2.3.09/',
  'http://09.2.3.4/',
  'http://[::1]/',
  'http://[0:0:0:0:0:0:0:1]/',
  'http://[2001:DB8::1]:8080/',
  'http://[::ffff:192.168.0.1]/',
  'http://[1:0:0:2:0:0:0:3]/',
  'http://[1:0::0:0:3]/',
  'http://[::1/',
  'http://[:::1]/',
  'http://[1:2:3:4:5:6:7:8:9]/',
  'http://EXAMPLE.com/',
  'http://exa%41mple.com/',
  'http://ex ample.com/',
  'http://ex<ample.com/',
  'http://exa%2Fmple.com/',
  'http://example.com%00/',
  'http://a.b.c.d.e.f/',
  'http:///example.com/',
  'http://user@/',
  'foo://EXAMPLE.com/',
  'foo://[::1]/',
  'foo://ex ample/',
].map((i) => parts(i)));
