/**
 * What each system sees of the host: Xen's topology sysctls (spec xen-hypervisor.md §7, the
 * facts re-read in xen/common/sysctl.c at the spec's HEAD) and the hardware hierarchy the
 * Solaris processor groups are built from (spec solaris-affinity.md §6.1, §6.3). Pure functions
 * of a {@link Topology}, in Xen's field names.
 */
import { UNREACHABLE, type Topology } from './topology.js';

/** XEN_INVALID_CORE_ID / XEN_INVALID_SOCKET_ID / XEN_INVALID_NODE_ID: `~0U`. */
export const XEN_INVALID_ID = 0xffff_ffff;
/** XEN_INVALID_MEM_SZ is `~0U` stored in a u64: 0x00000000FFFFFFFF, not all ones (spec §7). */
export const XEN_INVALID_MEM_SZ = 0xffff_ffff;
/** XEN_INVALID_NODE_DIST: `~0U`. */
export const XEN_INVALID_NODE_DIST = 0xffff_ffff;
/** Xen's page size on x86. */
export const XEN_PAGE_SIZE = 4096;

/** One core: its id within the socket and its CPUs (every present state), ascending. */
export interface CoreView {
  readonly id: number;
  readonly cpus: number[];
}
/** One socket (package): its CPUs and cores, ascending. */
export interface SocketView {
  readonly id: number;
  readonly cpus: number[];
  readonly cores: CoreView[];
}

/**
 * The hardware sharing hierarchy: sockets → cores → hardware threads, over configured (present)
 * CPUs whose socket and core are known. Solaris builds its Socket / Integer_Pipeline PGs from it
 * (spec solaris-affinity.md §6.1: PG membership includes offline CPUs); Xen's sibling and core
 * masks are its online part.
 */
export function sockets(topo: Topology): SocketView[] {
  const bySocket = new Map<number, Map<number, number[]>>();
  for (const c of topo.cpus) {
    if (c.state === 'not-present' || c.socket < 0 || c.core < 0) continue;
    let cores = bySocket.get(c.socket);
    if (!cores) bySocket.set(c.socket, (cores = new Map()));
    const core = cores.get(c.core);
    if (core) core.push(c.id);
    else cores.set(c.core, [c.id]);
  }
  return [...bySocket.entries()].sort(([a], [b]) => a - b).map(([id, cores]) => {
    const coreViews = [...cores.entries()].sort(([a], [b]) => a - b).map(([cid, cpus]) => ({ id: cid, cpus }));
    return { id, cpus: coreViews.flatMap((k) => k.cpus).sort((a, b) => a - b), cores: coreViews };
  });
}

/** `struct xen_sysctl_physinfo`, the topology part. */
export interface XenPhysinfo {
  threads_per_core: number;
  cores_per_socket: number;
  nr_cpus: number;
  nr_nodes: number;
  max_cpu_id: number;
  max_node_id: number;
  total_pages: number;
  free_pages: number;
  outstanding_pages: number;
}

/**
 * XEN_SYSCTL_physinfo (sysctl.c): threads_per_core = online siblings of CPU 0 (its
 * `cpu_sibling_mask`), cores_per_socket = online CPUs of CPU 0's socket (`cpu_core_mask`) /
 * threads_per_core, nr_cpus = online CPUs, nr_nodes = online nodes, max_cpu_id = nr_cpu_ids - 1,
 * max_node_id = MAX_NUMNODES - 1 (not the highest online node). Xen never offlines CPU 0; if a
 * topology has, both counts are 0 (Xen would divide by zero).
 * @param maxNumNodes MAX_NUMNODES (Kconfig NR_NUMA_NODES, 2..64, default 64).
 */
export function physinfo(topo: Topology, maxNumNodes = 64): XenPhysinfo {
  const cpu0 = topo.cpus[0];
  const online = (ids: number[]) => ids.filter((id) => topo.cpus[id].state === 'online').length;
  const socket = cpu0.state === 'online' ? sockets(topo).find((s) => s.id === cpu0.socket) : undefined;
  const threads = socket ? online(socket.cores.find((k) => k.id === cpu0.core)!.cpus) : 0;
  const nodes = topo.nodes.filter((n) => n.online);
  const pages = (bytes: number) => Math.floor(bytes / XEN_PAGE_SIZE);
  return {
    threads_per_core: threads,
    cores_per_socket: socket ? Math.floor(online(socket.cpus) / threads) : 0,
    nr_cpus: topo.onlineCpus().length,
    nr_nodes: nodes.length,
    max_cpu_id: topo.nrCpuIds - 1,
    max_node_id: maxNumNodes - 1,
    total_pages: nodes.reduce((sum, n) => sum + pages(n.memsize), 0),
    free_pages: nodes.reduce((sum, n) => sum + pages(n.memfree), 0),
    outstanding_pages: 0,
  };
}

export interface XenCputopo {
  core: number;
  socket: number;
  node: number;
}

/**
 * XEN_SYSCTL_cputopoinfo (sysctl.c): N = last present CPU + 1. `numCpus` null = a null handle:
 * only N is returned. Otherwise min(N, numCpus) entries are written and that count returned.
 * Non-present CPU: all three ~0U. A present CPU that is offline keeps its node but its core and
 * socket are ~0U: Xen resets an offlined CPU's cpuinfo (smpboot.c `cpu_smpboot_free` →
 * `reset_cpuinfo`), which is why `xl info -n` lists online CPUs only. No node: ~0U.
 */
export function cputopoinfo(topo: Topology, numCpus: number | null): { num_cpus: number; cputopo?: XenCputopo[] } {
  const n = Math.max(...topo.presentCpus()) + 1;
  if (numCpus === null) return { num_cpus: n };
  const cputopo = topo.cpus.slice(0, Math.min(n, Math.max(0, numCpus))).map((c): XenCputopo => {
    if (c.state === 'not-present') return { core: XEN_INVALID_ID, socket: XEN_INVALID_ID, node: XEN_INVALID_ID };
    const valid = (v: number) => (v < 0 ? XEN_INVALID_ID : v);
    const online = c.state === 'online';
    return { core: online ? valid(c.core) : XEN_INVALID_ID, socket: online ? valid(c.socket) : XEN_INVALID_ID, node: valid(c.node) };
  });
  return { num_cpus: cputopo.length, cputopo };
}

export interface XenMeminfo {
  memsize: number;
  memfree: number;
}

/**
 * XEN_SYSCTL_numainfo (sysctl.c): N = last online node + 1; when meminfo or distances are
 * asked for, N = min(N, numNodes). Offline node i: memsize = memfree = XEN_INVALID_MEM_SZ.
 * Sizes are whole pages in bytes. `distance[i·N + j]` uses the returned N as stride, not the
 * caller's numNodes; NUMA_NO_DISTANCE becomes XEN_INVALID_NODE_DIST.
 */
export function numainfo(topo: Topology, numNodes: number, want: { meminfo: boolean; distance: boolean }):
  { num_nodes: number; meminfo?: XenMeminfo[]; distance?: number[] } {
  const last = topo.nodes.filter((x) => x.online).reduce((m, x) => Math.max(m, x.id), -1);
  let n = last + 1;
  if (!want.meminfo && !want.distance) return { num_nodes: n };
  n = Math.min(n, Math.max(0, numNodes));
  const ids = [...Array(n).keys()];
  const page = (bytes: number) => Math.floor(bytes / XEN_PAGE_SIZE) * XEN_PAGE_SIZE;
  return {
    num_nodes: n,
    meminfo: want.meminfo ? ids.map((i) => topo.nodes[i].online
      ? { memsize: page(topo.nodes[i].memsize), memfree: page(topo.nodes[i].memfree) }
      : { memsize: XEN_INVALID_MEM_SZ, memfree: XEN_INVALID_MEM_SZ }) : undefined,
    distance: want.distance ? ids.flatMap((i) => ids.map((j) => {
      const d = topo.distance(i, j);
      return d === UNREACHABLE ? XEN_INVALID_NODE_DIST : d;
    })) : undefined,
  };
}
