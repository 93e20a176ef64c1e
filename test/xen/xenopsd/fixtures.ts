/**
 * The whole chain for end-to-end tests: topology → hypervisor → libxenctrl → Xenstore store →
 * toolstack (xenopsd + xenguest), all real components.
 */
import { createEngine } from '../../../bindings/engine.js';
import { AffinityError } from '../../../bindings/errors.js';
import { Topology } from '../../../bindings/topology/topology.js';
import type { TopologySpec } from '../../../bindings/topology/spec.js';
import { createHypervisor, type Hypervisor } from '../../../bindings/xen/hypervisor/hypervisor.js';
import type { SchedulerName } from '../../../bindings/xen/hypervisor/types.js';
import { xc_interface_open } from '../../../bindings/xen/xenctrl.js';
import type { FlavourName } from '../../../bindings/xen/xenstore/flavour.js';
import { createStore, type XenstoreStore } from '../../../bindings/xen/xenstore/store.js';
import { createToolstack, dom0Store, type Toolstack, type ToolstackOptions, type ToolstackXenctrl } from '../../../bindings/xen/xenopsd/build.js';
import { toolstackXenctrl } from '../../../bindings/xen/xenopsd/xc.js';

export const GiB = 2 ** 30;

/**
 * A host of `nodes` nodes × `cpusPerNode` CPUs, two threads per core, node k = socket k, with
 * the given SLIT and `memPerNode` bytes per node.
 */
export function hostSpec(distances: number[][], cpusPerNode: number, memPerNode = 16 * GiB): TopologySpec {
  const nodes = distances.length;
  return {
    cpus: Array.from({ length: nodes * cpusPerNode }, (_, id) => ({
      id,
      socket: Math.floor(id / cpusPerNode),
      core: Math.floor((id % cpusPerNode) / 2),
      node: Math.floor(id / cpusPerNode),
      state: 'online' as const,
    })),
    nodes: Array.from({ length: nodes }, (_, id) => ({ id, memsize: memPerNode, memfree: memPerNode })),
    distances,
  };
}

/** upstream test_topology.ml `make_numa`: 10 + 11·|i−j|. */
export const exampleSlit = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => 10 + 11 * Math.abs(i - j)));

/** The AMD Opteron 6272 SLIT of spec §4.5. */
export const OPTERON_SLIT = [
  [10, 16, 16, 22, 16, 22, 16, 22],
  [16, 10, 22, 16, 16, 22, 22, 16],
  [16, 22, 10, 16, 16, 16, 16, 16],
  [22, 16, 16, 10, 16, 16, 22, 22],
  [16, 16, 16, 16, 10, 16, 16, 22],
  [22, 22, 16, 16, 16, 10, 22, 16],
  [16, 22, 16, 22, 16, 22, 10, 16],
  [22, 16, 16, 22, 22, 16, 16, 10],
];

export interface Chain {
  hv: Hypervisor;
  xs: XenstoreStore;
  xc: ToolstackXenctrl;
  ts: Toolstack;
}

/** Boots the host (credit1 and oxenstored by default, as XenServer runs) and creates a toolstack on it. */
export function chain(
  spec: TopologySpec,
  options: Omit<ToolstackOptions, 'xc' | 'store'> & { scheduler?: SchedulerName; xenstored?: FlavourName; wrapXc?: (xc: ToolstackXenctrl) => ToolstackXenctrl } = {},
): Chain {
  const topology = new Topology(spec);
  const engine = createEngine({ nrCpus: topology.nrCpuIds, nrNodes: 64 });
  const hv = createHypervisor({ engine, topology, scheduler: options.scheduler ?? 'credit', dom0: false });
  const xs = createStore({ flavour: options.xenstored ?? 'oxenstored' });
  const base = toolstackXenctrl(xc_interface_open(hv));
  const xc = options.wrapXc ? options.wrapXc(base) : base;
  const ts = createToolstack({ ...options, xc, store: dom0Store(xs) });
  return { hv, xs, xc, ts };
}

/** CPU ids a..b-1. */
export const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** The AffinityError `f` throws (fails the test if it throws nothing or something else). */
export function errorOf(f: () => unknown): AffinityError {
  try {
    f();
  } catch (e) {
    if (e instanceof AffinityError) return e;
    throw e;
  }
  throw new Error('expected an AffinityError');
}
