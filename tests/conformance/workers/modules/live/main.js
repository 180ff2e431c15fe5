// Named imports between the modules of one upload are live bindings (issue 25).
import whoAmI, { count, inc, reset, obj, swap, later, setLater, K, log, notFn, nothing } from './counter.js';
import * as ns from './counter.js';
import { count as c2, renamed, ns as ns2, snapshot, inc as inc2 } from './reexport.js';

log.push('main.js');
const atLoad = [count, ns.count];
inc(5);
atLoad.push(count, c2, renamed, ns2.count, snapshot);
reset();

function shadowedParam(count) { return count; }
function shadowedVar() { var count = 'var'; { return count; } }
function shadowedLet() { { let count = 'block'; if (count) return count; } }
function shadowedCatch() { try { throw 'caught'; } catch (count) { return count; } }
function shadowedLoop() { const out = []; for (const count of ['of']) out.push(count); for (let count = 0; count < 1; count++) out.push(count); return out; }
const arrow = (count) => count * 2;
const named = function count() { return typeof count; };
class Shadow { m({ count }) { return count; } static s = 'static'; }

export default {
  fetch(request) {
    reset();
    const path = new URL(request.url).pathname;
    const out = { path, log: [...log], atLoad };
    if (path === '/live') {
      out.before = count;
      out.after = [inc(), inc(2), count, ns.count, c2, renamed, ns2.count];
      inc2(10);
      out.viaReexport = [count, c2];
      const o = obj;
      swap();
      out.swapped = [o === obj, obj.n, ns.obj.n];
      out.later = [typeof later, later];
      setLater('set');
      out.later.push(later);
      out.shorthand = { count, later };
      out.typeof = [typeof count, typeof inc, typeof K];
      out.template = `${count}-${later}`;
    } else if (path === '/calls') {
      out.thisOfImport = whoAmI();
      out.thisOfTag = whoAmI``;
      out.thisViaNamespace = ns.default();
      out.optional = inc?.(0);
      out.optionalNull = nothing?.();
      const order = [];
      try { notFn(order.push('argument ran')); } catch (e) { out.notFn = `${e.name}: ${e.message}`; }
      out.order = order;
      try { notFn`x`; } catch (e) { out.notFnTag = `${e.name}: ${e.message}`; }
      try { notFn?.(); } catch (e) { out.notFnOptional = `${e.name}: ${e.message}`; }
      try { new notFn(); } catch (e) { out.notCtor = e.name; }
      // no semicolons: a call of an import on the next line is a statement of its own
      let asi = count
      inc()
      out.asi = [asi, count]
      out.newK = new K() instanceof K;
      out.staticK = K.tag;
    } else if (path === '/shadowing') {
      inc(7);
      out.values = [shadowedParam('param'), shadowedVar(), shadowedLet(), shadowedCatch(), shadowedLoop(),
        arrow(21), named(), new Shadow().m({ count: 'pattern' }), count];
    } else if (path === '/namespace') {
      out.keys = Object.keys(ns);
      out.keys2 = Object.keys(ns2);
      out.tag = Object.prototype.toString.call(ns);
      out.sealed = [Object.isExtensible(ns), Object.isSealed(ns)];
      out.has = ['count' in ns, 'nope' in ns, ns2 === ns];
      try { ns.count = 1; out.assignNs = 'no error'; } catch (e) { out.assignNs = e.name; }
    } else if (path === '/assign') {
      try { count = 1; out.assign = 'no error'; } catch (e) { out.assign = `${e.name}: ${e.message}`; }
      try { count++; out.update = 'no error'; } catch (e) { out.update = `${e.name}: ${e.message}`; }
      try { [count] = [2]; out.destructure = 'no error'; } catch (e) { out.destructure = `${e.name}: ${e.message}`; }
      out.count = count;
    }
    return Response.json(out);
  },
};
