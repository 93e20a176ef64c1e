// CpuMask/NodeMask semantics against a plain Set model written from spec xen-hypervisor.md §2,
// error handling, memory growth and interning.
import { describe, expect, it } from 'vitest';
import { createEngine, createRng } from '../../bindings/engine.js';
import { AffinityError } from '../../bindings/errors.js';
import { errnoOf } from '../helpers.js';

const KINDS = ['wasm', 'wasm-scalar', 'ts'] as const;

/** The obviously-correct model: a sorted array of members below n. */
function model(ids: Iterable<number>, n: number) {
  const s = [...new Set(ids)].filter((c) => c < n).sort((a, b) => a - b);
  return {
    s,
    first: () => (s.length ? s[0] : n),
    last: () => (s.length ? s[s.length - 1] : n),
    next: (k: number) => s.find((c) => c > k) ?? n,
    cycle: (k: number) => s.find((c) => c > k) ?? (s.length ? s[0] : n),
  };
}

describe.each(KINDS)('CpuMask semantics (%s kernels)', (kernels) => {
  it('queries follow the Set model at several widths', () => {
    for (const n of [1, 5, 64, 65, 130, 4097]) {
      const e = createEngine({ nrCpus: n, kernels, seed: 3 });
      const rng = createRng(n);
      for (let round = 0; round < 30; round++) {
        const ids = Array.from({ length: rng.below(Math.min(n, 40) + 1) }, () => rng.below(n));
        const m = e.cpumaskFrom(ids);
        const ref = model(ids, n);
        expect(m.toArray()).toEqual(ref.s);
        expect(m.weight()).toBe(ref.s.length);
        expect(m.isEmpty()).toBe(ref.s.length === 0);
        expect(m.isFull()).toBe(ref.s.length === n);
        expect(m.first()).toBe(ref.first());
        expect(m.last()).toBe(ref.last());
        expect(m.next(-1)).toBe(ref.first());
        const k = rng.below(n);
        expect(m.next(k)).toBe(ref.next(k));
        expect(m.cycle(k)).toBe(ref.cycle(k));
        expect(m.testOrCycle(k)).toBe(ref.s.includes(k) ? k : ref.cycle(k));
        const any = m.any();
        expect(ref.s.length === 0 ? any === n : ref.s.includes(any)).toBe(true);
        m.free();
      }
    }
  });

  it('"not found" is nr_cpu_ids, and cycle returns n when n is the only member', () => {
    const e = createEngine({ nrCpus: 100, kernels });
    const m = e.cpumask();
    expect([m.first(), m.last(), m.next(-1), m.cycle(5), m.any()]).toEqual([100, 100, 100, 100, 100]);
    m.set(42);
    expect(m.cycle(42)).toBe(42);
    expect(m.next(42)).toBe(100);
    expect(m.next(99)).toBe(100);
  });

  it('mutators work on whole words; queries ignore bits at or above nr_cpu_ids', () => {
    const e = createEngine({ nrCpus: 70, kernels });
    const all = e.cpumaskAll();
    expect(all.weight()).toBe(70);
    expect(all.isFull()).toBe(true);
    // setall filled 128 bits; complement of the empty mask too. They are equal as queries see them.
    const c = e.cpumask().complement();
    expect(c.equals(all)).toBe(true);
    const raw = e.u32.subarray(c.handle >>> 2, (c.handle >>> 2) + 4);
    expect(Array.from(raw)).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    // toWords exports only the bits below the width (masked, as Xen does on export, §5.4).
    expect(Array.from(c.toWords())).toEqual([0xffffffff, 0xffffffff, 0x3f, 0]);
    expect(c.complement().isEmpty()).toBe(true);
  });

  it('in-place set algebra and test-and-set return the old bit', () => {
    const e = createEngine({ nrCpus: 16, kernels });
    const a = e.cpumaskFrom([0, 1, 2, 3]);
    const b = e.cpumaskFrom([2, 3, 4]);
    expect(a.clone().and(b).toArray()).toEqual([2, 3]);
    expect(a.clone().or(b).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(a.clone().xor(b).toArray()).toEqual([0, 1, 4]);
    expect(a.clone().andNot(b).toArray()).toEqual([0, 1]);
    expect(a.intersects(b)).toBe(true);
    expect(e.cpumaskFrom([2]).isSubsetOf(b)).toBe(true);
    expect(a.isSubsetOf(b)).toBe(false);
    expect(a.testAndSet(9)).toBe(false);
    expect(a.testAndSet(9)).toBe(true);
    expect(a.testAndClear(9)).toBe(true);
    expect(a.test(9)).toBe(false);
    expect(String(a)).toBe('0-3');
  });

  it('bad input throws typed errors and leaves the mask unchanged', () => {
    const e = createEngine({ nrCpus: 8, kernels });
    const m = e.cpumaskFrom([1]);
    expect(errnoOf(() => m.set(8))).toBe('EINVAL');
    expect(errnoOf(() => m.set(-1))).toBe('EINVAL');
    expect(errnoOf(() => m.set(1.5))).toBe('EINVAL');
    expect(errnoOf(() => m.next(-2))).toBe('EINVAL');
    expect(errnoOf(() => e.cpumaskFrom([1, 99]))).toBe('EINVAL');
    expect(errnoOf(() => m.and(e.nodemask() as never))).toBe('EINVAL');
    const other = createEngine({ nrCpus: 8, kernels }).cpumask();
    expect(errnoOf(() => m.or(other))).toBe('EINVAL');
    expect(errnoOf(() => createEngine({ nrCpus: 0 }))).toBe('EINVAL');
    expect(errnoOf(() => createEngine({ nrCpus: 16385 }))).toBe('EINVAL');
    expect(errnoOf(() => createEngine({ nrCpus: 4, kernels: 'gpu' as never }))).toBe('EINVAL');
    expect(m.toArray()).toEqual([1]);
    const f = e.cpumask();
    f.free();
    expect(errnoOf(() => f.weight())).toBe('EINVAL');
  });

  it('NodeMask uses MAX_NUMNODES for queries and mutators (nodes_full needs all 64 bits)', () => {
    const e = createEngine({ nrCpus: 8, kernels });
    const all = e.nodemaskAll();
    expect(all.weight()).toBe(64);
    expect(all.isFull()).toBe(true);
    expect(e.nodemaskFrom([0, 1]).isFull()).toBe(false);
    expect(e.nodemask().first()).toBe(64);
    // Listing a node mask wider than the CPU count must not spill into engine tables.
    e.setCpuToNode([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(e.nodemaskAll().toArray()).toHaveLength(64);
    expect([0, 7].map((c) => e.cpuToNode(c))).toEqual([0, 1]);
    const wide = createEngine({ nrCpus: 8, nrNodes: 256, kernels });
    expect(wide.nodemaskOf(200).toArray()).toEqual([200]);
  });

  it('memory growth keeps earlier masks and views right', () => {
    const e = createEngine({ nrCpus: 16384, kernels });
    const first = e.cpumaskFrom([0, 16383]);
    const before = e.memory.buffer.byteLength;
    const masks = Array.from({ length: 300 }, (_, i) => e.cpumaskOf(i)); // 300 × 2 KiB
    expect(e.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(first.toArray()).toEqual([0, 16383]);
    masks.forEach((m, i) => expect(m.first()).toBe(i));
    expect(e.u32[(first.handle >>> 2) + 511]).toBe(0x80000000);
  });
});

describe('InternTable', () => {
  it('equal masks share one slot, refcounts free it, stray bits do not matter', () => {
    const e = createEngine({ nrCpus: 100 });
    const a = e.cpumaskAll(); // has bits 100-127 set
    const b = e.cpumaskFrom(Array.from({ length: 100 }, (_, i) => i));
    const ha = e.masks.intern(a);
    const hb = e.masks.intern(b);
    expect(hb).toBe(ha);
    expect(e.masks.size).toBe(1);
    expect(e.masks.refCount(ha)).toBe(2);
    const hc = e.masks.intern(e.cpumaskOf(3));
    expect(hc).not.toBe(ha);
    expect(e.masks.view(hc).toArray()).toEqual([3]);
    const five = e.cpumaskOf(5);
    e.masks.release(ha);
    e.masks.release(ha);
    expect(e.masks.size).toBe(1);
    expect(() => e.masks.release(ha)).toThrow(AffinityError);
    // A new distinct mask reuses the freed slot.
    expect(e.masks.intern(five)).toBe(ha);
  });
});
