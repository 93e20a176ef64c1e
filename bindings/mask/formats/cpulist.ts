/**
 * cpulist: `0-3,8,10-11` — the Linux sysfs / `taskset -c` list form, and Xen's `%*pbl` printk
 * form (spec xen-hypervisor.md §9.2): runs of two or more as `a-b`, singletons as `a`, empty as ``.
 */

import { fail } from '../../errors.js';
import type { Engine } from '../../engine.js';
import type { Bitmap } from '../bitmap.js';
import type { CpuMask } from '../cpumask.js';
import type { NodeMask } from '../nodemask.js';

/**
 * Runs of a sorted id list: `a-b` for runs of two or more, `a` for singletons, joined by `sep`
 * (`,` for cpulists and xl; Solaris pginfo joins with spaces).
 */
export function formatRuns(ids: readonly number[], sep = ','): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    out.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j + 1;
  }
  return out.join(sep);
}

export function formatCpulist(m: Bitmap): string {
  return formatRuns(m.toArray());
}

/**
 * The ids of a cpulist, ascending order not required. Whitespace around the list (a sysfs
 * file's newline) is accepted; an empty list is the empty set. EINVAL for malformed text,
 * ERANGE for an id at or above `limit` (Linux bitmap_parselist).
 */
export function parseIdList(text: string, limit: number, what = 'cpulist'): number[] {
  if (typeof text !== 'string') fail('EINVAL', `${what} must be a string`);
  const s = text.trim();
  if (s === '') return [];
  const ids: number[] = [];
  for (const tok of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(tok);
    if (!m) fail('EINVAL', `${what} ${JSON.stringify(text)}: bad element ${JSON.stringify(tok)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) fail('EINVAL', `${what} ${JSON.stringify(text)}: range ${tok} ends before it starts`);
    if (b >= limit) fail('ERANGE', `${what} ${JSON.stringify(text)}: ${b} is not below ${limit}`);
    for (let i = a; i <= b; i++) ids.push(i);
  }
  return ids;
}

export function parseCpulist(engine: Engine, text: string): CpuMask {
  return engine.cpumaskFrom(parseIdList(text, engine.nrCpuIds));
}

export function parseNodelist(engine: Engine, text: string): NodeMask {
  return engine.nodemaskFrom(parseIdList(text, engine.nrNodes, 'nodelist'));
}
