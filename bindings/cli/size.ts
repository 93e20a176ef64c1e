/**
 * Size distributions of scenario fields (vCPUs per VM, LWPs per process, memory): a fixed
 * integer, `{"uniform": [min, max]}` or `{"choice": [a, b, …], "weights": [wa, wb, …]}`,
 * sampled with the run's seeded generator.
 */
import type { Rng } from '../engine.js';
import { arrayOf, int, num, obj, oneOf, type Schema } from './schema.js';

export const SIZE: Schema = oneOf(
  'an integer ≥ 1, {"uniform": [min, max]} or {"choice": [...], "weights": [...]}',
  int(1),
  obj({ uniform: arrayOf(int(1), 2, 2) }, ['uniform']),
  obj({ choice: arrayOf(int(1), 1), weights: arrayOf(num(0), 1) }, ['choice']),
);

export type Size = number | { uniform: [number, number] } | { choice: number[]; weights?: number[] };

/** One draw. */
export function sample(rng: Rng, size: unknown): number {
  const s = size as Size;
  if (typeof s === 'number') return s;
  if ('uniform' in s) {
    const [a, b] = s.uniform[0] <= s.uniform[1] ? s.uniform : [s.uniform[1], s.uniform[0]];
    return a + rng.below(b - a + 1);
  }
  const w = s.weights ?? s.choice.map(() => 1);
  const total = s.choice.reduce((t, _, i) => t + (w[i] ?? 0), 0);
  let x = (rng.next() / 0x100000000) * total;
  for (let i = 0; i < s.choice.length; i++) {
    x -= w[i] ?? 0;
    if (x < 0) return s.choice[i];
  }
  return s.choice[s.choice.length - 1];
}
