// URLSearchParams: parsing and serialisation.
export default {
  fetch() {
    const out = {};
    const show = (sp) => ({ str: sp.toString(), pairs: [...sp], size: sp.size });
    out.fromString = show(new URLSearchParams('a=1&b=2&a=3'));
    out.leadingQ = show(new URLSearchParams('?x=1'));
    out.doubleQ = show(new URLSearchParams('??x=1'));
    out.plus = show(new URLSearchParams('q=a+b%2Bc'));
    out.empties = show(new URLSearchParams('&&a&=b&c=&='));
    out.noEquals = show(new URLSearchParams('flag'));
    out.multiEquals = show(new URLSearchParams('a=b=c'));
    out.fromObject = show(new URLSearchParams({ z: '1', a: 'x y', u: undefined, n: null, num: 5 }));
    out.fromPairs = show(new URLSearchParams([['k', 'v'], ['k', 'w']]));
    out.fromMap = show(new URLSearchParams(new Map([['m', '1']])));
    out.copy = show(new URLSearchParams(new URLSearchParams('c=1')));
    out.serialise = new URLSearchParams([
      ['space', 'a b'], ['plus', 'a+b'], ['amp', 'a&b'], ['eq', 'a=b'], ['pct', '100%'],
      ['unicode', 'é✓😀'], ['reserved', "!'()*~-._"], ['slash', '/?#[]@'], ['nul', '\u0000'], ['lone', '\uD800'],
      ['newline', 'a\nb\r\n'],
    ]).toString();
    const s = new URLSearchParams('z=1&a=2&m=3&a=1&Z=0&é=1&e=2');
    s.sort();
    out.sorted = [...s];
    const u = new URLSearchParams('a=1');
    out.getMissing = u.get('b');
    out.getAllMissing = u.getAll('b');
    out.has = [u.has('a'), u.has('b')];
    const it = [];
    new URLSearchParams('x=1&y=2').forEach((v, k) => it.push(k + '=' + v));
    out.forEach = it;
    out.keys = [...new URLSearchParams('x=1&y=2&x=3').keys()];
    out.values = [...new URLSearchParams('x=1&y=2&x=3').values()];
    try {
      new URLSearchParams([['only-one']]);
      out.badPair = 'ok';
    } catch (e) {
      out.badPair = e.name;
    }
    out.decodeInvalid = [...new URLSearchParams('a=%FF%FE&b=%E2%9C')];
    return Response.json(out);
  },
};
