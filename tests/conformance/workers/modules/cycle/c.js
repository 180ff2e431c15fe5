import { bval } from './b.js';
export function fromC() { return `c sees ${bval}`; }
import * as self from './c.js';
export const mine = 'c';
export function selfView() { return [self.mine, typeof self.selfView, Object.keys(self)]; }
