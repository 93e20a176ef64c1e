// Spec §7.1/§7.3: every combination of the 12 flag bits — the 11 PA_* flags and one reserved bit —
// checked against the rules as read from the man page and the spec, written out here on their own.
import { describe, expect, it } from 'vitest';
import * as A from '../../bindings/solaris/affinity.js';
import { admin, errnoOf, h1, ref, SELF } from './fixtures.js';

const BITS: Array<[string, number]> = [
  ['PA_QUERY', A.PA_QUERY], ['PA_CLEAR', A.PA_CLEAR], ['PA_TYPE_CPU', A.PA_TYPE_CPU], ['PA_TYPE_PG', A.PA_TYPE_PG],
  ['PA_TYPE_LGRP', A.PA_TYPE_LGRP], ['PA_AFF_WEAK', A.PA_AFF_WEAK], ['PA_AFF_STRONG', A.PA_AFF_STRONG],
  ['PA_NEGATIVE', A.PA_NEGATIVE], ['PA_INH_EXEC', A.PA_INH_EXEC], ['PA_INH_FORK', A.PA_INH_FORK],
  ['PA_INH_THR', A.PA_INH_THR], ['reserved', 0x8],
];

/** The rules, by name: is this set of flags a valid call? */
function valid(on: Set<string>): boolean {
  const has = (n: string) => on.has(n);
  if (has('reserved')) return false;
  if (['PA_TYPE_CPU', 'PA_TYPE_PG', 'PA_TYPE_LGRP'].filter(has).length > 1) return false;
  if (has('PA_AFF_WEAK') && has('PA_AFF_STRONG')) return false;
  if (has('PA_QUERY') && has('PA_CLEAR')) return false;
  const setting = ['PA_AFF_WEAK', 'PA_AFF_STRONG', 'PA_NEGATIVE', 'PA_INH_EXEC', 'PA_INH_FORK', 'PA_INH_THR'].some(has);
  if (has('PA_QUERY') || has('PA_CLEAR')) return !setting; // query, clear and set are exclusive
  return has('PA_AFF_WEAK') || has('PA_AFF_STRONG'); // a SET names exactly one strength (OPEN-8)
}

describe('flag combinations', () => {
  it('the PA_NO_INH_* spellings are the PA_INH_* bits (OPEN-3) and all bits are distinct', () => {
    expect([A.PA_NO_INH_EXEC, A.PA_NO_INH_FORK, A.PA_NO_INH_THR]).toEqual([A.PA_INH_EXEC, A.PA_INH_FORK, A.PA_INH_THR]);
    expect(BITS.reduce((acc, [, b]) => acc | b, 0).toString(2).replace(/0/g, '')).toHaveLength(12);
  });
  it('all 4096 combinations: valid ones succeed (and SET records the flags), invalid ones are EINVAL', () => {
    const { sys } = h1();
    const root = admin(sys);
    let ok = 0;
    for (let combo = 0; combo < 1 << BITS.length; combo++) {
      const on = new Set(BITS.filter((_, i) => combo & (1 << i)).map(([n]) => n));
      const flags = BITS.reduce((f, [, b], i) => (combo & (1 << i) ? f | b : f), 0);
      // id 2 is CPU 2, PG 2 (core 0) or lgroup 2 (CPUs 8-15); -1 is no id of any type and is ignored
      const got = errnoOf(() => A.processorAffinity(sys, root, SELF, ref(2), [2, -1], ref(flags)));
      const want = valid(on) ? 'ok' : 'EINVAL';
      if (got !== want) expect(`${[...on].join('|') || '0'} -> ${got}`).toBe(`${[...on].join('|') || '0'} -> ${want}`);
      if (want === 'ok' && !on.has('PA_QUERY') && !on.has('PA_CLEAR')) {
        const q = ref(A.PA_QUERY);
        A.processorAffinity(sys, root, SELF, ref(0), null, q);
        expect(q.value).toBe(A.PA_TYPE_CPU | (flags & (A.PA_AFF_WEAK | A.PA_AFF_STRONG | A.PA_INH_EXEC | A.PA_INH_FORK | A.PA_INH_THR)));
      }
      if (want === 'ok') ok++;
    }
    // SET: 4 type choices (none, CPU, PG, LGRP) × 2 strengths × negative or not × 8 INH sets; QUERY, CLEAR: 4 each
    expect(ok).toBe(4 * 2 * 2 * 8 + 4 + 4);
  });
  it('EFAULT for flags comes before everything; precedence of §7.7', () => {
    const { sys, me } = h1();
    const bad = A.PA_QUERY | A.PA_CLEAR;
    expect(errnoOf(() => A.processorAffinity(sys, me, undefined, undefined, undefined, undefined))).toBe('EFAULT');
    expect(errnoOf(() => A.processorAffinity(sys, me, undefined, undefined, undefined, ref(bad)))).toBe('EINVAL');
    const STRONG = A.PA_AFF_STRONG;
    expect(errnoOf(() => A.processorAffinity(sys, me, undefined, undefined, undefined, ref(STRONG)))).toBe('EFAULT');
    const badPs = { p_op: 9, p_lidtype: 0, p_lid: 999, p_ridtype: 7, p_rid: 0 };
    expect(errnoOf(() => A.processorAffinity(sys, me, badPs, undefined, undefined, ref(STRONG)))).toBe('EINVAL');
    const noPid = { p_op: 1, p_lidtype: 0, p_lid: 999, p_ridtype: 7, p_rid: 0 };
    expect(errnoOf(() => A.processorAffinity(sys, me, noPid, ref(1), undefined, ref(STRONG)))).toBe('EFAULT');
    expect(errnoOf(() => A.processorAffinity(sys, me, noPid, ref(1), [99], ref(STRONG)))).toBe('EINVAL');
    expect(errnoOf(() => A.processorAffinity(sys, me, noPid, ref(1), [3], ref(STRONG)))).toBe('ESRCH');
    const p300 = { p_op: 1, p_lidtype: 0, p_lid: 300, p_ridtype: 7, p_rid: 0 };
    expect(errnoOf(() => A.processorAffinity(sys, me, p300, ref(1), [3], ref(STRONG)))).toBe('EPERM');
    // query: a copy-out fault comes last, after ESRCH
    expect(errnoOf(() => A.processorAffinity(sys, me, noPid, ref(4), undefined, ref(A.PA_QUERY)))).toBe('ESRCH');
    A.processorAffinity(sys, me, SELF, ref(2), [3, 4], ref(STRONG));
    expect(errnoOf(() => A.processorAffinity(sys, me, SELF, ref(4), undefined, ref(A.PA_QUERY)))).toBe('EFAULT');
    expect(errnoOf(() => A.processorAffinity(sys, me, SELF, ref(4), [0], ref(A.PA_QUERY)))).toBe('EFAULT');
    expect(errnoOf(() => A.processorAffinity(sys, me, SELF, undefined, null, ref(A.PA_QUERY)))).toBe('EFAULT');
  });
});
