/**
 * The pure-TypeScript mask kernels: the same contract as `assembly/` (handles are byte
 * offsets into one linear memory, bitmaps are little-endian 64-bit words), written over
 * `Uint32Array` words. They are the oracle the WASM kernels are tested against and the
 * baseline the benchmarks compare with (spec xen-hypervisor.md §2 for the semantics).
 *
 * A 64-bit word i is the 32-bit words 2i (low) and 2i+1 (high), so every handle and layout
 * is shared with the WASM build.
 */

import type { Kernels } from '../kernels.js';
import type { LinearMemory } from '../engine.js';

const NO_NODE = 0xffff;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Valid-bit mask of 32-bit word j of an nbits-wide bitmap (0 above the last word). */
function mask32(j: number, nbits: number): number {
  const lo = j << 5;
  if (lo + 32 <= nbits) return 0xffffffff;
  if (lo >= nbits) return 0;
  return ((1 << (nbits - lo)) - 1) >>> 0;
}

export function createReferenceKernels(memory: LinearMemory): Kernels {
  let w = new Uint32Array(memory.buffer);
  let h16 = new Uint16Array(memory.buffer);
  let i32 = new Int32Array(memory.buffer);

  // Each binary op is its own loop (no callback per word) so the baseline is a fair one.
  const and = (d: number, a: number, b: number, nwords: number): void => {
    const D = d >>> 2, A = a >>> 2, B = b >>> 2, n = nwords * 2;
    for (let j = 0; j < n; j++) w[D + j] = w[A + j] & w[B + j];
  };
  const or = (d: number, a: number, b: number, nwords: number): void => {
    const D = d >>> 2, A = a >>> 2, B = b >>> 2, n = nwords * 2;
    for (let j = 0; j < n; j++) w[D + j] = w[A + j] | w[B + j];
  };
  const xor = (d: number, a: number, b: number, nwords: number): void => {
    const D = d >>> 2, A = a >>> 2, B = b >>> 2, n = nwords * 2;
    for (let j = 0; j < n; j++) w[D + j] = w[A + j] ^ w[B + j];
  };
  const andNot = (d: number, a: number, b: number, nwords: number): void => {
    const D = d >>> 2, A = a >>> 2, B = b >>> 2, n = nwords * 2;
    for (let j = 0; j < n; j++) w[D + j] = w[A + j] & ~w[B + j];
  };
  const words32 = (nbits: number): number => (nbits + 31) >>> 5;
  const validWord32 = (a: number, j: number, nbits: number): number => (w[(a >>> 2) + j] & mask32(j, nbits)) >>> 0;

  const findFrom = (a: number, from: number, nbits: number): number => {
    if (from >= nbits) return nbits;
    const n = words32(nbits);
    let j = from >>> 5;
    let x = (validWord32(a, j, nbits) & (0xffffffff << (from & 31))) >>> 0;
    for (;;) {
      if (x) return (j << 5) + ctz32(x);
      if (++j >= n) return nbits;
      x = validWord32(a, j, nbits);
    }
  };
  const weight = (a: number, nbits: number): number => {
    let c = 0;
    for (let j = 0, n = words32(nbits); j < n; j++) c += popcount32(validWord32(a, j, nbits));
    return c;
  };
  const nth = (a: number, k: number, nbits: number): number => {
    for (let j = 0, n = words32(nbits); j < n; j++) {
      let x = validWord32(a, j, nbits);
      const c = popcount32(x);
      if (k < c) {
        while (k-- > 0) x = (x & (x - 1)) >>> 0;
        return (j << 5) + ctz32(x);
      }
      k -= c;
    }
    return nbits;
  };
  const fill = (d: number, nwords: number, ones: number): void => {
    w.fill(ones ? 0xffffffff : 0, d >>> 2, (d >>> 2) + nwords * 2);
  };
  const empty = (a: number, nbits: number): number => {
    for (let j = 0, n = words32(nbits); j < n; j++) if (validWord32(a, j, nbits)) return 0;
    return 1;
  };
  const testBit = (a: number, bit: number): number => (w[(a >>> 2) + (bit >>> 5)] >>> (bit & 31)) & 1;
  const reduce = (d: number, list: number, count: number, nwords: number, op: number): void => {
    if (count === 0) return fill(d, nwords, op);
    const D = d >>> 2, n = nwords * 2, L = list >>> 2;
    w.copyWithin(D, w[L] >>> 2, (w[L] >>> 2) + n);
    for (let k = 1; k < count; k++) {
      const A = w[L + k] >>> 2;
      if (op === 0) for (let j = 0; j < n; j++) w[D + j] |= w[A + j];
      else for (let j = 0; j < n; j++) w[D + j] &= w[A + j];
    }
  };
  const setNode = (out: number, node: number): void => {
    w[(out >>> 2) + (node >>> 5)] |= 1 << (node & 31);
  };
  const updateNodeAff = (
    hardList: number, nHard: number, softList: number, nSoft: number, online: number,
    cpuToNode: number, wordNodes: number, nbits: number, out: number, nodeWords: number, H: number, S: number,
  ): number => {
    const nwords = (nbits + 63) >>> 6;
    reduce(H, hardList, nHard, nwords, 0);
    reduce(S, softList, nSoft, nwords, 0);
    and(H, H, online, nwords);
    and(S, S, H, nwords);
    const D = empty(S, nbits) ? H : S;
    fill(out, nodeWords, 0);
    for (let j = 0, n = words32(nbits); j < n; j++) {
      let x = validWord32(D, j, nbits);
      if (!x) continue;
      const wn = h16[(wordNodes >>> 1) + (j >>> 1)];
      if (wn !== NO_NODE) {
        setNode(out, wn);
        continue;
      }
      while (x) {
        const node = h16[(cpuToNode >>> 1) + (j << 5) + ctz32(x)];
        if (node !== NO_NODE) setNode(out, node);
        x = (x & (x - 1)) >>> 0;
      }
    }
    return empty(H, nbits);
  };

  return {
    refresh() {
      w = new Uint32Array(memory.buffer);
      h16 = new Uint16Array(memory.buffer);
      i32 = new Int32Array(memory.buffer);
    },
    fill,
    copy(d, s, nwords) {
      w.copyWithin(d >>> 2, s >>> 2, (s >>> 2) + nwords * 2);
    },
    and,
    or,
    xor,
    andNot,
    complement(d, s, nwords) {
      const D = d >>> 2, S = s >>> 2;
      for (let j = 0; j < nwords * 2; j++) w[D + j] = ~w[S + j];
    },
    equal(a, b, nbits) {
      for (let j = 0, n = words32(nbits); j < n; j++) if (validWord32(a, j, nbits) !== validWord32(b, j, nbits)) return 0;
      return 1;
    },
    intersects(a, b, nbits) {
      for (let j = 0, n = words32(nbits); j < n; j++) if (validWord32(a, j, nbits) & w[(b >>> 2) + j]) return 1;
      return 0;
    },
    subset(a, b, nbits) {
      for (let j = 0, n = words32(nbits); j < n; j++) if (validWord32(a, j, nbits) & ~w[(b >>> 2) + j]) return 0;
      return 1;
    },
    empty,
    full(a, nbits) {
      for (let j = 0, n = words32(nbits); j < n; j++) if (validWord32(a, j, nbits) !== mask32(j, nbits)) return 0;
      return 1;
    },
    weight,
    setBit(a, bit) {
      w[(a >>> 2) + (bit >>> 5)] |= 1 << (bit & 31);
    },
    clearBit(a, bit) {
      w[(a >>> 2) + (bit >>> 5)] &= ~(1 << (bit & 31));
    },
    testBit,
    testAndSet(a, bit) {
      const old = testBit(a, bit);
      w[(a >>> 2) + (bit >>> 5)] |= 1 << (bit & 31);
      return old;
    },
    testAndClear(a, bit) {
      const old = testBit(a, bit);
      w[(a >>> 2) + (bit >>> 5)] &= ~(1 << (bit & 31));
      return old;
    },
    first: (a, nbits) => findFrom(a, 0, nbits),
    next: (a, n, nbits) => findFrom(a, n + 1, nbits),
    last(a, nbits) {
      for (let j = words32(nbits) - 1; j >= 0; j--) {
        const x = validWord32(a, j, nbits);
        if (x) return (j << 5) + 31 - Math.clz32(x);
      }
      return nbits;
    },
    cycle(a, n, nbits) {
      const nxt = findFrom(a, n + 1, nbits);
      return nxt < nbits ? nxt : findFrom(a, 0, nbits);
    },
    testOrCycle(a, n, nbits) {
      if (n >= 0 && n < nbits && testBit(a, n)) return n;
      const nxt = findFrom(a, n + 1, nbits);
      return nxt < nbits ? nxt : findFrom(a, 0, nbits);
    },
    nth,
    any(a, nbits, rand) {
      const c = weight(a, nbits);
      return c === 0 ? nbits : nth(a, (rand >>> 0) % c, nbits);
    },
    forEach(a, nbits, out) {
      let k = 0;
      const O = out >>> 2;
      for (let j = 0, n = words32(nbits); j < n; j++) {
        let x = validWord32(a, j, nbits);
        while (x) {
          i32[O + k++] = (j << 5) + ctz32(x);
          x = (x & (x - 1)) >>> 0;
        }
      }
      return k;
    },
    hash(a, nbits) {
      // Four lanes, 32-bit word j into lane j % 4, folded at the end (assembly/masks.ts hash).
      const n = words32(nbits);
      const lanes = [0x811c9dc5, 0x01000193, 0x9e3779b1, 0x85ebca6b];
      for (let j = 0; j < n; j++) {
        let x = Math.imul((lanes[j & 3] ^ validWord32(a, j, nbits)) >>> 0, 0x9e3779b1) >>> 0;
        x = (x ^ (x >>> 15)) >>> 0;
        lanes[j & 3] = x;
      }
      let hv = nbits >>> 0;
      for (let l = 0; l < 4; l++) {
        hv = Math.imul((hv ^ lanes[l]) >>> 0, 0x85ebca6b) >>> 0;
        hv = (hv ^ (hv >>> (l === 3 ? 16 : 13))) >>> 0;
      }
      return hv;
    },
    clearTail(a, nbits) {
      const j = nbits >>> 5;
      if (nbits & 63) {
        const A = a >>> 2;
        w[A + j] &= mask32(j, nbits);
        if ((j & 1) === 0) w[A + j + 1] = 0;
      }
    },
    orMany: (d, list, count, nwords) => reduce(d, list, count, nwords, 0),
    andMany: (d, list, count, nwords) => reduce(d, list, count, nwords, 1),
    batchOp(op, triples, count, nwords) {
      const f = [and, or, xor, andNot][op];
      for (let k = 0, T = triples >>> 2; k < count; k++) f(w[T + 3 * k], w[T + 3 * k + 1], w[T + 3 * k + 2], nwords);
    },
    buildWordNodes(cpuToNode, nbits, wordNodes) {
      const C = cpuToNode >>> 1, W = wordNodes >>> 1;
      for (let i = 0, nw = (nbits + 63) >>> 6; i < nw; i++) {
        const lo = i << 6, hi = Math.min(lo + 64, nbits);
        let node = h16[C + lo];
        for (let c = lo + 1; c < hi && node !== NO_NODE; c++) if (h16[C + c] !== node) node = NO_NODE;
        h16[W + i] = node;
      }
    },
    updateNodeAff,
    updateNodeAffBatch(descs, count, cpuToNode, wordNodes, nbits, nodeWords, H, S) {
      let emptyH = 0;
      for (let k = 0, Dd = descs >>> 2; k < count; k++) {
        const b = Dd + 6 * k;
        emptyH += updateNodeAff(w[b], w[b + 1], w[b + 2], w[b + 3], w[b + 4], cpuToNode, wordNodes, nbits, w[b + 5], nodeWords, H, S);
      }
      return emptyH;
    },
  };
}
