// Format goldens (spec xen-hypervisor.md §5.4, §9; xenopsd-xenguest.md §5-6) and hwloc's own
// hwloc-calc as a live oracle for the hwloc bitmap and taskset forms.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createEngine, createRng } from '../../bindings/engine.js';
import { errnoOf } from '../helpers.js';
import {
  bitStringToCpumap, formatBitString, formatCpulist, formatHwlocBitmap, formatHwlocTaskset, formatLinuxHex, formatXl,
  fromXenctlBitmap, parseBitString, parseCpulist, parseHwlocBitmap, parseLinuxHex, parseXlCpulist, toXenctlBitmap,
} from '../../bindings/mask/formats/index.js';


describe('cpulist', () => {
  const e = createEngine({ nrCpus: 16 });
  it('parses and prints runs; round-trips', () => {
    expect(parseCpulist(e, '0-3,8,10-11\n').toArray()).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(formatCpulist(e.cpumaskFrom([0, 1, 2, 3, 8, 10, 11]))).toBe('0-3,8,10-11');
    expect(formatCpulist(e.cpumaskFrom([3, 4]))).toBe('3-4');
    expect(formatCpulist(e.cpumask())).toBe('');
    expect(parseCpulist(e, '').isEmpty()).toBe(true);
    const rng = createRng(5);
    for (let i = 0; i < 50; i++) {
      const m = e.cpumaskFrom(Array.from({ length: rng.below(16) }, () => rng.below(16)));
      expect(parseCpulist(e, formatCpulist(m)).equals(m)).toBe(true);
    }
  });
  it('rejects malformed lists (EINVAL) and ids beyond the width (ERANGE)', () => {
    for (const bad of ['1,,2', '3-1', 'a', '1-', '-1', '0x3', '1 2']) expect(errnoOf(() => parseCpulist(e, bad))).toBe('EINVAL');
    expect(errnoOf(() => parseCpulist(e, '0-16'))).toBe('ERANGE');
  });
});

describe('Linux hex mask', () => {
  it('pads the first group to its bits and later groups to 8 digits (%*pb)', () => {
    const e = createEngine({ nrCpus: 40 });
    expect(formatLinuxHex(e.cpumaskFrom([0, 1, 2, 3]))).toBe('00,0000000f');
    expect(formatLinuxHex(e.cpumaskAll())).toBe('ff,ffffffff');
    const e8 = createEngine({ nrCpus: 8 });
    expect(formatLinuxHex(e8.cpumaskOf(7))).toBe('80');
  });
  it('parses and round-trips; errors', () => {
    const e = createEngine({ nrCpus: 40 });
    expect(parseLinuxHex(e.cpumask(), 'ff,ffffffff').weight()).toBe(40);
    expect(parseLinuxHex(e.cpumask(), '1,00000001').toArray()).toEqual([0, 32]);
    const rng = createRng(8);
    for (let i = 0; i < 30; i++) {
      const m = e.cpumaskFrom(Array.from({ length: rng.below(40) }, () => rng.below(40)));
      expect(parseLinuxHex(e.cpumask(), formatLinuxHex(m)).equals(m)).toBe(true);
    }
    expect(errnoOf(() => parseLinuxHex(e.cpumask(), '1ff,ffffffff'))).toBe('ERANGE');
    expect(errnoOf(() => parseLinuxHex(e.cpumask(), 'fg'))).toBe('EINVAL');
    expect(errnoOf(() => parseLinuxHex(e.cpumask(), '123456789'))).toBe('EINVAL');
  });
});

describe('hwloc bitmap strings, against hwloc-calc', () => {
  const calc = (args: string[]) =>
    execFileSync('hwloc-calc', ['-i', 'pu:200', '-q', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  it('our printers equal hwloc-calc for random sets; our parsers read what it prints', () => {
    const e = createEngine({ nrCpus: 200 });
    const rng = createRng(13);
    const sets = [[], [0], [199], [0, 1, 2, 3, 33], Array.from({ length: 200 }, (_, i) => i)];
    for (let i = 0; i < 8; i++) sets.push(Array.from({ length: 1 + rng.below(30) }, () => rng.below(200)));
    for (const ids of sets) {
      const m = e.cpumaskFrom(ids);
      const list = m.toArray();
      const hw = calc(list.length ? list.map((c) => `pu:${c}`) : ['pu:0', '~pu:0']);
      const ts = calc(['--taskset', ...(list.length ? list.map((c) => `pu:${c}`) : ['pu:0', '~pu:0'])]);
      expect(formatHwlocBitmap(m)).toBe(hw);
      expect(formatHwlocTaskset(m)).toBe(ts);
      expect(parseHwlocBitmap(e.cpumask(), hw).equals(m)).toBe(true);
      expect(parseHwlocBitmap(e.cpumask(), ts).equals(m)).toBe(true);
      if (list.length) expect(calc(['-I', 'pu', formatHwlocBitmap(m)])).toBe(list.join(','));
    }
  });
  it('rejects malformed strings and bits beyond the width', () => {
    const e = createEngine({ nrCpus: 8 });
    expect(errnoOf(() => parseHwlocBitmap(e.cpumask(), 'ff'))).toBe('EINVAL');
    expect(errnoOf(() => parseHwlocBitmap(e.cpumask(), ',0x2'))).toBe('EINVAL');
    expect(parseHwlocBitmap(createEngine({ nrCpus: 65 }).cpumask(), '0x1,,0x0').toArray()).toEqual([64]);
    expect(errnoOf(() => parseHwlocBitmap(e.cpumask(), '0x100'))).toBe('ERANGE');
    expect(parseHwlocBitmap(e.cpumask(), '0xf...f').isFull()).toBe(true);
  });
});

describe('xl cpulist syntax (spec §9)', () => {
  // 2 nodes: node0 = CPUs 0-3, node1 = CPUs 4-7.
  const e = createEngine({ nrCpus: 8 });
  e.setCpuToNode([0, 0, 0, 0, 1, 1, 1, 1]);
  const xl = (s: string) => parseXlCpulist(e, s).toArray();
  it('applies tokens left to right from an empty map', () => {
    expect(xl('0-7,^2')).toEqual([0, 1, 3, 4, 5, 6, 7]);
    expect(xl('^2,0-7')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(xl('^2')).toEqual([]);
    expect(xl('all,^node:0')).toEqual([4, 5, 6, 7]);
    expect(xl('node:1,^5')).toEqual([4, 6, 7]);
    expect(xl('nodes:0-1,^nodes:1')).toEqual([0, 1, 2, 3]);
    expect(xl('nodes:all')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(xl('1,,3')).toEqual([1, 3]);
  });
  it('silently drops ids beyond the map and unknown nodes', () => {
    expect(xl('0-1000')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(xl('node:9')).toEqual([]);
    expect(xl('6-9')).toEqual([6, 7]);
  });
  it('reads numbers as strtoul does', () => {
    expect(xl(' 5')).toEqual([5]);
    expect(xl('+5')).toEqual([5]);
    for (const bad of ['0-3 ', 'node:^1', '0x3', '', 'a', '3-1', '^all', '^nodes:all', '-1', '18446744073709551615', '1-']) {
      if (bad === '') continue;
      expect(errnoOf(() => parseXlCpulist(e, bad)), bad).toBe('EINVAL');
    }
    expect(xl('')).toEqual([]);
  });
  it('prints as xl print_bitmap: none, all, runs', () => {
    expect(formatXl(e.cpumask())).toBe('none');
    expect(formatXl(e.cpumaskAll())).toBe('all');
    expect(formatXl(e.cpumaskFrom([0, 1, 2, 3, 4, 5, 6, 7]))).toBe('all');
    expect(formatXl(e.cpumaskFrom([0, 1, 2, 3, 4, 5, 6]))).toBe('0-6');
    expect(formatXl(e.cpumaskFrom([3, 4, 6]))).toBe('3-4,6');
  });
  it('needs a node table for node: tokens, unless given nodeCpus', () => {
    const bare = createEngine({ nrCpus: 8 });
    expect(errnoOf(() => parseXlCpulist(bare, 'node:0'))).toBe('EINVAL');
    expect(parseXlCpulist(bare, 'node:0', (n) => (n === 0 ? bare.cpumaskFrom([6]) : undefined)).toArray()).toEqual([6]);
  });
});

describe('xenctl_bitmap (spec §5.4)', () => {
  it('bit i is byte i/8 bit i%8', () => {
    const e = createEngine({ nrCpus: 16 });
    expect(Array.from(toXenctlBitmap(e.cpumaskFrom([0, 9, 15])))).toEqual([0x01, 0x82]);
    expect(fromXenctlBitmap(e.cpumask(), new Uint8Array([0x01, 0x82]), 16).toArray()).toEqual([0, 9, 15]);
  });
  it('IN: extra guest bits are dropped, missing bits are zero, never an error', () => {
    const e = createEngine({ nrCpus: 8 });
    // 2-byte guest map on an 8-CPU host: byte 1 (CPU 9) dropped (§11 golden vector).
    expect(fromXenctlBitmap(e.cpumask(), new Uint8Array([0x00, 0x02]), 16).isEmpty()).toBe(true);
    expect(fromXenctlBitmap(e.cpumask(), new Uint8Array([0x11, 0xff]), 16).toArray()).toEqual([0, 4]);
    const e20 = createEngine({ nrCpus: 20 });
    expect(fromXenctlBitmap(e20.cpumaskAll(), new Uint8Array([0xff]), 8).toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // nr_bits % 8 with a short guest map: bits ≥ nr_bits in the last guest byte are cleared.
    expect(fromXenctlBitmap(e20.cpumask(), new Uint8Array([0xff]), 5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(fromXenctlBitmap(e20.cpumask(), new Uint8Array([]), 0).isEmpty()).toBe(true);
  });
  it('IN: a buffer shorter than nr_bits needs is EFAULT and leaves the mask alone', () => {
    const e = createEngine({ nrCpus: 16 });
    const m = e.cpumaskOf(3);
    expect(errnoOf(() => fromXenctlBitmap(m, new Uint8Array([0xff]), 16))).toBe('EFAULT');
    expect(m.toArray()).toEqual([3]);
  });
  it('OUT: bits ≥ nr_cpu_ids masked, short buffers truncated, long ones zero-filled', () => {
    const e = createEngine({ nrCpus: 12 });
    expect(Array.from(toXenctlBitmap(e.cpumaskAll()))).toEqual([0xff, 0x0f]);
    expect(Array.from(toXenctlBitmap(e.cpumaskAll(), 8))).toEqual([0xff]);
    expect(Array.from(toXenctlBitmap(e.cpumaskAll(), 32))).toEqual([0xff, 0x0f, 0, 0]);
    expect(Array.from(toXenctlBitmap(e.nodemaskAll()))).toEqual(new Array(8).fill(0xff));
  });
});

describe('xenguest bit-string (xenopsd-xenguest.md §5-6 vectors)', () => {
  it('only "1" sets a bit; characters beyond the map are ignored', () => {
    expect(Array.from(bitStringToCpumap('1100', 1))).toEqual([0x03]);
    expect(Array.from(bitStringToCpumap('0000000011', 2))).toEqual([0x00, 0x03]);
    expect(Array.from(bitStringToCpumap('1x1,1', 1))).toEqual([0x15]);
    expect(Array.from(bitStringToCpumap('11111111111', 1))).toEqual([0xff]);
    expect(Array.from(bitStringToCpumap('', 1))).toEqual([0x00]);
  });
  it('xenopsd writes nr_cpu_ids characters, CPU 0 leftmost; parse round-trips', () => {
    const e = createEngine({ nrCpus: 8 });
    expect(formatBitString(e.cpumaskFrom([1, 2, 3]))).toBe('01110000');
    expect(formatBitString(e.cpumaskAll())).toBe('11111111');
    expect(parseBitString(e, '01110000111').toArray()).toEqual([1, 2, 3]);
  });
});
