/**
 * The engine: the one owner of a mask memory and of the kernels that work on it.
 *
 * An engine is created for one host width (nr_cpu_ids, 1…16384; Xen's NR_CPUS ceiling is
 * 16383 and we allow one more so a full 16384-CPU host fits) and one node-mask width
 * (MAX_NUMNODES, default 64). Masks live in the engine's linear memory and are named by
 * handles (byte offsets); the TypeScript side passes handles and never copies a mask across
 * the boundary for an operation. Results that are lists (for_each) cross in bulk.
 *
 * Kernels are selected at creation: the SIMD WebAssembly build (default), the scalar
 * WebAssembly build, or the pure-TypeScript reference over the same memory layout — the
 * oracle for tests and the baseline for benchmarks.
 */

import { existsSync, readFileSync } from 'node:fs';
import { instantiateSync } from '@assemblyscript/loader';
import { fail } from './errors.js';
import type { Kernels, KernelKind } from './kernels.js';
import { createReferenceKernels } from './reference/kernels.js';
import { CpuMask } from './mask/cpumask.js';
import { NodeMask } from './mask/nodemask.js';
import { InternTable } from './mask/intern.js';

export type { KernelKind } from './kernels.js';

/** Xen's NR_CPUS Kconfig ceiling is 16383; one more so that a 16384-CPU host fits. */
export const MAX_CPUS = 16384;
/** Xen MAX_NUMNODES default (spec xen-hypervisor.md §1.1). */
export const DEFAULT_NODES = 64;
/** cpuToNode entry for a CPU with no node (Xen NUMA_NO_NODE, widened to 16 bits). */
export const NO_NODE = 0xffff;

export interface EngineOptions {
  /** nr_cpu_ids: CPUs 0…nrCpus-1. */
  nrCpus: number;
  /** Node-mask width (MAX_NUMNODES); default 64. */
  nrNodes?: number;
  /** Kernel implementation; default 'wasm' (SIMD). */
  kernels?: KernelKind;
  /** Seed of the engine's RNG (cpumask_any and everything random in a run). */
  seed?: number;
}

/** A small seeded generator (xorshift32): reproducible runs for a given seed. */
export interface Rng {
  /** A uint32. */
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** Re-seeds. */
  seed(s: number): void;
}

export function createRng(seed = 1): Rng {
  let x = seed >>> 0 || 0x9e3779b9;
  const rng: Rng = {
    next() {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    },
    below(n) {
      return Math.floor((rng.next() / 0x100000000) * n);
    },
    seed(s) {
      x = s >>> 0 || 0x9e3779b9;
    },
  };
  return rng;
}

/** The growable linear memory masks live in (a WebAssembly.Memory). */
export interface LinearMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

// The few WebAssembly globals the engine uses (Node has them; TypeScript types them only in lib.dom).
type WasmModule = object;
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (d: { initial: number }) => LinearMemory;
};

const WASM_FILES: Record<Exclude<KernelKind, 'ts'>, string> = {
  wasm: 'engine.wasm',
  'wasm-scalar': 'engine-scalar.wasm',
};
const compiled = new Map<KernelKind, WasmModule>();

/**
 * The compiled module file: `build/` at the package root, found from this module's directory
 * upwards (sources run from `bindings/`, the package from `dist/`, benchmarks from a deeper tree).
 */
function wasmPath(file: string): URL {
  let dir = new URL('./', import.meta.url);
  for (let up = 0; up < 4; up++) {
    const candidate = new URL(`build/${file}`, dir);
    if (existsSync(candidate)) return candidate;
    dir = new URL('../', dir);
  }
  fail('ENOENT', `build/${file} not found above ${new URL('./', import.meta.url).pathname}: run \`npm run build:wasm\` (npm install does it)`);
}

function wasmModule(kind: Exclude<KernelKind, 'ts'>): WasmModule {
  let m = compiled.get(kind);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasmPath(WASM_FILES[kind])));
    compiled.set(kind, m);
  }
  return m;
}

const PAGE = 65536;
const ALIGN = 16;

/** A node-affinity job for {@link Engine.updateNodeAffBatch}. */
export interface NodeAffJob {
  /** Handles of the hard masks to unite (each distinct mask once is enough: OR is idempotent). */
  hard: ArrayLike<number>;
  /** Handles of the soft masks to unite. */
  soft: ArrayLike<number>;
  /** Handle of the pool's valid CPUs (res_valid). */
  online: number;
  /** Handle of the node mask to write. */
  out: number;
}

export class Engine {
  /** nr_cpu_ids: queries look below it; "not found" is this value. */
  readonly nrCpuIds: number;
  /** nr_cpumask_bits: roundup(nr_cpu_ids, 64); mutators work over these bits. */
  readonly nrCpumaskBits: number;
  /** 64-bit words per CPU mask. */
  readonly cpuWords: number;
  /** MAX_NUMNODES: node-mask width for both mutators and queries. */
  readonly nrNodes: number;
  /** 64-bit words per node mask. */
  readonly nodeWords: number;
  readonly kernels: KernelKind;
  /** The kernel functions (handle-level API for hot paths of the models above). */
  readonly k: Kernels;
  readonly memory: LinearMemory;
  readonly rng: Rng;
  /** Interned (hash-consed, shared, immutable) CPU masks. */
  readonly masks: InternTable;

  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private u32View: Uint32Array;
  private i32View: Int32Array;
  private u16View: Uint16Array;
  /** Scratch: for_each output, the two node-affinity scratch masks, handle lists. */
  private readonly outBuf: number;
  private readonly scratchH: number;
  private readonly scratchS: number;
  private listBuf = 0;
  private listCap = 0;
  /** CPU→node table (u16 per CPU), its per-word summary, and the per-node CPU masks. */
  private readonly cpuToNodeTable: number;
  private readonly wordNodesTable: number;
  private nodeMasks: CpuMask[] = [];
  private nodeTableSet = false;

  constructor(opts: EngineOptions) {
    const { nrCpus, nrNodes = DEFAULT_NODES, kernels = 'wasm', seed = 1 } = opts;
    if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > MAX_CPUS) {
      fail('EINVAL', `nrCpus must be an integer from 1 to ${MAX_CPUS}, got ${nrCpus}`);
    }
    if (!Number.isInteger(nrNodes) || nrNodes < 1 || nrNodes > 0xfffe) {
      fail('EINVAL', `nrNodes must be an integer from 1 to 65534, got ${nrNodes}`);
    }
    if (kernels !== 'wasm' && kernels !== 'wasm-scalar' && kernels !== 'ts') {
      fail('EINVAL', `kernels must be 'wasm', 'wasm-scalar' or 'ts', got ${String(kernels)}`);
    }
    this.nrCpuIds = nrCpus;
    this.cpuWords = (nrCpus + 63) >>> 6;
    this.nrCpumaskBits = this.cpuWords * 64;
    this.nrNodes = nrNodes;
    this.nodeWords = (nrNodes + 63) >>> 6;
    this.kernels = kernels;
    this.rng = createRng(seed);

    if (kernels === 'ts') {
      this.memory = new WebAssembly.Memory({ initial: 2 });
      this.k = createReferenceKernels(this.memory);
      this.top = 64;
    } else {
      const { exports } = instantiateSync(wasmModule(kernels) as never, {});
      const ex = exports as unknown as Kernels & { memory: LinearMemory; heapBase(): number };
      this.memory = ex.memory;
      this.k = Object.assign(Object.create(null), ex, { refresh() {} }) as Kernels;
      this.top = (ex.heapBase() + ALIGN - 1) & ~(ALIGN - 1);
    }
    this.u32View = new Uint32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u16View = new Uint16Array(this.memory.buffer);

    this.outBuf = this.alloc(Math.max(nrCpus, nrNodes) * 4);
    this.scratchH = this.alloc(this.cpuWords * 8);
    this.scratchS = this.alloc(this.cpuWords * 8);
    this.cpuToNodeTable = this.alloc(nrCpus * 2);
    this.wordNodesTable = this.alloc(this.cpuWords * 2);
    this.u16.fill(NO_NODE, this.cpuToNodeTable >>> 1, (this.cpuToNodeTable >>> 1) + nrCpus);
    this.masks = new InternTable(this);
  }

  // ---- memory -------------------------------------------------------------------------

  /** A Uint32Array over the whole memory; re-made after growth, so read it through this getter. */
  get u32(): Uint32Array {
    if (this.u32View.buffer !== this.memory.buffer) this.remakeViews();
    return this.u32View;
  }
  get i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.remakeViews();
    return this.i32View;
  }
  get u16(): Uint16Array {
    if (this.u16View.buffer !== this.memory.buffer) this.remakeViews();
    return this.u16View;
  }

  private remakeViews(): void {
    this.u32View = new Uint32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u16View = new Uint16Array(this.memory.buffer);
    this.k.refresh();
  }

  /** Bytes of linear memory in use by this engine (allocated, including freed slots kept for reuse). */
  get memoryBytes(): number {
    return this.top;
  }

  /** Allocates `bytes` (16-byte aligned, zeroed) and returns the handle. */
  alloc(bytes: number): number {
    const size = (bytes + ALIGN - 1) & ~(ALIGN - 1);
    const list = this.freeLists.get(size);
    if (list && list.length > 0) {
      const h = list.pop()!;
      this.u32.fill(0, h >>> 2, (h + size) >>> 2);
      return h;
    }
    const h = this.top;
    const end = h + size;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      // Grow geometrically so that many small allocations do not grow one page at a time.
      const current = this.memory.buffer.byteLength / PAGE;
      try {
        this.memory.grow(Math.max(pages, Math.ceil(current / 4)));
      } catch {
        fail('ENOMEM', `engine memory cannot grow to ${end} bytes`);
      }
      this.remakeViews();
    }
    this.top = end;
    return h;
  }

  /** Returns a block from {@link alloc} of the same `bytes`. */
  release(handle: number, bytes: number): void {
    const size = (bytes + ALIGN - 1) & ~(ALIGN - 1);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(handle);
  }

  /** Writes the lists as u32s into the list scratch buffer; returns their offsets. */
  writeLists(...lists: ArrayLike<number>[]): number[] {
    let total = 0;
    for (const l of lists) total += l.length;
    if (total > this.listCap) {
      if (this.listCap) this.release(this.listBuf, this.listCap * 4);
      this.listCap = Math.max(total, 2 * this.listCap, 64);
      this.listBuf = this.alloc(this.listCap * 4);
    }
    const u32 = this.u32;
    const offsets: number[] = [];
    let at = this.listBuf;
    for (const l of lists) {
      offsets.push(at);
      const base = at >>> 2;
      for (let i = 0; i < l.length; i++) u32[base + i] = l[i];
      at += l.length * 4;
    }
    return offsets;
  }

  // ---- masks --------------------------------------------------------------------------

  /** An empty CPU mask (cpumask_clear). */
  cpumask(): CpuMask {
    return new CpuMask(this, this.alloc(this.cpuWords * 8));
  }
  /** A CPU mask with every bit set (cpumask_setall / cpumask_all). */
  cpumaskAll(): CpuMask {
    return this.cpumask().setAll();
  }
  /** A mask of one CPU (cpumask_of). */
  cpumaskOf(cpu: number): CpuMask {
    return this.cpumask().set(cpu);
  }
  /** A mask of the listed CPU ids (EINVAL for an id outside 0…nr_cpu_ids-1). */
  cpumaskFrom(ids: Iterable<number>): CpuMask {
    return setEach(this.cpumask(), ids);
  }
  /** An empty node mask (nodes_clear). */
  nodemask(): NodeMask {
    return new NodeMask(this, this.alloc(this.nodeWords * 8));
  }
  /** NODE_MASK_ALL: all MAX_NUMNODES bits. */
  nodemaskAll(): NodeMask {
    return this.nodemask().setAll();
  }
  /** nodemask_of_node. */
  nodemaskOf(node: number): NodeMask {
    return this.nodemask().set(node);
  }
  /** A node mask of the listed node ids. */
  nodemaskFrom(ids: Iterable<number>): NodeMask {
    return setEach(this.nodemask(), ids);
  }

  /** The set bits below `nbits` of the bitmap at `handle`, ascending (one bulk crossing). */
  bitsOf(handle: number, nbits: number): number[] {
    const n = this.k.forEach(handle, nbits, this.outBuf);
    const view = this.i32;
    const base = this.outBuf >>> 2;
    // A plain loop: Array.from over a typed array is several times slower.
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = view[base + i];
    return out;
  }

  // ---- topology tables and node affinity ---------------------------------------------

  /**
   * Installs the CPU→node table (Xen cpu_to_node[]): one entry per CPU, a node id below
   * nrNodes, or -1 / NO_NODE for a CPU without a node. Builds the per-node CPU masks.
   */
  setCpuToNode(table: ArrayLike<number>): void {
    if (table.length !== this.nrCpuIds) {
      fail('EINVAL', `cpuToNode has ${table.length} entries, the engine has ${this.nrCpuIds} CPUs`);
    }
    const nodes = new Uint16Array(this.nrCpuIds);
    for (let c = 0; c < table.length; c++) {
      const n = table[c];
      if (n === -1 || n === NO_NODE) nodes[c] = NO_NODE;
      else if (Number.isInteger(n) && n >= 0 && n < this.nrNodes) nodes[c] = n;
      else fail('EINVAL', `cpuToNode[${c}] = ${n} is not a node id below ${this.nrNodes} (or -1 for none)`);
    }
    this.u16.set(nodes, this.cpuToNodeTable >>> 1);
    this.k.buildWordNodes(this.cpuToNodeTable, this.nrCpuIds, this.wordNodesTable);
    for (const m of this.nodeMasks) m.free();
    this.nodeMasks = [];
    for (let n = 0; n < this.nrNodes; n++) this.nodeMasks.push(this.cpumask());
    for (let c = 0; c < nodes.length; c++) if (nodes[c] !== NO_NODE) this.nodeMasks[nodes[c]].set(c);
    this.nodeTableSet = true;
  }

  /** cpu_to_node(cpu), or -1 for a CPU without a node. */
  cpuToNode(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpuIds) fail('EINVAL', `CPU ${cpu} is not below ${this.nrCpuIds}`);
    const n = this.u16[(this.cpuToNodeTable >>> 1) + cpu];
    return n === NO_NODE ? -1 : n;
  }

  /** node_to_cpumask(node): the engine's own mask of the node's CPUs (read it, do not mutate or free it). */
  nodeCpumask(node: number): CpuMask {
    this.requireNodeTable();
    if (!Number.isInteger(node) || node < 0 || node >= this.nrNodes) fail('EINVAL', `node ${node} is not below ${this.nrNodes}`);
    return this.nodeMasks[node];
  }

  private requireNodeTable(): void {
    if (!this.nodeTableSet) fail('EINVAL', 'no CPU→node table: call setCpuToNode (or install a topology) first');
  }

  /**
   * domain_update_node_aff steps 5-8 (spec xen-hypervisor.md §3.6) in one kernel call:
   * out := nodes of (∪soft ∩ ∪hard ∩ online), or of (∪hard ∩ online) when that is empty.
   * Returns true when ∪hard ∩ online is empty (Xen's ASSERT case; out is then empty).
   */
  updateNodeAff(hard: ArrayLike<number>, soft: ArrayLike<number>, online: number, out: number): boolean {
    this.requireNodeTable();
    const [hl, sl] = this.writeLists(hard, soft);
    return (
      this.k.updateNodeAff(
        hl, hard.length, sl, soft.length, online, this.cpuToNodeTable, this.wordNodesTable,
        this.nrCpuIds, out, this.nodeWords, this.scratchH, this.scratchS,
      ) !== 0
    );
  }

  /** {@link updateNodeAff} for many domains in one kernel call; returns how many had an empty hard set. */
  updateNodeAffBatch(jobs: readonly NodeAffJob[]): number {
    this.requireNodeTable();
    const lists: ArrayLike<number>[] = [];
    for (const j of jobs) lists.push(j.hard, j.soft);
    const descs = new Uint32Array(jobs.length * 6);
    const offsets = this.writeLists(new Uint32Array(jobs.length * 6), ...lists);
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i];
      descs.set([offsets[1 + 2 * i], j.hard.length, offsets[2 + 2 * i], j.soft.length, j.online, j.out], i * 6);
    }
    this.u32.set(descs, offsets[0] >>> 2);
    return this.k.updateNodeAffBatch(
      offsets[0], jobs.length, this.cpuToNodeTable, this.wordNodesTable, this.nrCpuIds, this.nodeWords,
      this.scratchH, this.scratchS,
    );
  }
}

/** Sets each id in a new mask; an invalid id frees the mask and throws (nothing is left half-built). */
function setEach<M extends CpuMask | NodeMask>(m: M, ids: Iterable<number>): M {
  try {
    for (const id of ids) m.set(id);
  } catch (e) {
    m.free();
    throw e;
  }
  return m;
}

/** Creates an engine (see {@link EngineOptions}). */
export function createEngine(opts: EngineOptions): Engine {
  if (opts === null || typeof opts !== 'object') fail('EINVAL', 'createEngine needs an options object with nrCpus');
  return new Engine(opts);
}
