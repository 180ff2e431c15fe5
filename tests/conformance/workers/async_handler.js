// An async handler awaiting chains of promises.
const sleepless = (v) => new Promise((resolve) => resolve(v));
async function depth(n) {
  if (n === 0) return 0;
  return 1 + (await depth(n - 1));
}
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/deep') {
      return new Response(`depth ${await depth(200)}`);
    }
    const a = await sleepless(1);
    const [b, c] = await Promise.all([sleepless(2), Promise.resolve(3)]);
    const settled = await Promise.allSettled([Promise.reject(new Error('no')), sleepless('yes')]);
    const any = await Promise.any([Promise.reject(new Error('x')), sleepless('any')]);
    const race = await Promise.race([sleepless('first'), new Promise(() => {})]);
    return Response.json({ sum: a + b + c, settled: settled.map((s) => s.status), any, race });
  },
};
