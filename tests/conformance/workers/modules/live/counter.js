// Exports whose values change after they were imported (live bindings).
export let count = 0;
export function inc(by = 1) { count += by; return count; }
export function reset() { count = 0; obj = { n: 1 }; later = undefined; }
export let obj = { n: 1 };
export function swap() { obj = { n: obj.n + 1 }; }
export var later;
export function setLater(v) { later = v; }
export class K { static tag = 'k'; }
export default function whoAmI() { return this === undefined ? 'undefined' : typeof this; }
export const log = [];
log.push('counter.js');
export const notFn = 5;
export let nothing = null;
