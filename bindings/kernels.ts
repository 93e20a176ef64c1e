/**
 * The kernel contract shared by the WASM build (`assembly/index.ts`) and the pure-TS reference
 * (`reference/kernels.ts`). Handles are byte offsets into the engine's linear memory; bitmaps
 * are little-endian 64-bit words. Mutators take `nwords` (whole words, Xen nr_cpumask_bits);
 * queries take `nbits` (Xen nr_cpu_ids) and return `nbits` for "not found" (spec
 * xen-hypervisor.md §2.1-2.2).
 */
export interface Kernels {
  /** Re-reads memory views after linear memory has grown (the TS reference needs it; WASM does not). */
  refresh(): void;
  fill(d: number, nwords: number, ones: number): void;
  copy(d: number, s: number, nwords: number): void;
  and(d: number, a: number, b: number, nwords: number): void;
  or(d: number, a: number, b: number, nwords: number): void;
  xor(d: number, a: number, b: number, nwords: number): void;
  andNot(d: number, a: number, b: number, nwords: number): void;
  complement(d: number, s: number, nwords: number): void;
  equal(a: number, b: number, nbits: number): number;
  intersects(a: number, b: number, nbits: number): number;
  subset(a: number, b: number, nbits: number): number;
  empty(a: number, nbits: number): number;
  full(a: number, nbits: number): number;
  weight(a: number, nbits: number): number;
  setBit(a: number, bit: number): void;
  clearBit(a: number, bit: number): void;
  testBit(a: number, bit: number): number;
  testAndSet(a: number, bit: number): number;
  testAndClear(a: number, bit: number): number;
  first(a: number, nbits: number): number;
  next(a: number, n: number, nbits: number): number;
  last(a: number, nbits: number): number;
  cycle(a: number, n: number, nbits: number): number;
  testOrCycle(a: number, n: number, nbits: number): number;
  nth(a: number, k: number, nbits: number): number;
  any(a: number, nbits: number, rand: number): number;
  forEach(a: number, nbits: number, out: number): number;
  hash(a: number, nbits: number): number;
  clearTail(a: number, nbits: number): void;
  orMany(d: number, list: number, count: number, nwords: number): void;
  andMany(d: number, list: number, count: number, nwords: number): void;
  batchOp(op: number, triples: number, count: number, nwords: number): void;
  buildWordNodes(cpuToNode: number, nbits: number, wordNodes: number): void;
  updateNodeAff(
    hardList: number, nHard: number, softList: number, nSoft: number, online: number,
    cpuToNode: number, wordNodes: number, nbits: number, out: number, nodeWords: number, H: number, S: number,
  ): number;
  updateNodeAffBatch(
    descs: number, count: number, cpuToNode: number, wordNodes: number, nbits: number, nodeWords: number,
    H: number, S: number,
  ): number;
}

/** Which kernels an engine runs: the SIMD WASM build (default), the scalar WASM build, or the TS reference. */
export type KernelKind = 'wasm' | 'wasm-scalar' | 'ts';

/** batchOp codes. */
export const BATCH_OP = { and: 0, or: 1, xor: 2, andNot: 3 } as const;
