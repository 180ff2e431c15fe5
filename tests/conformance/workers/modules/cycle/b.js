import { ping, log, A, fromC } from './a.js';
export function pong(n) { return n <= 0 ? 'b' : ping(n - 1); }
export const bval = 'b';
export class B { who() { return `B after ${new A().who()}`; } }
let early;
try { log.push('b.js'); early = 'none'; } catch (e) { early = `${e.name}: ${e.message}`; }
let cls;
try { cls = typeof A; } catch (e) { cls = `${e.name}: ${e.message}`; }
export { early };
// a function declaration of a module still on the way can be called already
export const hoisted = [typeof ping, ping(0), cls];
export const fromStar = typeof fromC === 'function' ? fromC() : fromC;
// a's default export (an expression) is in its dead zone too, read through a namespace
import * as nsA from './a.js';
let dflt;
try { dflt = nsA.default; } catch (e) { dflt = `${e.name}: ${e.message}`; }
export const later = () => nsA.default;
export { dflt };
