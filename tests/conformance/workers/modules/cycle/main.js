// An import cycle: a.js <-> b.js (c.js imports b.js, and itself) (issue 25).
import { ping, trace, log } from './a.js';
import { pong, early, hoisted, fromStar, dflt, later } from './b.js';
import { selfView } from './c.js';
log.push('main.js');
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    const out = { path, order: [...log] };
    if (path === '/calls') {
      out.ping = ping(5);
      out.pong = pong(4);
      out.trace = trace();
    } else if (path === '/early') {
      out.early = early;
      out.hoisted = hoisted;
      out.fromStar = fromStar;
      out.dflt = [dflt, later()];
    } else if (path === '/self') {
      out.self = selfView();
    }
    return Response.json(out);
  },
};
