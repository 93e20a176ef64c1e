import { describe, expect, it } from 'vitest';
import {
  parseHostNumaAffinityPolicy,
  parseToolstackMode,
  parseXenopsdNumaPolicy,
  placementRuleOf,
  xenopsdDefaultPolicy,
  xenopsdPolicyLogName,
  xenopsdPolicyOf,
} from '../../../bindings/xen/xenopsd/policy.js';
import { errorOf } from './fixtures.js';

const errnoOf = (f: () => unknown) => errorOf(f).errno;

describe('xapi → xenopsd policy mapping (spec §3)', () => {
  it('reference mode: any → Any, best_effort → Best_effort, default_policy → Any', () => {
    expect(xenopsdPolicyOf('reference', 'any')).toBe('Any');
    expect(xenopsdPolicyOf('reference', 'best_effort')).toBe('Best_effort');
    expect(xenopsdPolicyOf('reference', 'default_policy')).toBe('Any');
    // The S xenopsd knows no Best_effort_hard: the pool restriction changes nothing there.
    expect(xenopsdPolicyOf('reference', 'best_effort', { restrictions: { restrict_hard_numa: 'false' } })).toBe('Best_effort');
    // Nor does xenopsd.conf: xapi always sends an explicit policy in S.
    expect(xenopsdPolicyOf('reference', 'default_policy', { conf: { numaPlacement: true } })).toBe('Any');
  });

  it('latest mode: best_effort → Best_effort_hard only when restrict_hard_numa is exactly "false"', () => {
    expect(xenopsdPolicyOf('latest', 'any')).toBe('Any');
    expect(xenopsdPolicyOf('latest', 'best_effort')).toBe('Best_effort');
    expect(xenopsdPolicyOf('latest', 'best_effort', { restrictions: { restrict_hard_numa: 'false' } })).toBe('Best_effort_hard');
    expect(xenopsdPolicyOf('latest', 'best_effort', { restrictions: { restrict_hard_numa: 'true' } })).toBe('Best_effort');
    expect(xenopsdPolicyOf('latest', 'best_effort', { restrictions: { restrict_hard_numa: 'False' } })).toBe('Best_effort');
  });

  it('latest mode: default_policy → the xenopsd.conf default', () => {
    expect(xenopsdPolicyOf('latest', 'default_policy')).toBe('Best_effort');
    expect(xenopsdPolicyOf('latest', 'default_policy', { conf: { numaPlacement: false } })).toBe('Any');
    expect(xenopsdPolicyOf('latest', 'default_policy', { conf: { numaPlacement: false, numaBestEffortPrioMemOnly: true } })).toBe('Any');
    expect(xenopsdPolicyOf('latest', 'default_policy', { conf: { numaBestEffortPrioMemOnly: true } })).toBe('Prio_mem_only');
    expect(xenopsdDefaultPolicy()).toBe('Best_effort');
  });

  it('placement rule per policy: affinity kind and cores', () => {
    expect(placementRuleOf('reference', 'Any')).toBeNull();
    expect(placementRuleOf('latest', 'Any')).toBeNull();
    expect(placementRuleOf('reference', 'Best_effort')).toEqual({ policy: 'Best_effort', affinity: 'soft', coresPerVcpu: false });
    expect(placementRuleOf('latest', 'Best_effort')).toEqual({ policy: 'Best_effort', affinity: 'soft', coresPerVcpu: true });
    expect(placementRuleOf('latest', 'Best_effort_hard')).toEqual({ policy: 'Best_effort_hard', affinity: 'hard', coresPerVcpu: true });
    expect(placementRuleOf('latest', 'Prio_mem_only')).toEqual({ policy: 'Prio_mem_only', affinity: 'soft', coresPerVcpu: false });
  });

  it('log names', () => {
    expect(['Any', 'Best_effort', 'Best_effort_hard', 'Prio_mem_only'].map((p) => xenopsdPolicyLogName(p as never))).toEqual([
      'any',
      'best-effort',
      'best-effort-hard',
      'prio-mem-only',
    ]);
  });
});

describe('policy names: parsing and rejection', () => {
  it('host policies are case-insensitive, as the CLI', () => {
    expect(parseHostNumaAffinityPolicy('Best_Effort')).toBe('best_effort');
    expect(parseHostNumaAffinityPolicy('ANY')).toBe('any');
    expect(parseHostNumaAffinityPolicy('default_policy')).toBe('default_policy');
  });
  it('unknown names are EINVAL', () => {
    expect(errnoOf(() => parseHostNumaAffinityPolicy('best-effort'))).toBe('EINVAL');
    expect(errnoOf(() => parseHostNumaAffinityPolicy('strict'))).toBe('EINVAL');
    expect(errnoOf(() => parseHostNumaAffinityPolicy(3))).toBe('EINVAL');
    expect(errnoOf(() => xenopsdPolicyOf('latest', 'nope' as never))).toBe('EINVAL');
    expect(errnoOf(() => parseToolstackMode('head'))).toBe('EINVAL');
    expect(errnoOf(() => xenopsdPolicyOf('head' as never, 'any'))).toBe('EINVAL');
  });
  it('the reference xenopsd has only Any and Best_effort', () => {
    expect(errnoOf(() => parseXenopsdNumaPolicy('reference', 'Best_effort_hard'))).toBe('EINVAL');
    expect(errnoOf(() => placementRuleOf('reference', 'Prio_mem_only'))).toBe('EINVAL');
    expect(parseXenopsdNumaPolicy('latest', 'Prio_mem_only')).toBe('Prio_mem_only');
    expect(errnoOf(() => parseXenopsdNumaPolicy('latest', 'best_effort'))).toBe('EINVAL');
  });
});
