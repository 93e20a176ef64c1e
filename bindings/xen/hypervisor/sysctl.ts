/**
 * XEN_SYSCTL_physinfo / numainfo / cputopoinfo (spec xen-hypervisor.md §7): the topology's
 * views with the hypervisor's live state on top — online CPUs and the heap's free memory.
 */
import { cputopoinfo as topoCputopoinfo, numainfo as topoNumainfo, physinfo as topoPhysinfo, XEN_PAGE_SIZE, type XenCputopo, type XenMeminfo, type XenPhysinfo } from '../../topology/views.js';
import type { HypervisorState } from './types.js';

export type { XenCputopo, XenMeminfo, XenPhysinfo };

/** Free bytes of a node, rounded down to whole pages. */
function freeBytes(hv: HypervisorState, node: number): number {
  return Math.floor(hv.nodeFree[node] / XEN_PAGE_SIZE) * XEN_PAGE_SIZE;
}

/**
 * The topology part of physinfo scans every CPU (sibling and core counts), so it is kept until
 * a CPU changes state: xenopsd asks for physinfo on every VM build.
 */
const topologyPart = new WeakMap<HypervisorState, XenPhysinfo>();

/** Drops the cached topology part (called on every CPU state change). */
export function forgetPhysinfo(hv: HypervisorState): void {
  topologyPart.delete(hv);
}

export function physinfo(hv: HypervisorState): XenPhysinfo {
  let p = topologyPart.get(hv);
  if (!p) topologyPart.set(hv, (p = topoPhysinfo(hv.topology, hv.engine.nrNodes)));
  let free = 0;
  for (const n of hv.topology.nodes) if (n.online) free += freeBytes(hv, n.id) / XEN_PAGE_SIZE;
  return { ...p, free_pages: free };
}

export function numainfo(hv: HypervisorState, numNodes: number, want = { meminfo: true, distance: true }) {
  const r = topoNumainfo(hv.topology, numNodes, want);
  r.meminfo?.forEach((m, i) => {
    if (hv.topology.nodes[i].online) m.memfree = freeBytes(hv, i);
  });
  return r;
}

export function cputopoinfo(hv: HypervisorState, numCpus: number | null) {
  return topoCputopoinfo(hv.topology, numCpus);
}
