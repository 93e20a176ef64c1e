// Mask kernels addressed by handle (a byte offset in linear memory): single bits, searches,
// iteration, hashing and the bulk operations over many masks. Semantics of Xen's cpumask.h /
// bitmap.c (spec xen-hypervisor.md §2.2): "not found" is `nbits` (nr_cpu_ids).

import { lastWordMask, and, or, xor, andNot, fill } from './words';

// @ts-ignore: decorator
@inline function wordPtr(a: usize, bit: i32): usize {
  return a + (<usize>(bit >>> 6) << 3);
}

// @ts-ignore: decorator
@inline function bitOf(bit: i32): u64 {
  return <u64>1 << <u64>(bit & 63);
}

/** cpumask_set_cpu. */
export function setBit(a: usize, bit: i32): void {
  const p = wordPtr(a, bit);
  store<u64>(p, load<u64>(p) | bitOf(bit));
}

/** cpumask_clear_cpu. */
export function clearBit(a: usize, bit: i32): void {
  const p = wordPtr(a, bit);
  store<u64>(p, load<u64>(p) & ~bitOf(bit));
}

/** cpumask_test_cpu. */
export function testBit(a: usize, bit: i32): i32 {
  return i32((load<u64>(wordPtr(a, bit)) & bitOf(bit)) != 0);
}

/** cpumask_test_and_set_cpu: the old bit. */
export function testAndSet(a: usize, bit: i32): i32 {
  const p = wordPtr(a, bit);
  const w = load<u64>(p);
  store<u64>(p, w | bitOf(bit));
  return i32((w & bitOf(bit)) != 0);
}

/** cpumask_test_and_clear_cpu: the old bit. */
export function testAndClear(a: usize, bit: i32): i32 {
  const p = wordPtr(a, bit);
  const w = load<u64>(p);
  store<u64>(p, w & ~bitOf(bit));
  return i32((w & bitOf(bit)) != 0);
}

/** Word i of `a` with the bits at or above nbits cleared. */
// @ts-ignore: decorator
@inline function validWord(a: usize, i: i32, nbits: i32): u64 {
  const w = load<u64>(a + (<usize>i << 3));
  return i == (nbits - 1) >>> 6 ? w & lastWordMask(nbits) : w;
}

/** Lowest set bit >= from, or nbits: find_next_bit. */
function findFrom(a: usize, from: i32, nbits: i32): i32 {
  if (from >= nbits) return nbits;
  const nw = (nbits + 63) >>> 6;
  let i = from >>> 6;
  let w = validWord(a, i, nbits) & (<u64>-1 << <u64>(from & 63));
  while (true) {
    if (w) return (i << 6) + <i32>ctz<u64>(w);
    if (++i >= nw) return nbits;
    w = validWord(a, i, nbits);
  }
}

/** cpumask_first. */
export function first(a: usize, nbits: i32): i32 {
  return findFrom(a, 0, nbits);
}

/** cpumask_next: lowest set bit > n (n = -1 gives the first). */
export function next(a: usize, n: i32, nbits: i32): i32 {
  return findFrom(a, n + 1, nbits);
}

/** cpumask_last: highest set bit, or nbits. */
export function last(a: usize, nbits: i32): i32 {
  for (let i = ((nbits + 63) >>> 6) - 1; i >= 0; i--) {
    const w = validWord(a, i, nbits);
    if (w) return (i << 6) + 63 - <i32>clz<u64>(w);
  }
  return nbits;
}

/** cpumask_cycle: next after n, wrapping to the first; nbits if empty. */
export function cycle(a: usize, n: i32, nbits: i32): i32 {
  const nxt = findFrom(a, n + 1, nbits);
  return nxt < nbits ? nxt : findFrom(a, 0, nbits);
}

/** cpumask_test_or_cycle: n if set, else cycle(n). */
export function testOrCycle(a: usize, n: i32, nbits: i32): i32 {
  if (n >= 0 && n < nbits && testBit(a, n)) return n;
  return cycle(a, n, nbits);
}

/** The k-th set bit (0-based) below nbits, or nbits. */
export function nth(a: usize, k: i32, nbits: i32): i32 {
  const nw = (nbits + 63) >>> 6;
  for (let i = 0; i < nw; i++) {
    let w = validWord(a, i, nbits);
    const c = <i32>popcnt<u64>(w);
    if (k < c) {
      while (k-- > 0) w &= w - 1;
      return (i << 6) + <i32>ctz<u64>(w);
    }
    k -= c;
  }
  return nbits;
}

/** cpumask_any: the (rand mod weight)-th member, or nbits when empty. */
export function any(a: usize, nbits: i32, rand: u32): i32 {
  const nw = (nbits + 63) >>> 6;
  let w: u32 = 0;
  for (let i = 0; i < nw; i++) w += <u32>popcnt<u64>(validWord(a, i, nbits));
  if (w == 0) return nbits;
  return nth(a, <i32>(rand % w), nbits);
}

/** for_each_cpu: writes the set bits below nbits, ascending, as i32 at `out`; returns the count. */
export function forEach(a: usize, nbits: i32, out: usize): i32 {
  const nw = (nbits + 63) >>> 6;
  let n = 0;
  for (let i = 0; i < nw; i++) {
    let w = validWord(a, i, nbits);
    while (w) {
      store<i32>(out + (<usize>n << 2), (i << 6) + <i32>ctz<u64>(w));
      n++;
      w &= w - 1;
    }
  }
  return n;
}

/**
 * A 32-bit hash of the bits below nbits (for interning equal masks). Four independent lanes —
 * 32-bit word j feeds lane j%4 — so the SIMD build hashes a v128 per step and no multiply
 * waits on the previous one; the lanes are folded at the end.
 */
export function hash(a: usize, nbits: i32): u32 {
  const n32 = (nbits + 31) >>> 5;
  // The last word is masked, so whole-v128 steps stop before it.
  const plain = (nbits & 31) ? n32 - 1 : n32;
  let h0: u32 = 0x811c9dc5, h1: u32 = 0x01000193, h2: u32 = 0x9e3779b1, h3: u32 = 0x85ebca6b;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = i32x4(0x811c9dc5, 0x01000193, 0x9e3779b1, 0x85ebca6b);
    const k = i32x4.splat(0x9e3779b1);
    for (; j + 4 <= plain; j += 4) {
      acc = i32x4.mul(v128.xor(acc, v128.load(a + (<usize>j << 2))), k);
      acc = v128.xor(acc, i32x4.shr_u(acc, 15));
    }
    h0 = i32x4.extract_lane(acc, 0); h1 = i32x4.extract_lane(acc, 1);
    h2 = i32x4.extract_lane(acc, 2); h3 = i32x4.extract_lane(acc, 3);
  }
  for (; j < n32; j++) {
    let w = load<u32>(a + (<usize>j << 2));
    if (j == n32 - 1 && (nbits & 31)) w &= (<u32>1 << <u32>(nbits & 31)) - 1;
    const lane = j & 3;
    let h = lane == 0 ? h0 : lane == 1 ? h1 : lane == 2 ? h2 : h3;
    h = (h ^ w) * 0x9e3779b1;
    h ^= h >>> 15;
    if (lane == 0) h0 = h; else if (lane == 1) h1 = h; else if (lane == 2) h2 = h; else h3 = h;
  }
  let h: u32 = <u32>nbits;
  h = (h ^ h0) * 0x85ebca6b; h ^= h >>> 13;
  h = (h ^ h1) * 0x85ebca6b; h ^= h >>> 13;
  h = (h ^ h2) * 0x85ebca6b; h ^= h >>> 13;
  h = (h ^ h3) * 0x85ebca6b; h ^= h >>> 16;
  return h;
}

/** Clears the bits at or above nbits in the last word (canonical form). */
export function clearTail(a: usize, nbits: i32): void {
  if (nbits & 63) {
    const p = a + (<usize>(nbits >>> 6) << 3);
    store<u64>(p, load<u64>(p) & lastWordMask(nbits));
  }
}

/**
 * d = OR (op 0) or AND (op 1) of `count` masks whose handles are u32s at `list`.
 * The accumulator for a block of 8 words stays in registers while every mask is read,
 * so `d` is written once per block instead of once per mask.
 */
function reduce(d: usize, list: usize, count: i32, nwords: i32, op: i32): void {
  if (count == 0) {
    fill(d, nwords, op);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= nwords; i += 8) {
      const off = <usize>i << 3;
      let p = <usize>load<u32>(list) + off;
      let a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
      for (let k = 1; k < count; k++) {
        p = <usize>load<u32>(list + (<usize>k << 2)) + off;
        if (op == 0) {
          a0 = v128.or(a0, v128.load(p)); a1 = v128.or(a1, v128.load(p, 16));
          a2 = v128.or(a2, v128.load(p, 32)); a3 = v128.or(a3, v128.load(p, 48));
        } else {
          a0 = v128.and(a0, v128.load(p)); a1 = v128.and(a1, v128.load(p, 16));
          a2 = v128.and(a2, v128.load(p, 32)); a3 = v128.and(a3, v128.load(p, 48));
        }
      }
      v128.store(d + off, a0); v128.store(d + off, a1, 16);
      v128.store(d + off, a2, 32); v128.store(d + off, a3, 48);
    }
  } else {
    for (; i + 4 <= nwords; i += 4) {
      const off = <usize>i << 3;
      let p = <usize>load<u32>(list) + off;
      let a0 = load<u64>(p), a1 = load<u64>(p, 8), a2 = load<u64>(p, 16), a3 = load<u64>(p, 24);
      for (let k = 1; k < count; k++) {
        p = <usize>load<u32>(list + (<usize>k << 2)) + off;
        if (op == 0) {
          a0 |= load<u64>(p); a1 |= load<u64>(p, 8); a2 |= load<u64>(p, 16); a3 |= load<u64>(p, 24);
        } else {
          a0 &= load<u64>(p); a1 &= load<u64>(p, 8); a2 &= load<u64>(p, 16); a3 &= load<u64>(p, 24);
        }
      }
      store<u64>(d + off, a0); store<u64>(d + off, a1, 8); store<u64>(d + off, a2, 16); store<u64>(d + off, a3, 24);
    }
  }
  for (; i < nwords; i++) {
    const off = <usize>i << 3;
    let acc = load<u64>(<usize>load<u32>(list) + off);
    for (let k = 1; k < count; k++) {
      const w = load<u64>(<usize>load<u32>(list + (<usize>k << 2)) + off);
      acc = op == 0 ? acc | w : acc & w;
    }
    store<u64>(d + off, acc);
  }
}

/** d = OR of the masks listed at `list` (count u32 handles); empty list gives the empty mask. */
export function orMany(d: usize, list: usize, count: i32, nwords: i32): void {
  reduce(d, list, count, nwords, 0);
}

/** d = AND of the masks listed at `list`; empty list gives the full mask. */
export function andMany(d: usize, list: usize, count: i32, nwords: i32): void {
  reduce(d, list, count, nwords, 1);
}

/** The same binary op (0 and, 1 or, 2 xor, 3 andnot) over `count` (d, a, b) u32 triples. */
export function batchOp(op: i32, triples: usize, count: i32, nwords: i32): void {
  for (let k = 0; k < count; k++) {
    const t = triples + <usize>k * 12;
    const d = <usize>load<u32>(t), a = <usize>load<u32>(t, 4), b = <usize>load<u32>(t, 8);
    if (op == 0) and(d, a, b, nwords);
    else if (op == 1) or(d, a, b, nwords);
    else if (op == 2) xor(d, a, b, nwords);
    else andNot(d, a, b, nwords);
  }
}
