// URL hosts: IDNA (punycode, case folding, full-width dots).
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
  'https://münchen.de/',
  'https://MÜNCHEN.DE/',
  'https://xn--mnchen-3ya.de/',
  'https://例え.テスト/',
  'https://☃.net/',
  'https://faß.de/',
  'https://ΣΟΦΟΣ.gr/',
  'https://example\u3002com/',
  'https://ｅｘａｍｐｌｅ.com/',
  'https://xn--a.com/',
  'https://xn--/',
  'https://a\u200Db.com/',
  'https://-leading.com/',
  'https://😀.example/',
  'https://xn--ls8h.example/',
  'foo://münchen.de/',
].map((i) => parts(i)));
