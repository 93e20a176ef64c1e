// Word-level primitives over bitmaps resident in linear memory.
//
// A bitmap is a run of little-endian u64 words at a pointer (a "handle"); bit i lives in
// word i/64, bit i%64 — the layout of Xen's unsigned long bitmaps on x86-64 (spec
// xen-hypervisor.md §2). Two widths, as in Xen's cpumask.h (§2.1): mutators take `nwords`
// and work on whole words (nr_cpumask_bits); queries take `nbits` (nr_cpu_ids) and never
// look at bits at or above it.
//
// Every loop has a v128 path, compiled only into the SIMD build (ASC_FEATURE_SIMD), and the
// scalar loop that finishes the words the vector loop did not cover.

/** Mask of the valid bits of the last word of an `nbits`-wide bitmap (Xen BITMAP_LAST_WORD_MASK). */
// @ts-ignore: decorator
@inline export function lastWordMask(nbits: i32): u64 {
  const r = nbits & 63;
  return r == 0 ? <u64>-1 : (<u64>1 << <u64>r) - 1;
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 3);
}

/** d = fill over nwords (all ones or all zeros): bitmap_fill / bitmap_zero. */
export function fill(d: usize, nwords: i32, ones: i32): void {
  const v: u64 = ones ? <u64>-1 : 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = i64x2.splat(v);
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), vv);
  }
  for (; i < nwords; i++) store<u64>(at(d, i), v);
}

/** d = s over nwords: bitmap_copy. Masks never overlap partially, so a forward copy is right. */
export function copy(d: usize, s: usize, nwords: i32): void {
  memory.copy(d, s, <usize>nwords << 3);
}

/** d = a & b: bitmap_and. */
export function and(d: usize, a: usize, b: usize, nwords: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), v128.and(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < nwords; i++) store<u64>(at(d, i), load<u64>(at(a, i)) & load<u64>(at(b, i)));
}

/** d = a | b: bitmap_or. */
export function or(d: usize, a: usize, b: usize, nwords: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), v128.or(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < nwords; i++) store<u64>(at(d, i), load<u64>(at(a, i)) | load<u64>(at(b, i)));
}

/** d = a ^ b: bitmap_xor. */
export function xor(d: usize, a: usize, b: usize, nwords: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), v128.xor(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < nwords; i++) store<u64>(at(d, i), load<u64>(at(a, i)) ^ load<u64>(at(b, i)));
}

/** d = a & ~b: bitmap_andnot. */
export function andNot(d: usize, a: usize, b: usize, nwords: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), v128.andnot(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < nwords; i++) store<u64>(at(d, i), load<u64>(at(a, i)) & ~load<u64>(at(b, i)));
}

/** d = ~s over whole words: bitmap_complement (sets bits >= nbits too, as Xen does). */
export function complement(d: usize, s: usize, nwords: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= nwords; i += 2) v128.store(at(d, i), v128.not(v128.load(at(s, i))));
  }
  for (; i < nwords; i++) store<u64>(at(d, i), ~load<u64>(at(s, i)));
}

/** a == b below nbits: bitmap_equal. */
export function equal(a: usize, b: usize, nbits: i32): i32 {
  const full = nbits >>> 6;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= full; i += 2) {
      if (v128.any_true(v128.xor(v128.load(at(a, i)), v128.load(at(b, i))))) return 0;
    }
  }
  for (; i < full; i++) if (load<u64>(at(a, i)) != load<u64>(at(b, i))) return 0;
  if (nbits & 63) return i32(((load<u64>(at(a, full)) ^ load<u64>(at(b, full))) & lastWordMask(nbits)) == 0);
  return 1;
}

/** a & b has a bit below nbits: bitmap_intersects. */
export function intersects(a: usize, b: usize, nbits: i32): i32 {
  const full = nbits >>> 6;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= full; i += 2) {
      if (v128.any_true(v128.and(v128.load(at(a, i)), v128.load(at(b, i))))) return 1;
    }
  }
  for (; i < full; i++) if (load<u64>(at(a, i)) & load<u64>(at(b, i))) return 1;
  if (nbits & 63) return i32((load<u64>(at(a, full)) & load<u64>(at(b, full)) & lastWordMask(nbits)) != 0);
  return 0;
}

/** a ⊆ b below nbits: bitmap_subset. */
export function subset(a: usize, b: usize, nbits: i32): i32 {
  const full = nbits >>> 6;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= full; i += 2) {
      if (v128.any_true(v128.andnot(v128.load(at(a, i)), v128.load(at(b, i))))) return 0;
    }
  }
  for (; i < full; i++) if (load<u64>(at(a, i)) & ~load<u64>(at(b, i))) return 0;
  if (nbits & 63) return i32((load<u64>(at(a, full)) & ~load<u64>(at(b, full)) & lastWordMask(nbits)) == 0);
  return 1;
}

/** No bit below nbits: bitmap_empty. */
export function empty(a: usize, nbits: i32): i32 {
  const full = nbits >>> 6;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= full; i += 2) if (v128.any_true(v128.load(at(a, i)))) return 0;
  }
  for (; i < full; i++) if (load<u64>(at(a, i))) return 0;
  if (nbits & 63) return i32((load<u64>(at(a, full)) & lastWordMask(nbits)) == 0);
  return 1;
}

/** Every bit below nbits: bitmap_full. */
export function full(a: usize, nbits: i32): i32 {
  const fullWords = nbits >>> 6;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= fullWords; i += 2) if (v128.any_true(v128.not(v128.load(at(a, i))))) return 0;
  }
  for (; i < fullWords; i++) if (load<u64>(at(a, i)) != <u64>-1) return 0;
  if (nbits & 63) {
    const m = lastWordMask(nbits);
    return i32((load<u64>(at(a, fullWords)) & m) == m);
  }
  return 1;
}

/** Population count below nbits: bitmap_weight. */
export function weight(a: usize, nbits: i32): i32 {
  const full = nbits >>> 6;
  let n: u64 = 0;
  for (let i = 0; i < full; i++) n += popcnt<u64>(load<u64>(at(a, i)));
  if (nbits & 63) n += popcnt<u64>(load<u64>(at(a, full)) & lastWordMask(nbits));
  return <i32>n;
}
