// url.searchParams mutations write back into the URL (and the reverse).
export default {
  fetch() {
    const steps = [];
    const u = new URL('https://example.com/p?b=2&a=1&a=3&c=%20x+y#h');
    const sp = u.searchParams;
    const snap = (what) => steps.push([what, u.href, u.search, sp.toString(), [...sp], sp.size]);
    snap('start');
    sp.append('d', 'a b&c=d');
    snap('append');
    sp.set('a', 'only');
    snap('set');
    sp.delete('b');
    snap('delete');
    sp.sort();
    snap('sort');
    sp.append('é', '✓ +');
    snap('unicode');
    u.search = '?z=1&y=2';
    snap('search setter');
    u.href = 'https://example.com/?q=1';
    snap('href setter');
    for (const k of [...sp.keys()]) sp.delete(k);
    snap('delete all');
    const v = new URL('https://example.com/?a=%zz&b=%41&c=%');
    steps.push(['bad escapes', [...v.searchParams], v.searchParams.toString()]);
    const w = new URL('https://example.com/?a=1&a=2&b=1');
    w.searchParams.delete('a', '2');
    steps.push(['delete with value', w.href, w.searchParams.has('a', '1'), w.searchParams.has('a', '2')]);
    return Response.json(steps);
  },
};
