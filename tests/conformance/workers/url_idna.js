// URL hosts: IDNA (punycode, case folding, full-width dots) and UTS #46 processing
// (the mapping table, validity criteria, CONTEXTJ, the Bidi rule), as the URL
// Standard's "domain to ASCII" runs it, plus host setters and URL.parse/canParse.
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

const BASICS = [
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
];

// Each exercises one part of UTS #46 ToASCII (non-ASCII input; an ASCII domain is
// only lowercased).
const UTS46 = [
  'http://Bücher.example/', // mapped (B, Ü), then punycode
  'http://Bu\u0308cher.example/', // u + combining diaeresis: NFC first
  'http://BÜCHER.EXAMPLE/',
  'http://%C3%BC.example/', // percent-decoded as UTF-8 before mapping
  'http://ß.de/', 'http://ς.gr/', // deviations: kept (nontransitional)
  'http://a\u00ADb.example/', // soft hyphen: ignored
  'http://\u00ADexample/',
  'http://\u00AD/', // maps to nothing: the empty host fails
  'http://𝐄𝐗𝐀𝐌𝐏𝐋𝐄.com/', // mathematical bold: mapped to ASCII
  'http://ⅻ.example/', // roman numeral: mapped to "xii"
  'http://a\uFF0Eb\u3002c\uFF61d/', // full-width, ideographic and halfwidth dots
  'http://１２７.０.０.１/', // maps to an IPv4 address
  'http://０ｘ７ｆ.1/',
  'http://GOO\u00A0\u3000goo.com/', // NBSP and ideographic space map to U+0020: forbidden
  'http://a\uFF1Ab/', // full-width colon maps to ':': forbidden
  'http://\uFDD0zyx.com/', // noncharacter: disallowed
  'http://a\u2488com/', // U+2488 is disallowed
  'http://\u0300a.example/', // a label may not start with a combining mark
  'http://a\u094D\u200Cb/', // ZWNJ after a virama: CONTEXTJ allows it
  'http://a\u200Cb/', // ZWNJ elsewhere: refused
  'http://a\u094D\u200Db/', // ZWJ after a virama
  'http://\u0646\u0627\u0645\u0647\u200C\u0627\u06CC/', // ZWNJ between joining letters
  'http://\u0627\u0628.com/', // an RTL label in a Bidi domain name: fine
  'http://ab\u0627/', // L label with an AL character: Bidi rule 5
  // (not 'http://\u0627\u0628.1com/': isogate applies the Bidi rule to every label of a
  // Bidi domain name, as UTS #46 says; workerd only to labels with RTL characters)
  'http://\u0627\u0661\u06F1/', // Arabic-Indic and extended digits mixed: rule 4
  'http://\u05D0\u0308.com/', // Hebrew + NSM
  'http://xn--a.ß/', // an ASCII xn-- label is checked when the domain is not all ASCII
  'http://xn--zca.ß/',
  'http://xn--ZCA.ß/',
  'http://xn--a-ecp.ß/', // decodes to a disallowed character
  'http://xn--u-ccb.ß/', // decodes to a string that is not NFC
  'http://xn--ab.ß/', // decodes to ASCII only
  'http://xn--\u00E9.com/', // an xn-- label with non-ASCII in it
  'http://xn--.ß/', // empty after decoding
  'http://ß.xn--/', // every label of a non-ASCII domain is checked, ASCII ones too
  'http://x\u0301n--zca.example/',
  'http://\uD83D\uDE00.example/', // emoji (astral)
  'http://\u2615.example/',
  'http://\u03B2\u03CC\u03BB\u03BF\u03C2.com/',
  'http://\u00E0.\u05D0\u0308/',
  'http://www.\u0DC1\u0DCA\u200D\u0DBB\u0DD3.com/',
  'http://1234567890\u00E41234567890123456789012345678901234567890123456/', // > 63: no DNS limits
  'file://loC𝐀𝐋𝐇𝐨𝐬𝐭/usr/bin', // maps to "localhost": the file host becomes empty
  'sc://ñ.example/', // not special: an opaque host, percent-encoded, not IDNA
  'https://[::1]/',
];

function setHost(start, prop, value) {
  const u = new URL(start);
  u[prop] = value;
  return { start, prop, value, href: u.href, host: u.host };
}

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/uts46') return Response.json(UTS46.map((i) => parts(i)));
    if (path === '/setters') {
      return Response.json([
        setHost('https://x.example/', 'hostname', 'Bücher.example'),
        setHost('https://x.example/', 'host', 'ÖBB.at:8443'),
        setHost('https://x.example/', 'hostname', 'a\u200Cb'),
        setHost('https://x.example/', 'host', 'xn--a.ß'),
        setHost('https://x.example/', 'hostname', '\u0627b'),
        setHost('http://example.net/path', 'host', 'bücher.example:65536'),
        [URL.canParse('https://bücher.example/'), URL.canParse('https://a\u200Cb/'),
          URL.parse('https://a\u200Cb/'), URL.parse('https://Bücher.example/').href,
          URL.canParse('/p', 'https://ΣΟΦΟΣ.gr/'), URL.canParse('/p', 'https://a\u2488com/')],
      ]);
    }
    return Response.json(BASICS.map((i) => parts(i)));
  },
};
