// Every kernel of the WASM builds (SIMD and scalar) against the pure-TS reference, on random
// masks that include stray bits above nr_cpu_ids (the two widths of spec xen-hypervisor.md §2.1).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../bindings/engine.js';
import { createRng, type Rng } from '../../bindings/engine.js';

const WIDTHS = [1, 63, 64, 65, 127, 4096, 4097, 16384];
const KINDS = ['wasm', 'wasm-scalar', 'ts'] as const;

/** Raw random words, with a bias towards empty, full and sparse words so edge cases occur. */
function randomWords(rng: Rng, nwords: number): Uint32Array {
  const w = new Uint32Array(nwords * 2);
  const style = rng.below(5);
  for (let i = 0; i < w.length; i++) {
    if (style === 0) w[i] = 0;
    else if (style === 1) w[i] = 0xffffffff;
    else if (style === 2) w[i] = rng.below(8) === 0 ? 1 << rng.below(32) : 0;
    else w[i] = rng.next();
  }
  if (style === 0 && rng.below(2)) w[rng.below(w.length)] = 1 << rng.below(32);
  return w;
}

function put(e: Engine, words: Uint32Array): number {
  const h = e.alloc(e.cpuWords * 8);
  e.u32.set(words, h >>> 2);
  return h;
}
const raw = (e: Engine, h: number) => Array.from(e.u32.subarray(h >>> 2, (h >>> 2) + e.cpuWords * 2));

type Op = (e: Engine, a: number, b: number, d: number, r: Rng) => unknown;
const OPS: Record<string, Op> = {
  fill1: (e, _a, _b, d) => (e.k.fill(d, e.cpuWords, 1), raw(e, d)),
  fill0: (e, _a, _b, d) => (e.k.fill(d, e.cpuWords, 0), raw(e, d)),
  copy: (e, a, _b, d) => (e.k.copy(d, a, e.cpuWords), raw(e, d)),
  and: (e, a, b, d) => (e.k.and(d, a, b, e.cpuWords), raw(e, d)),
  or: (e, a, b, d) => (e.k.or(d, a, b, e.cpuWords), raw(e, d)),
  xor: (e, a, b, d) => (e.k.xor(d, a, b, e.cpuWords), raw(e, d)),
  andNot: (e, a, b, d) => (e.k.andNot(d, a, b, e.cpuWords), raw(e, d)),
  complement: (e, a, _b, d) => (e.k.complement(d, a, e.cpuWords), raw(e, d)),
  equal: (e, a, b) => e.k.equal(a, b, e.nrCpuIds),
  equalSelfCopy: (e, a, _b, d) => (e.k.copy(d, a, e.cpuWords), e.k.equal(a, d, e.nrCpuIds)),
  intersects: (e, a, b) => e.k.intersects(a, b, e.nrCpuIds),
  subset: (e, a, b) => e.k.subset(a, b, e.nrCpuIds),
  subsetOfOr: (e, a, b, d) => (e.k.or(d, a, b, e.cpuWords), e.k.subset(a, d, e.nrCpuIds)),
  empty: (e, a) => e.k.empty(a, e.nrCpuIds),
  full: (e, a) => e.k.full(a, e.nrCpuIds),
  weight: (e, a) => e.k.weight(a, e.nrCpuIds),
  first: (e, a) => e.k.first(a, e.nrCpuIds),
  last: (e, a) => e.k.last(a, e.nrCpuIds),
  nextMinus1: (e, a) => e.k.next(a, -1, e.nrCpuIds),
  next: (e, a, _b, _d, r) => e.k.next(a, r.below(e.nrCpuIds + 1) - 1, e.nrCpuIds),
  nextChain: (e, a) => {
    const out: number[] = [];
    for (let c = e.k.next(a, -1, e.nrCpuIds); c < e.nrCpuIds && out.length < 200; c = e.k.next(a, c, e.nrCpuIds)) out.push(c);
    return out;
  },
  cycle: (e, a, _b, _d, r) => e.k.cycle(a, r.below(e.nrCpuIds), e.nrCpuIds),
  testOrCycle: (e, a, _b, _d, r) => e.k.testOrCycle(a, r.below(e.nrCpuIds), e.nrCpuIds),
  nth: (e, a, _b, _d, r) => e.k.nth(a, r.below(e.nrCpuIds + 2), e.nrCpuIds),
  any: (e, a, _b, _d, r) => e.k.any(a, e.nrCpuIds, r.next()),
  forEach: (e, a, _b, d) => {
    const out = e.alloc(e.nrCpuIds * 4);
    const n = e.k.forEach(a, e.nrCpuIds, out);
    void d;
    return Array.from(e.i32.subarray(out >>> 2, (out >>> 2) + n));
  },
  hash: (e, a) => e.k.hash(a, e.nrCpuIds) >>> 0,
  clearTail: (e, a, _b, d) => (e.k.copy(d, a, e.cpuWords), e.k.clearTail(d, e.nrCpuIds), raw(e, d)),
  bits: (e, a, _b, d, r) => {
    e.k.copy(d, a, e.cpuWords);
    const c = r.below(e.nrCpuIds);
    return [e.k.testBit(d, c), e.k.testAndSet(d, c), e.k.testBit(d, c), e.k.testAndClear(d, c), e.k.testBit(d, c),
      (e.k.setBit(d, c), e.k.testBit(d, c)), (e.k.clearBit(d, c), raw(e, d))];
  },
};

describe('kernels: WASM (SIMD, scalar) equal the TS reference', () => {
  for (const width of WIDTHS) {
    it(`every kernel at ${width} CPUs`, () => {
      const engines = KINDS.map((k) => createEngine({ nrCpus: width, kernels: k }));
      const gen = createRng(width * 7919 + 1);
      for (let round = 0; round < 60; round++) {
        const wa = randomWords(gen, engines[0].cpuWords);
        const wb = gen.below(4) === 0 ? wa.slice() : randomWords(gen, engines[0].cpuWords);
        const seed = gen.next();
        for (const [name, op] of Object.entries(OPS)) {
          const results = engines.map((e) => {
            const a = put(e, wa), b = put(e, wb), d = put(e, randomWords(createRng(seed), e.cpuWords));
            const r = op(e, a, b, d, createRng(seed));
            for (const h of [a, b, d]) e.release(h, e.cpuWords * 8);
            return r;
          });
          expect(results[0], `${name} wasm vs ts (round ${round})`).toEqual(results[2]);
          expect(results[1], `${name} wasm-scalar vs ts (round ${round})`).toEqual(results[2]);
        }
      }
    });
  }

  it('bulk kernels: orMany, andMany and batchOp over many masks', () => {
    for (const width of [65, 4096, 16384]) {
      const engines = KINDS.map((k) => createEngine({ nrCpus: width, kernels: k }));
      const gen = createRng(width);
      for (let round = 0; round < 10; round++) {
        const count = gen.below(40);
        const words = Array.from({ length: count + 3 }, () => randomWords(gen, engines[0].cpuWords));
        const op = gen.below(4);
        const results = engines.map((e) => {
          const hs = words.map((w) => put(e, w));
          const d = put(e, new Uint32Array(e.cpuWords * 2));
          const [list] = e.writeLists(hs.slice(0, count));
          e.k.orMany(d, list, count, e.cpuWords);
          const orRes = raw(e, d);
          e.k.andMany(d, list, count, e.cpuWords);
          const andRes = raw(e, d);
          const [triples] = e.writeLists([hs[count], hs[count + 1], hs[count + 2], d, hs[0] ?? d, hs[count + 1]]);
          e.k.batchOp(op, triples, 2, e.cpuWords);
          return [orRes, andRes, raw(e, hs[count]), raw(e, d)];
        });
        expect(results[0]).toEqual(results[2]);
        expect(results[1]).toEqual(results[2]);
      }
    }
  });
});
