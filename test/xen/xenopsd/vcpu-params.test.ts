import { describe, expect, it } from 'vitest';
import { affinityBitString, masksPerVcpu, ocamlIntOfString, xapiSchedulerParams } from '../../../bindings/xen/xenopsd/vcpu-params.js';
import { runningMinimum } from '../../../bindings/xen/xenopsd/placement.js';

/** xenopsd's strings for every vCPU of a VM (spec §5 "Xenopsd bit-string construction"). */
const strings = (params: Record<string, string>, vcpus: number, nrCpus = 8, host: Record<string, string> = {}) =>
  masksPerVcpu(xapiSchedulerParams(params, host).affinity, vcpus).map((m) => affinityBitString(m, nrCpus));

describe('VCPUs_params mask → vcpu/<n>/affinity bit-strings (spec §5 vectors, 8 pCPUs)', () => {
  it('mask 1,2,3 → 01110000 for every vCPU', () => {
    expect(strings({ mask: '1,2,3' }, 2)).toEqual(['01110000', '01110000']);
  });
  it('1,2;5 with 3 vCPUs → 01100000, 00000100, 01100000 (unlisted vCPUs take the first mask)', () => {
    expect(strings({ mask: '1,2;5' }, 3)).toEqual(['01100000', '00000100', '01100000']);
  });
  it('more masks than vCPUs: the extra ones are unused', () => {
    expect(strings({ mask: '0;1;2' }, 2)).toEqual(['10000000', '01000000']);
  });
  it('no mask → 11111111 for every vCPU', () => {
    expect(strings({}, 2)).toEqual(['11111111', '11111111']);
  });
  it('"1, 2" (a space) is a parse failure → no mask at all', () => {
    expect(xapiSchedulerParams({ mask: '1, 2' }).affinity).toEqual([]);
    expect(strings({ mask: '1, 2' }, 1)).toEqual(['11111111']);
  });
  it('an empty field or an empty mask string → no mask', () => {
    expect(xapiSchedulerParams({ mask: '1,,2' }).affinity).toEqual([]);
    expect(xapiSchedulerParams({ mask: '' }).affinity).toEqual([]);
    expect(xapiSchedulerParams({ mask: '1;' }).affinity).toEqual([]);
  });
  it('ids outside [0, max_cpu_id] are dropped from the string', () => {
    expect(strings({ mask: '-1,3,8,100' }, 1)).toEqual(['00010000']);
  });
  it('VM 2,3 ∩ host 0,1 → 00000000, and it still counts as a hard affinity', () => {
    const p = xapiSchedulerParams({ mask: '2,3' }, { mask: '0,1' });
    expect(p.affinity).toEqual([[]]);
    expect(strings({ mask: '2,3' }, 1, 8, { mask: '0,1' })).toEqual(['00000000']);
  });
  it('host mask alone applies to every vCPU; unparsable host mask is ignored', () => {
    expect(strings({}, 2, 8, { mask: '4,5' })).toEqual(['00001100', '00001100']);
    expect(strings({ mask: '1' }, 1, 8, { mask: '4 ,5' })).toEqual(['01000000']);
  });
});

describe('weight and cap as xapi parses them', () => {
  it('defaults 256 / 0; unparsable values fall back to the defaults', () => {
    expect(xapiSchedulerParams({})).toMatchObject({ weight: 256n, cap: 0n });
    expect(xapiSchedulerParams({ weight: 'heavy', cap: '1.5' })).toMatchObject({ weight: 256n, cap: 0n });
  });
  it('out-of-range values are passed on as they are (xenguest truncates them)', () => {
    expect(xapiSchedulerParams({ weight: '70000', cap: '-5' })).toMatchObject({ weight: 70000n, cap: -5n });
  });
});

describe('OCaml int_of_string', () => {
  it.each([
    ['42', 42n],
    ['-7', -7n],
    ['+7', 7n],
    ['0x1F', 31n],
    ['0o17', 15n],
    ['0b101', 5n],
    ['0u12', 12n],
    ['1_000', 1000n],
    ['0123', 123n],
    ['4611686018427387903', 4611686018427387903n],
    ['-4611686018427387904', -4611686018427387904n],
    ['0x7FFFFFFFFFFFFFFF', -1n],
  ])('%s → %s', (s, v) => expect(ocamlIntOfString(s)).toBe(v));
  it.each(['', ' 1', '1 ', '_1', '0x', '0b2', '1.0', '4611686018427387904', '0x8000000000000000', 'abc'])('%j fails', (s) => {
    expect(ocamlIntOfString(s)).toBeNull();
  });
});

describe('reference-mode running minimum of free memory (spec §4.6 vector)', () => {
  it('[10,10] → [6,10] → [10,10] → [10,3] observed gives [10,10] → [6,10] → [6,10] → [6,3]', () => {
    const observed = [[10, 10], [6, 10], [10, 10], [10, 3]];
    const seen: number[][] = [];
    let state: number[] | null = null;
    for (const o of observed) {
      state = runningMinimum(state, o);
      seen.push(state);
    }
    expect(seen).toEqual([[10, 10], [6, 10], [6, 10], [6, 3]]);
  });
});
