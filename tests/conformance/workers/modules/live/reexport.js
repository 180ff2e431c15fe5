// Re-exports of an import, under its name and another, and a snapshot.
import { count, log } from './counter.js';
export { count };
export { count as renamed, inc } from './counter.js';
export * as ns from './counter.js';
export const snapshot = count;
log.push('reexport.js');
