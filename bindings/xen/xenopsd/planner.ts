/**
 * xenopsd's NUMA placement planner: `NUMA.make` (topology.ml) and `Softaffinity.plan`
 * (softaffinity.ml), spec xenopsd-xenguest.md §4.
 *
 * A pure planner over plain data, as upstream: the host is a distance matrix (the ACPI SLIT as
 * `xc_numainfo` reports it), a CPU → node map and (latest mode) physical cores per node; a plan
 * takes per-node free memory and a request, and returns the chosen nodes and their CPUs. The only
 * state is the per-node placement counter `nodeUsage`, which only ever grows (spec §4.4 step 5).
 *
 * The candidate list (every subset of up to 16 reachable nodes ranked by (max, avg) distance) is
 * computed once per host and kept in flat typed arrays, with each candidate's CPU and core totals
 * precomputed, so that a plan only adds up free memory of the candidates it looks at.
 */
import { fail } from '../../errors.js';
import type { ToolstackMode } from './policy.js';

/** `XEN_INVALID_NODE_DIST` (~0U): the distance xc_numainfo reports for an unreachable node. */
export const UNREACHABLE_DISTANCE = 0xffffffff;

/** The ACPI SLIT's distance of a node to itself; the smallest valid distance (spec §4.2 step 4). */
export const SELF_DISTANCE = 10;

/** More reachable nodes than this ⇒ single-node candidates only (spec §4.3 step 2). */
export const MAX_NODES_FOR_SUBSETS = 16;

/** Candidates whose average distances differ by less than this form one group (spec §4.4 step 3). */
export const SAME_DISTANCE_TOLERANCE = 1e-3;

/** The host as xenopsd's `numa_hierarchy` reads it (spec §2.1): plain data. */
export interface NumaTopology {
  /** `distances[i][j]`: SLIT distance from node i to node j (square, uint32 as xc_numainfo gives it). */
  readonly distances: readonly (readonly number[])[];
  /** `cpuToNode[cpu]`: node of each CPU (xc_cputopoinfo). */
  readonly cpuToNode: readonly number[];
  /** Distinct physical cores per node (latest mode only; reference mode does not count cores). */
  readonly nodeCores?: readonly number[];
}

/** What the planner knows about a host: `NUMA.t` (spec §4.1). */
export interface NumaHost {
  readonly mode: ToolstackMode;
  readonly nrNodes: number;
  readonly distances: readonly (readonly number[])[];
  /** CPUs of each node, ascending; empty for unreachable and for CPU-less nodes. */
  readonly nodeCpus: readonly (readonly number[])[];
  /** Physical cores per node (zeros in reference mode). */
  readonly nodeCores: Int32Array;
  /** Placements per node since this planner was made; incremented by every successful plan. */
  readonly nodeUsage: Int32Array;
  readonly candidates: CandidateTable;
  /** The CPU union of each candidate chosen so far (a plan returns the shared, frozen array). */
  readonly chosenCpus: Map<number, readonly number[]>;
}

/**
 * The ranked candidate list in flat arrays: candidate c is the nodes
 * `members[start[c] .. start[c+1])` (ascending), with its average distance and CPU/core totals.
 */
export interface CandidateTable {
  readonly count: number;
  readonly avg: Float64Array;
  readonly start: Uint32Array;
  readonly members: Uint16Array;
  readonly cpuCount: Float64Array;
  readonly coreCount: Float64Array;
  /** The reachable nodes (self distance not unreachable), ascending. */
  readonly validNodes: readonly number[];
  /** True when every candidate is a single node (more than 16 reachable nodes). */
  readonly singlesOnly: boolean;
}

/** One entry of `NUMA.candidates`: (average distance, nodes ascending). */
export interface NumaCandidate {
  readonly avg: number;
  readonly nodes: readonly number[];
}

/** `NUMARequest.t`: what a VM needs (spec §4.1). Memory in bytes. */
export interface NumaRequest {
  readonly memory: number;
  readonly vcpus: number;
  /** Physical cores wanted (latest mode; ignored in reference mode, whose request has no cores). */
  readonly cores?: number;
}

/** A successful plan: the nodes chosen and the union of their CPUs. */
export interface NumaPlan {
  /** Chosen nodes in upstream's picked order: descending. */
  readonly nodes: readonly number[];
  /** Union of the chosen nodes' CPUs, ascending. */
  readonly cpus: readonly number[];
  /** Average distance of the chosen candidate. */
  readonly avg: number;
}

/**
 * Is a SLIT entry "unreachable"? Reference: exactly 0xFFFFFFFF; latest: `d > 255 || d < 0`, which
 * also covers a 64-bit -1 (spec §4.2 step 1, commit 85e89b41ab).
 */
export function isUnreachableDistance(mode: ToolstackMode, d: number): boolean {
  return mode === 'reference' ? d === UNREACHABLE_DISTANCE : d > 255 || d < 0;
}

function checkTopologyShape(topology: NumaTopology): void {
  const { distances, cpuToNode, nodeCores } = topology;
  if (!Array.isArray(distances) || distances.length === 0) fail('EINVAL', 'SLIT: distance matrix must be a non-empty array of rows');
  const n = distances.length;
  distances.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== n) fail('EINVAL', `SLIT: row ${i} must have ${n} entries (the matrix must be square)`);
    row.forEach((d, j) => {
      if (!Number.isSafeInteger(d)) fail('EINVAL', `SLIT: distance [${i}][${j}] = ${String(d)} is not an integer`);
    });
  });
  if (!Array.isArray(cpuToNode)) fail('EINVAL', 'cpuToNode must be an array');
  cpuToNode.forEach((node, cpu) => {
    // A CPU whose node is not a row of the SLIT (e.g. XEN_INVALID_NODE_ID of a non-present CPU)
    // makes upstream's NUMA.make raise on the array index (spec §2.1, "faithful" choice).
    if (!Number.isInteger(node) || node < 0 || node >= n) fail('EINVAL', `CPU ${cpu} is on node ${String(node)}, which is not in the ${n}-node SLIT`);
  });
  if (nodeCores !== undefined) {
    if (!Array.isArray(nodeCores) || nodeCores.length !== n) fail('EINVAL', `nodeCores must have one entry per node (${n})`);
    nodeCores.forEach((c, k) => {
      if (!Number.isSafeInteger(c) || c < 0) fail('EINVAL', `nodeCores[${k}] = ${String(c)} is not a non-negative integer`);
    });
  }
}

/** The row check of `NUMA.make`: self distance 10 or unreachable, every entry ≥ 10 or unreachable (spec §4.2 step 4). */
function slitIsReasonable(mode: ToolstackMode, distances: readonly (readonly number[])[]): boolean {
  return distances.every((row, i) => {
    const self = row[i]!;
    const selfOk = self === SELF_DISTANCE || isUnreachableDistance(mode, self);
    return selfOk && row.every((d) => d >= SELF_DISTANCE || isUnreachableDistance(mode, d));
  });
}

/**
 * `NUMA.make ~distances ~cpu_to_node [~node_cores]` (spec §4.2). Returns `null` where upstream
 * returns `None`: every node unreachable, or a SLIT with invalid values (both logged, as upstream).
 * A malformed input (not a square integer matrix, a CPU on a node outside the matrix) is EINVAL.
 */
export function makeNuma(mode: ToolstackMode, topology: NumaTopology, log: (message: string) => void = () => {}): NumaHost | null {
  checkTopologyShape(topology);
  const { distances, cpuToNode } = topology;
  const n = distances.length;
  const reachable = (k: number) => !isUnreachableDistance(mode, distances[k]![k]!);
  const nodeCpus: number[][] = Array.from({ length: n }, () => []);
  cpuToNode.forEach((node, cpu) => {
    if (reachable(node)) nodeCpus[node]!.push(cpu);
  });
  if (nodeCpus.every((cpus) => cpus.length === 0)) {
    log('Not enabling NUMA: the ACPI SLIT only contains unreachable nodes.');
    return null;
  }
  if (!slitIsReasonable(mode, distances)) {
    log('Not enabling NUMA: the ACPI SLIT table contains values that are invalid.');
    return null;
  }
  const nodeCores = Int32Array.from(mode === 'latest' && topology.nodeCores ? topology.nodeCores : new Array<number>(n).fill(0));
  return {
    mode,
    nrNodes: n,
    distances: distances.map((row) => row.slice()),
    nodeCpus,
    nodeCores,
    nodeUsage: new Int32Array(n),
    candidates: generateCandidates(mode, distances, nodeCpus, nodeCores, log),
    chosenCpus: new Map(),
  };
}

/**
 * `gen_candidates` (spec §4.3): every non-empty subset of the reachable nodes (by position mask,
 * ascending), keyed by (max, avg) over all ordered pairs including self pairs, stably sorted by
 * key; above 16 reachable nodes only the single nodes, keyed by their self distance.
 */
function generateCandidates(
  mode: ToolstackMode,
  distances: readonly (readonly number[])[],
  nodeCpus: readonly (readonly number[])[],
  nodeCores: Int32Array,
  log: (message: string) => void,
): CandidateTable {
  const valid: number[] = [];
  distances.forEach((row, k) => {
    if (!isUnreachableDistance(mode, row[k]!)) valid.push(k);
  });
  const singlesOnly = valid.length > MAX_NODES_FOR_SUBSETS;
  if (singlesOnly) log('More than 16 valid NUMA nodes detected, considering only individual nodes.');
  const keys = singlesOnly ? singleNodeKeys(distances, valid) : subsetKeys(distances, valid);
  const { count, max: keyMax, avg: keyAvg } = keys;
  // Stable sort by (max, avg): ties keep generation (mask) order, as OCaml's Array.fast_sort.
  const order = Uint32Array.from({ length: count }, (_, c) => c);
  order.sort((x, y) => keyMax[x]! - keyMax[y]! || keyAvg[x]! - keyAvg[y]! || x - y);
  const start = new Uint32Array(count + 1);
  const members = new Uint16Array(keys.size.reduce((a, b) => a + b, 0));
  const avg = new Float64Array(count);
  const cpuCount = new Float64Array(count);
  const coreCount = new Float64Array(count);
  const cpusOfNode = Float64Array.from(nodeCpus, (cpus) => cpus.length);
  let at = 0;
  for (let rank = 0; rank < count; rank++) {
    const c = order[rank]!;
    start[rank] = at;
    avg[rank] = keyAvg[c]!;
    keys.writeNodes(c, members, at);
    for (const end = at + keys.size[c]!; at < end; at++) {
      cpuCount[rank] += cpusOfNode[members[at]!]!;
      coreCount[rank] += nodeCores[members[at]!]!;
    }
  }
  start[count] = at;
  return { count, avg, start, members, cpuCount, coreCount, validNodes: valid, singlesOnly };
}

/** Generated candidates before sorting: key (max, avg), node count, and the nodes (ascending) on demand. */
interface CandidateKeys {
  count: number;
  max: Float64Array;
  avg: Float64Array;
  size: Uint8Array;
  writeNodes(c: number, out: Uint16Array, at: number): void;
}

/** Singles only (more than 16 reachable nodes): key (d_kk, d_kk). */
function singleNodeKeys(distances: readonly (readonly number[])[], valid: readonly number[]): CandidateKeys {
  const self = Float64Array.from(valid, (k) => distances[k]![k]!);
  return {
    count: valid.length,
    max: self,
    avg: self,
    size: new Uint8Array(valid.length).fill(1),
    writeNodes: (c, out, at) => void (out[at] = valid[c]!),
  };
}

/**
 * Keys of the subsets for masks 1 .. 2^v−1 (bit b = `valid[b]`, nodes ascending). Each mask m
 * with lowest bit b extends r = m without b: pairs(m) = pairs(r) + d(b,b) + Σ_{j∈r} d(b,j) + d(j,b),
 * so the sums over all |S|² ordered pairs cost O(v·2^v) instead of Σ|S|² ≈ 4.5 M reads at v = 16.
 * The sums are integers below 2^53, so the averages equal upstream's `float sum /. float count`.
 */
function subsetKeys(distances: readonly (readonly number[])[], valid: readonly number[]): CandidateKeys {
  const v = valid.length;
  const size = 1 << v;
  const pairSum = new Float64Array(size);
  const pairMax = new Float64Array(size).fill(-Infinity);
  for (let b = v - 1; b >= 0; b--) {
    const nb = valid[b]!;
    const above = v - 1 - b;
    // cross[q]: over the nodes of q (positions above b, shifted down), Σ and max of d(b,j), d(j,b).
    const crossSum = new Float64Array(1 << above);
    const crossMax = new Float64Array(1 << above).fill(-Infinity);
    for (let q = 1; q < 1 << above; q++) {
      const nj = valid[b + 1 + (31 - Math.clz32(q & -q))]!;
      const prev = q & (q - 1);
      const there = distances[nb]![nj]!;
      const back = distances[nj]![nb]!;
      crossSum[q] = crossSum[prev]! + there + back;
      crossMax[q] = Math.max(crossMax[prev]!, there, back);
    }
    const self = distances[nb]![nb]!;
    for (let q = 0; q < 1 << above; q++) {
      const rest = q << (b + 1);
      const m = rest | (1 << b);
      pairSum[m] = pairSum[rest]! + self + crossSum[q]!;
      pairMax[m] = Math.max(pairMax[rest]!, self, crossMax[q]!);
    }
  }
  // Candidate c is mask c + 1.
  const count = size - 1;
  const max = pairMax.subarray(1);
  const sizes = new Uint8Array(count);
  const avg = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    sizes[c] = popcount(c + 1);
    avg[c] = pairSum[c + 1]! / (sizes[c]! * sizes[c]!);
  }
  return {
    count,
    max,
    avg,
    size: sizes,
    writeNodes(c, out, at) {
      for (let m = c + 1; m !== 0; m &= m - 1) out[at++] = valid[31 - Math.clz32(m & -m)]!;
    },
  };
}

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

/** `NUMA.candidates`: the ranked list as (avg, nodes ascending) — for inspection and tests. */
export function numaCandidates(host: NumaHost): NumaCandidate[] {
  const t = host.candidates;
  const out: NumaCandidate[] = [];
  for (let c = 0; c < t.count; c++) out.push({ avg: t.avg[c]!, nodes: Array.from(t.members.subarray(t.start[c]!, t.start[c + 1]!)) });
  return out;
}

function checkPlanInput(host: NumaHost, memfree: readonly number[], request: NumaRequest): void {
  if (!Array.isArray(memfree) || memfree.length !== host.nrNodes) fail('EINVAL', `plan: need free memory for each of the ${host.nrNodes} nodes`);
  memfree.forEach((m, k) => {
    if (!Number.isSafeInteger(m) || m < 0) fail('EINVAL', `NUMAResource: free memory of node ${k} must be a non-negative integer, got ${String(m)}`);
  });
  const { memory, vcpus, cores = 0 } = request;
  if (!Number.isSafeInteger(memory) || memory < 0) fail('EINVAL', `NUMARequest: memory must be a non-negative integer, got ${String(memory)}`);
  if (!Number.isSafeInteger(vcpus) || vcpus < 0) fail('EINVAL', `NUMARequest: vcpus cannot be negative, got ${String(vcpus)}`);
  if (!Number.isSafeInteger(cores) || cores < 0) fail('EINVAL', `NUMARequest: cores cannot be negative, got ${String(cores)}`);
}

/**
 * Could any candidate fit? The largest candidate is all reachable nodes (or, singles only, the
 * largest node), so this bound rejects impossible requests without scanning 2^n candidates.
 */
function mayFitSomewhere(host: NumaHost, memfree: readonly number[], memory: number, vcpus: number, cores: number): boolean {
  const combine = host.candidates.singlesOnly ? Math.max : (a: number, b: number) => a + b;
  let mem = 0;
  let cpus = 0;
  let coreTotal = 0;
  for (const k of host.candidates.validNodes) {
    mem = combine(mem, memfree[k]!);
    cpus = combine(cpus, host.nodeCpus[k]!.length);
    coreTotal = combine(coreTotal, host.nodeCores[k]!);
  }
  return mem >= memory && cpus >= vcpus && coreTotal >= cores;
}

/** Does candidate c hold the request? Equivalent to upstream's fold of `shrink` reaching zero (spec §4.4 step 2). */
function candidateFits(host: NumaHost, c: number, memfree: readonly number[], memory: number, vcpus: number, cores: number): boolean {
  const t = host.candidates;
  if (t.cpuCount[c]! < vcpus || t.coreCount[c]! < cores) return false;
  let mem = 0;
  for (let i = t.start[c]!; i < t.start[c + 1]!; i++) mem += memfree[t.members[i]!]!;
  return mem >= memory;
}

function usageOf(host: NumaHost, c: number): number {
  const t = host.candidates;
  let usage = 0;
  for (let i = t.start[c]!; i < t.start[c + 1]!; i++) usage += host.nodeUsage[t.members[i]!]!;
  return usage;
}

/**
 * OCaml's structural order on the descending node lists of candidates a and b: element-wise from
 * the largest node, a proper prefix first (spec §4.4 step 4: `[1;0] < [2;0] < [2;1]`, `[1] < [1;0]`).
 */
function compareDescendingNodes(host: NumaHost, a: number, b: number): number {
  const t = host.candidates;
  let i = t.start[a + 1]!;
  let j = t.start[b + 1]!;
  while (i > t.start[a]! && j > t.start[b]!) {
    const d = t.members[--i]! - t.members[--j]!;
    if (d !== 0) return d;
  }
  return i - t.start[a]! - (j - t.start[b]!);
}

/** The union of candidate c's node CPUs, ascending (made once per candidate, then shared). */
function candidateCpus(host: NumaHost, c: number): readonly number[] {
  let cpus = host.chosenCpus.get(c);
  if (cpus === undefined) {
    const t = host.candidates;
    const nodes = Array.from(t.members.subarray(t.start[c]!, t.start[c + 1]!));
    cpus = Object.freeze(nodes.flatMap((k) => host.nodeCpus[k]!).sort((a, b) => a - b));
    host.chosenCpus.set(c, cpus);
  }
  return cpus;
}

/**
 * `Softaffinity.plan host nodes ~vm` (spec §4.4): walk the ranked candidates; the group is the
 * first candidate that fits plus every immediately following fitting candidate whose average
 * distance is within 1e-3 of it; `NUMA.choose` takes the least-used member (sum of the nodes'
 * counters), ties broken by the smallest descending node list; the chosen nodes' counters grow
 * by one. Free memory only filters — balancing is by placement counts. `null` if nothing fits.
 */
export function planPlacement(host: NumaHost, memfree: readonly number[], request: NumaRequest): NumaPlan | null {
  checkPlanInput(host, memfree, request);
  const { memory, vcpus } = request;
  // Reference mode's NUMARequest has no cores (spec §4.1).
  const cores = host.mode === 'latest' ? (request.cores ?? 0) : 0;
  if (!mayFitSomewhere(host, memfree, memory, vcpus, cores)) return null;
  const t = host.candidates;
  let best = -1;
  let bestUsage = 0;
  let groupAvg = 0;
  for (let c = 0; c < t.count; c++) {
    if (!candidateFits(host, c, memfree, memory, vcpus, cores)) continue;
    if (best >= 0 && !(Math.abs(t.avg[c]! - groupAvg) < SAME_DISTANCE_TOLERANCE)) break;
    const usage = usageOf(host, c);
    if (best < 0) groupAvg = t.avg[c]!;
    if (best < 0 || usage < bestUsage || (usage === bestUsage && compareDescendingNodes(host, c, best) < 0)) {
      best = c;
      bestUsage = usage;
    }
  }
  if (best < 0) return null;
  const chosen = Array.from(t.members.subarray(t.start[best]!, t.start[best + 1]!));
  for (const k of chosen) host.nodeUsage[k] = host.nodeUsage[k]! + 1;
  return { nodes: chosen.reverse(), cpus: candidateCpus(host, best), avg: t.avg[best]! };
}
