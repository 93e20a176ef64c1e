/**
 * The plain data a topology builder produces (synthetic.ts, hwloc-xml.ts, sysfs.ts, xl-info.ts,
 * json.ts) and the limits and constants of the model; topology.ts validates it into a Topology.
 */
/** Largest nr_cpu_ids the project simulates (the engine's limit). */
export { MAX_CPUS } from '../engine.js';

/**
 * CPU states. 'online'/'offline' are common to both systems; 'not-present' is an id below
 * nr_cpu_ids with no processor behind it (Xen `cpu_present` false, Linux possible-not-present);
 * 'faulted' and 'spare' are Solaris P_FAULTED / P_SPARE (spec solaris-affinity.md §4), which run
 * nothing, like 'offline'.
 */
export type CpuState = 'online' | 'offline' | 'not-present' | 'faulted' | 'spare';
export const CPU_STATES: readonly CpuState[] = ['online', 'offline', 'not-present', 'faulted', 'spare'];

/** "No such id": a CPU with no node (Xen XEN_INVALID_NODE_ID), no socket/core (not present). */
export const NO_ID = -1;
/** MAX_NUMNODES: Xen's nodemask is one 64-bit word (spec xen-hypervisor.md §1.1); illumos caps lgroups at 64. */
export const MAX_NODES = 64;
/** SLIT distance of a node to itself. */
export const LOCAL_DISTANCE = 10;
/** Distance between two nodes when the firmware gave no SLIT (Linux and Xen x86 both use 20). */
export const REMOTE_DISTANCE = 20;
/** SLIT "unreachable" (Xen NUMA_NO_DISTANCE); also what a missing entry means. */
export const UNREACHABLE = 0xff;

/** One CPU as a builder describes it. `node` is {@link NO_ID} for a CPU with no NUMA node. */
export interface CpuSpec {
  id: number;
  socket: number;
  core: number;
  node: number;
  state: CpuState;
}

/** One NUMA node as a builder describes it (memory in bytes). Listed nodes are online. */
export interface NodeSpec {
  id: number;
  memsize: number;
  memfree: number;
}

/**
 * What a builder hands to {@link Topology}. CPU ids below `nrCpuIds` that are not listed are
 * 'not-present'; node ids below the highest listed that are not listed are offline nodes.
 * `distances` is square over node ids 0…(highest node id), `null` entries = unreachable;
 * absent = no SLIT (10 local, 20 remote between online nodes).
 */
export interface TopologySpec {
  nrCpuIds?: number;
  cpus: CpuSpec[];
  nodes: NodeSpec[];
  distances?: (number | null)[][] | null;
  /** Names the input in error messages (file name, "synthetic string", …). */
  source?: string;
}

/** Tag and version of the JSON form (json.ts). */
export const TOPOLOGY_JSON_FORMAT = 'affinity-engine/topology';
export interface TopologyJSON extends TopologySpec {
  format: typeof TOPOLOGY_JSON_FORMAT;
  version: 1;
}

