import { pong, bval, B } from './b.js';
export * from './c.js';
export const log = [];
log.push('a.js');
export function ping(n) { return n <= 0 ? 'a' : pong(n - 1); }
export function trace() { return [bval, new B().who(), typeof pong]; }
export class A { who() { return 'A'; } }
let seen;
try { seen = bval; } catch (e) { seen = `${e.name}: ${e.message}`; }
log.push(`a.js saw bval: ${seen}`);
export default 'A';
