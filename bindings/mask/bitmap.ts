/**
 * The operations shared by {@link CpuMask} and {@link NodeMask}: a fixed-width bitmap resident
 * in an engine's memory, named by its handle. Semantics are Xen's bitmap.h/cpumask.h (spec
 * xen-hypervisor.md §2): mutators work over whole 64-bit words, queries look only below the
 * width (`nbits`), and searches return `nbits` for "not found".
 */

import { fail } from '../errors.js';
import type { Engine } from '../engine.js';

export abstract class Bitmap {
  /** 'cpu' masks are nr_cpu_ids wide, 'node' masks MAX_NUMNODES wide; the two never mix. */
  abstract readonly kind: 'cpu' | 'node';
  /** Bits seen by queries (nr_cpu_ids or MAX_NUMNODES). */
  readonly nbits: number;
  /** 64-bit words touched by mutators. */
  readonly nwords: number;

  constructor(
    readonly engine: Engine,
    private h: number,
    nbits: number,
  ) {
    this.nbits = nbits;
    this.nwords = (nbits + 63) >>> 6;
  }

  /** Byte offset of the mask in engine memory, for the handle-level kernels. */
  get handle(): number {
    if (this.h < 0) fail('EINVAL', `${this.kind} mask used after free()`);
    return this.h;
  }

  protected bit(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.nbits) {
      fail('EINVAL', `${this.kind} ${i} is out of range 0-${this.nbits - 1}`);
    }
    return i;
  }

  protected same(o: this): number {
    if (!(o instanceof Bitmap) || o.kind !== this.kind || o.engine !== this.engine) {
      fail('EINVAL', `operand is not a ${this.kind} mask of the same engine`);
    }
    return o.handle;
  }

  /** Sets bit i: cpumask_set_cpu / node_set. */
  set(i: number): this {
    this.engine.k.setBit(this.handle, this.bit(i));
    return this;
  }
  /** Clears bit i: cpumask_clear_cpu / node_clear. */
  clear(i: number): this {
    this.engine.k.clearBit(this.handle, this.bit(i));
    return this;
  }
  /** cpumask_test_cpu / node_isset. */
  test(i: number): boolean {
    return this.engine.k.testBit(this.handle, this.bit(i)) !== 0;
  }
  /** cpumask_test_and_set_cpu: sets bit i and returns its old value. */
  testAndSet(i: number): boolean {
    return this.engine.k.testAndSet(this.handle, this.bit(i)) !== 0;
  }
  /** cpumask_test_and_clear_cpu: clears bit i and returns its old value. */
  testAndClear(i: number): boolean {
    return this.engine.k.testAndClear(this.handle, this.bit(i)) !== 0;
  }
  /** cpumask_setall / nodes_setall: every bit of every word (also bits ≥ nbits, as Xen). */
  setAll(): this {
    this.engine.k.fill(this.handle, this.nwords, 1);
    return this;
  }
  /** cpumask_clear / nodes_clear. */
  clearAll(): this {
    this.engine.k.fill(this.handle, this.nwords, 0);
    return this;
  }
  /** cpumask_copy(this, src). */
  copy(src: this): this {
    this.engine.k.copy(this.handle, this.same(src), this.nwords);
    return this;
  }
  /** cpumask_and(this, this, o). */
  and(o: this): this {
    const h = this.handle;
    this.engine.k.and(h, h, this.same(o), this.nwords);
    return this;
  }
  /** cpumask_or(this, this, o). */
  or(o: this): this {
    const h = this.handle;
    this.engine.k.or(h, h, this.same(o), this.nwords);
    return this;
  }
  /** cpumask_xor(this, this, o). */
  xor(o: this): this {
    const h = this.handle;
    this.engine.k.xor(h, h, this.same(o), this.nwords);
    return this;
  }
  /** cpumask_andnot(this, this, o): this & ~o. */
  andNot(o: this): this {
    const h = this.handle;
    this.engine.k.andNot(h, h, this.same(o), this.nwords);
    return this;
  }
  /** cpumask_complement(this, this) over whole words. */
  complement(): this {
    const h = this.handle;
    this.engine.k.complement(h, h, this.nwords);
    return this;
  }
  /** cpumask_equal. */
  equals(o: this): boolean {
    return this.engine.k.equal(this.handle, this.same(o), this.nbits) !== 0;
  }
  /** cpumask_intersects. */
  intersects(o: this): boolean {
    return this.engine.k.intersects(this.handle, this.same(o), this.nbits) !== 0;
  }
  /** cpumask_subset(this, o): this ⊆ o. */
  isSubsetOf(o: this): boolean {
    return this.engine.k.subset(this.handle, this.same(o), this.nbits) !== 0;
  }
  /** cpumask_empty. */
  isEmpty(): boolean {
    return this.engine.k.empty(this.handle, this.nbits) !== 0;
  }
  /** cpumask_full: every bit below nbits. */
  isFull(): boolean {
    return this.engine.k.full(this.handle, this.nbits) !== 0;
  }
  /** cpumask_weight. */
  weight(): number {
    return this.engine.k.weight(this.handle, this.nbits);
  }
  /** cpumask_first: lowest set bit, or nbits. */
  first(): number {
    return this.engine.k.first(this.handle, this.nbits);
  }
  /** cpumask_next: lowest set bit above n (n = -1 gives the first), or nbits. */
  next(n: number): number {
    if (!Number.isInteger(n) || n < -1) fail('EINVAL', `next(${n}): n must be an integer ≥ -1`);
    return this.engine.k.next(this.handle, Math.min(n, this.nbits), this.nbits);
  }
  /** cpumask_last: highest set bit, or nbits. */
  last(): number {
    return this.engine.k.last(this.handle, this.nbits);
  }
  /** cpumask_cycle: the next set bit after n, wrapping; n itself if it is the only one; nbits if empty. */
  cycle(n: number): number {
    return this.engine.k.cycle(this.handle, this.bit(n), this.nbits);
  }
  /** cpumask_test_or_cycle: n if set, else cycle(n). */
  testOrCycle(n: number): number {
    return this.engine.k.testOrCycle(this.handle, this.bit(n), this.nbits);
  }
  /** cpumask_any: a member drawn from the engine's seeded RNG, or nbits if empty. */
  any(): number {
    return this.engine.k.any(this.handle, this.nbits, this.engine.rng.next());
  }
  /** for_each_cpu: the members, ascending, in one bulk crossing. */
  toArray(): number[] {
    return this.engine.bitsOf(this.handle, this.nbits);
  }
  [Symbol.iterator](): Iterator<number> {
    return this.toArray()[Symbol.iterator]();
  }
  /** The bits as 32-bit words (nwords·2 of them; bits ≥ nbits cleared), copied out in one go. */
  toWords(): Uint32Array {
    const h = this.handle >>> 2;
    const w = this.engine.u32.slice(h, h + this.nwords * 2);
    const r = this.nbits & 31;
    const last = (this.nbits - 1) >>> 5;
    if (r) w[last] &= (1 << r) - 1;
    w.fill(0, last + 1);
    return w;
  }
  /** Replaces the bits with 32-bit words (missing words are zero; EINVAL for bits ≥ nbits). */
  setWords(words: ArrayLike<number>): this {
    if (words.length > this.nwords * 2) fail('EINVAL', `${words.length} words exceed a ${this.nbits}-bit ${this.kind} mask`);
    const w = new Uint32Array(this.nwords * 2);
    for (let i = 0; i < words.length; i++) w[i] = words[i];
    const r = this.nbits & 31;
    const last = (this.nbits - 1) >>> 5;
    const stray = (r ? w[last] & ~((1 << r) - 1) : 0) || w.subarray(last + 1).some((x) => x !== 0);
    if (stray) fail('EINVAL', `bits at or above ${this.nbits} are set`);
    this.engine.u32.set(w, this.handle >>> 2);
    return this;
  }
  /** Returns the mask's slot to the engine; the object must not be used afterwards. */
  free(): void {
    this.engine.release(this.handle, this.nwords * 8);
    this.h = -1;
  }
}
