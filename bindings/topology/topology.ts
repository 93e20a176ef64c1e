/**
 * The host topology shared by the Xen and Solaris models (issue 3).
 *
 * Plain typed data: CPUs 0…N-1 (N = nr_cpu_ids, up to 16384) with socket, core, NUMA node and
 * thread ids and a state; NUMA nodes 0…M-1 (M ≤ MAX_NUMNODES = 64) with memory in bytes; the
 * SLIT distance matrix. Every builder (synthetic.ts, hwloc-xml.ts, sysfs.ts, xl-info.ts, json.ts)
 * produces a {@link TopologySpec}; {@link Topology} validates it once, all-or-nothing.
 *
 * The only mutable part is CPU state: online/offline changes go through
 * {@link Topology.setCpuState} so that both systems observe them (listeners).
 */
import { fail } from '../errors.js';
import {
  CPU_STATES, LOCAL_DISTANCE, MAX_CPUS, MAX_NODES, NO_ID, REMOTE_DISTANCE, TOPOLOGY_JSON_FORMAT, UNREACHABLE,
  type CpuSpec, type CpuState, type TopologyJSON, type TopologySpec,
} from './spec.js';

export {
  CPU_STATES, LOCAL_DISTANCE, MAX_NODES, NO_ID, REMOTE_DISTANCE, UNREACHABLE,
  type CpuSpec, type CpuState, type NodeSpec, type TopologyJSON, type TopologySpec,
} from './spec.js';
export type { SyntheticOptions } from './synthetic.js';
import { hwlocXmlTopology } from './hwloc-xml.js';
import { topologySpecFromJSON } from './json.js';
import { syntheticTopology, type SyntheticOptions } from './synthetic.js';
import { sysfsTopology } from './sysfs.js';
import { xlInfoTopology } from './xl-info.js';

export interface Cpu {
  readonly id: number;
  /** Physical package id as the source reports it ({@link NO_ID} if unknown / not present). */
  readonly socket: number;
  /** Core id as the source reports it: unique only within its socket (Linux core_id, Xen core). */
  readonly core: number;
  /** Index of this CPU among the hardware threads of its core, in CPU id order. */
  readonly thread: number;
  readonly node: number;
  /** Changed only through {@link Topology.setCpuState}, so that listeners hear of it. */
  readonly state: CpuState;
}

export interface NumaNode {
  readonly id: number;
  /** false: an id below the highest node with nothing behind it (Xen reports XEN_INVALID_MEM_SZ). */
  readonly online: boolean;
  readonly memsize: number;
  readonly memfree: number;
}

/** A CPU state change, as listeners see it. */
export interface CpuStateChange {
  readonly cpu: number;
  readonly from: CpuState;
  readonly to: CpuState;
}
export type CpuStateListener = (change: CpuStateChange, topology: Topology) => void;

function check(ok: boolean, source: string, what: string): void {
  if (!ok) fail('EINVAL', `${source}: ${what}`);
}

function isId(v: unknown, limit: number): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < limit;
}

function isBytes(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** The validated CPUs of a spec, indexed by id (thread ids numbered here, for every builder alike). */
function buildCpus(spec: TopologySpec, nrNodeIds: number, source: string): Cpu[] {
  const listed = spec.cpus;
  check(Array.isArray(listed) && listed.length > 0, source, 'no CPUs');
  let highest = -1;
  for (const c of listed) {
    check(isId(c?.id, MAX_CPUS), source, `CPU id ${String(c?.id)} is not an integer in 0..${MAX_CPUS - 1}`);
    highest = Math.max(highest, c.id);
  }
  const nrCpuIds = spec.nrCpuIds ?? highest + 1;
  check(isId(nrCpuIds - 1, MAX_CPUS), source, `nr_cpu_ids ${nrCpuIds} is not in 1..${MAX_CPUS}`);
  check(highest < nrCpuIds, source, `CPU ${highest} is not below nr_cpu_ids ${nrCpuIds}`);
  const byId: (CpuSpec | undefined)[] = new Array(nrCpuIds);
  for (const c of listed) {
    check(byId[c.id] === undefined, source, `duplicate CPU id ${c.id}`);
    check(CPU_STATES.includes(c.state), source, `CPU ${c.id}: unknown state ${JSON.stringify(c.state)}`);
    const present = c.state !== 'not-present';
    for (const f of ['socket', 'core'] as const)
      check(Number.isInteger(c[f]) && c[f] >= NO_ID, source, `CPU ${c.id}: ${f} ${String(c[f])} is not an id or ${NO_ID}`);
    check(c.node === NO_ID || isId(c.node, nrNodeIds), source, `CPU ${c.id}: node ${String(c.node)} is not a listed node`);
    check(present || (c.socket === NO_ID && c.core === NO_ID && c.node === NO_ID), source,
      `CPU ${c.id}: a not-present CPU has no socket, core or node`);
    byId[c.id] = c;
  }
  const nextThread = new Map<string, number>();
  const cpus: Cpu[] = new Array(nrCpuIds);
  for (let id = 0; id < nrCpuIds; id++) {
    const c = byId[id];
    if (c === undefined || c.state === 'not-present') {
      cpus[id] = { id, socket: NO_ID, core: NO_ID, thread: NO_ID, node: NO_ID, state: 'not-present' };
      continue;
    }
    const key = `${c.socket}/${c.core}`;
    const thread = c.core === NO_ID ? 0 : (nextThread.get(key) ?? 0);
    nextThread.set(key, thread + 1);
    cpus[id] = { id, socket: c.socket, core: c.core, thread, node: c.node, state: c.state };
  }
  check(cpus.some((c) => c.state === 'online'), source, 'no online CPU');
  return cpus;
}

function buildNodes(spec: TopologySpec, source: string): NumaNode[] {
  check(Array.isArray(spec.nodes) && spec.nodes.length > 0, source, 'no NUMA nodes');
  let highest = -1;
  for (const n of spec.nodes) {
    check(isId(n?.id, MAX_NODES), source, `node id ${String(n?.id)} is not an integer in 0..${MAX_NODES - 1}`);
    highest = Math.max(highest, n.id);
  }
  const nodes: NumaNode[] = new Array(highest + 1);
  for (const n of spec.nodes) {
    check(nodes[n.id] === undefined, source, `duplicate node id ${n.id}`);
    check(isBytes(n.memsize) && isBytes(n.memfree), source, `node ${n.id}: memsize/memfree must be byte counts`);
    check(n.memfree <= n.memsize, source, `node ${n.id}: memfree ${n.memfree} exceeds memsize ${n.memsize}`);
    nodes[n.id] = { id: n.id, online: true, memsize: n.memsize, memfree: n.memfree };
  }
  for (let id = 0; id <= highest; id++) nodes[id] ??= { id, online: false, memsize: 0, memfree: 0 };
  return nodes;
}

/** The SLIT over all node ids; validated square, symmetric, bytes, 10 on the diagonal of online nodes. */
function buildDistances(spec: TopologySpec, nodes: NumaNode[], source: string): number[][] {
  const n = nodes.length;
  const given = spec.distances;
  if (given == null)
    return nodes.map((a) => nodes.map((b) =>
      !a.online || !b.online ? UNREACHABLE : a.id === b.id ? LOCAL_DISTANCE : REMOTE_DISTANCE));
  check(Array.isArray(given) && given.length === n, source,
    `distance matrix has ${Array.isArray(given) ? given.length : 'no'} rows, expected ${n} (one per node id)`);
  const d = given.map((row, i) => {
    check(Array.isArray(row) && row.length === n, source,
      `distance row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n}`);
    return row.map((v, j) => {
      check(v === null || isId(v, 256), source, `distance[${i}][${j}] = ${String(v)} is not a byte`);
      return v ?? UNREACHABLE;
    });
  });
  for (let i = 0; i < n; i++) {
    check(!nodes[i].online || d[i][i] === LOCAL_DISTANCE, source,
      `distance[${i}][${i}] = ${d[i][i]}, a node's distance to itself must be ${LOCAL_DISTANCE}`);
    for (let j = 0; j < i; j++)
      check(d[i][j] === d[j][i], source, `distance matrix is asymmetric: [${i}][${j}] = ${d[i][j]} but [${j}][${i}] = ${d[j][i]}`);
  }
  return d;
}

/**
 * A validated host topology. Build it with `Topology.fromSynthetic`, `.fromHwlocXml`,
 * `.fromSysfs`, `.fromXlInfo`, `.fromJSON`, or `new Topology(spec)`; invalid input throws
 * (EINVAL, ENOENT for missing files) and builds nothing.
 */
export class Topology {
  /** nr_cpu_ids: CPU ids are 0…nrCpuIds-1. */
  readonly nrCpuIds: number;
  readonly cpus: readonly Cpu[];
  /** Indexed by node id; offline ids in between are present with `online: false`. */
  readonly nodes: readonly NumaNode[];
  /** SLIT, `distances[a][b]`, over all node ids. */
  readonly distances: readonly (readonly number[])[];
  private readonly listeners = new Set<CpuStateListener>();

  /** From hwloc synthetic syntax, e.g. `"pack:4 node:4 core:32 pu:2"` (synthetic.ts). */
  static fromSynthetic(spec: string, opts?: SyntheticOptions): Topology {
    return new Topology(syntheticTopology(spec, opts));
  }

  /** From hwloc 2.x XML text, as `lstopo machine.xml` writes it (hwloc-xml.ts). */
  static fromHwlocXml(xmlText: string, name?: string): Topology {
    return new Topology(hwlocXmlTopology(xmlText, name));
  }

  /** From a Linux sysfs tree: the live `/sys` or a snapshot directory of it (sysfs.ts). */
  static fromSysfs(root = '/sys'): Topology {
    return new Topology(sysfsTopology(root));
  }

  /** From `xl info -n` output (xl-info.ts). */
  static fromXlInfo(text: string): Topology {
    return new Topology(xlInfoTopology(text));
  }

  /** From the JSON form written by {@link Topology.toJSON} (object or text) (json.ts). */
  static fromJSON(json: unknown): Topology {
    return new Topology(topologySpecFromJSON(json));
  }

  constructor(spec: TopologySpec) {
    const source = spec?.source ?? 'topology';
    check(spec !== null && typeof spec === 'object', source, 'not a topology description');
    const nodes = buildNodes(spec, source);
    this.cpus = buildCpus(spec, nodes.length, source);
    for (const c of this.cpus)
      check(c.node === NO_ID || nodes[c.node].online, source, `CPU ${c.id} is on node ${c.node}, which is not listed`);
    this.nrCpuIds = this.cpus.length;
    this.nodes = nodes;
    this.distances = buildDistances(spec, nodes, source);
  }

  /** The CPU with this id; EINVAL if out of range. */
  cpu(id: number): Cpu {
    if (!isId(id, this.nrCpuIds)) fail('EINVAL', `CPU ${id} is not in 0..${this.nrCpuIds - 1}`);
    return this.cpus[id];
  }

  /** The node with this id (online or not); EINVAL if out of range. */
  node(id: number): NumaNode {
    if (!isId(id, this.nodes.length)) fail('EINVAL', `node ${id} is not in 0..${this.nodes.length - 1}`);
    return this.nodes[id];
  }

  /** SLIT distance between two node ids (Xen `__node_distance`, Linux `node_distance`). */
  distance(a: number, b: number): number {
    return this.distances[this.node(a).id][this.node(b).id];
  }

  /** CPU ids on a node, every state but not-present (hwloc's node cpuset), ascending. */
  nodeCpus(node: number): number[] {
    this.node(node);
    return this.cpus.filter((c) => c.node === node).map((c) => c.id);
  }

  /** Online CPU ids, ascending (Xen cpu_online_map, Linux /sys/devices/system/cpu/online). */
  onlineCpus(): number[] {
    return this.cpus.filter((c) => c.state === 'online').map((c) => c.id);
  }

  /** Present CPU ids (every state but not-present), ascending (Xen cpu_present_map). */
  presentCpus(): number[] {
    return this.cpus.filter((c) => c.state !== 'not-present').map((c) => c.id);
  }

  /**
   * Changes one CPU's state and tells every listener. A not-present CPU cannot change, nothing
   * can become not-present (no hot-remove), and the last online CPU cannot go (EBUSY, as both
   * Xen `cpu_down` and Solaris `cpu_offline` refuse it). If a listener throws, the change is
   * undone — listeners already told hear the reverse change — and the error propagates.
   * @returns the previous state (as Solaris p_online(2) does).
   */
  setCpuState(cpu: number, state: CpuState): CpuState {
    const c = this.cpu(cpu);
    if (!CPU_STATES.includes(state)) fail('EINVAL', `unknown CPU state ${JSON.stringify(state)}`);
    const from = c.state;
    if (from === 'not-present') fail('EINVAL', `CPU ${cpu} is not present`);
    if (state === 'not-present') fail('EINVAL', `CPU ${cpu} cannot become not-present`);
    if (from === state) return from;
    if (from === 'online' && this.cpus.every((o) => o.id === cpu || o.state !== 'online'))
      fail('EBUSY', `CPU ${cpu} is the last online CPU`);
    const mutable = c as { state: CpuState };
    mutable.state = state;
    const told: CpuStateListener[] = [];
    try {
      for (const l of this.listeners) {
        told.push(l);
        l({ cpu, from, to: state }, this);
      }
    } catch (e) {
      mutable.state = from;
      for (const l of told.slice(0, -1)) l({ cpu, from: state, to: from }, this);
      throw e;
    }
    return from;
  }

  /** Registers a listener for CPU state changes; returns the function that unregisters it. */
  subscribe(listener: CpuStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The plain JSON form (what `JSON.stringify(topology)` writes); `Topology.fromJSON` reads it
   * back into an equal topology. CPU states are captured as they are now.
   */
  toJSON(): TopologyJSON {
    return {
      format: TOPOLOGY_JSON_FORMAT,
      version: 1,
      nrCpuIds: this.nrCpuIds,
      cpus: this.cpus.filter((c) => c.state !== 'not-present')
        .map(({ id, socket, core, node, state }) => ({ id, socket, core, node, state })),
      nodes: this.nodes.filter((n) => n.online).map(({ id, memsize, memfree }) => ({ id, memsize, memfree })),
      distances: this.distances.map((row) => [...row]),
    };
  }
}
