/**
 * libxenctrl (spec xen-hypervisor.md §8, §6.3): the C library's functions under their own
 * names, with its conventions — byte cpumaps/nodemaps (bit i = byte i/8, bit i%8), return
 * 0 / -1 with the positive Xen error in `xch.errno`, maps copied back even on failure,
 * max CPUs/nodes cached per handle after the first success.
 *
 * The idiomatic TypeScript layer, which throws AffinityError instead, is the Hypervisor class.
 */
import { fail } from '../errors.js';
import type { Hypervisor } from './hypervisor/hypervisor.js';
import { CPUPOOL_PAR_ANY, type CpupoolInfo } from './hypervisor/cpupool.js';
import {
  getNodeAffinityDomctl, getVcpuAffinity, hypercall, maxVcpusDomctl, setNodeAffinityDomctl, setVcpuAffinity, domainOf,
} from './hypervisor/domctl.js';
import { createDomain, destroyDomain, type CreateDomainConfig } from './hypervisor/domain.js';
import {
  cpupoolAddCpu, cpupoolCreate, cpupoolDestroy, cpupoolFreeinfo, cpupoolInfo, cpupoolMoveDomain, cpupoolRemoveCpu,
} from './hypervisor/cpupool.js';
import { SCHED_CREDIT, type HypervisorState } from './hypervisor/types.js';
import { cputopoinfo, numainfo, physinfo, type XenCputopo, type XenMeminfo, type XenPhysinfo } from './hypervisor/sysctl.js';

export { XEN_VCPUAFFINITY_FORCE, XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT } from './hypervisor/domctl.js';

/** An open xc_interface: the hypervisor it talks to, the last errno, libxc's caches. */
export interface XcInterface {
  readonly hv: HypervisorState;
  /** errno after the last failing call (positive, Linux numbering). */
  errno: number;
  maxCpus?: number;
  maxNodes?: number;
}

export type XcCpumap = Uint8Array;
export type XcNodemap = Uint8Array;

/** xc_interface_open. */
export function xc_interface_open(hv: Hypervisor | HypervisorState): XcInterface {
  return { hv: 'state' in hv ? hv.state : hv, errno: 0 };
}

/** 0 / -1 with errno from a hypercall's -errno. */
function ret(xch: XcInterface, rc: number): number {
  if (rc < 0) {
    xch.errno = -rc;
    return -1;
  }
  return 0;
}

/** Runs a body whose AffinityError becomes -1 + errno (for the sysctls modelled as functions). */
function call(xch: XcInterface, body: () => void): number {
  return ret(xch, hypercall(body));
}

/** xc_get_max_cpus: physinfo.max_cpu_id + 1, cached after the first success. */
export function xc_get_max_cpus(xch: XcInterface): number {
  xch.maxCpus ??= xch.hv.engine.nrCpuIds;
  return xch.maxCpus;
}

/** xc_get_online_cpus: physinfo.nr_cpus (not cached). */
export function xc_get_online_cpus(xch: XcInterface): number {
  return xch.hv.cpuOnline.weight();
}

/** xc_get_max_nodes: physinfo.max_node_id + 1 = MAX_NUMNODES, cached. */
export function xc_get_max_nodes(xch: XcInterface): number {
  xch.maxNodes ??= xch.hv.engine.nrNodes;
  return xch.maxNodes;
}

export function xc_get_cpumap_size(xch: XcInterface): number {
  return Math.floor((xc_get_max_cpus(xch) + 7) / 8);
}

export function xc_get_nodemap_size(xch: XcInterface): number {
  return Math.floor((xc_get_max_nodes(xch) + 7) / 8);
}

/** xc_cpumap_alloc: a zeroed map of xc_get_cpumap_size bytes. */
export function xc_cpumap_alloc(xch: XcInterface): XcCpumap {
  return new Uint8Array(xc_get_cpumap_size(xch));
}

export function xc_nodemap_alloc(xch: XcInterface): XcNodemap {
  return new Uint8Array(xc_get_nodemap_size(xch));
}

/** xc_cpumap_setcpu: no bounds check in C; here a write past the map is simply lost, as a JS typed array does. */
export function xc_cpumap_setcpu(cpu: number, map: XcCpumap): void {
  map[cpu >>> 3] |= 1 << (cpu & 7);
}

export function xc_cpumap_clearcpu(cpu: number, map: XcCpumap): void {
  map[cpu >>> 3] &= ~(1 << (cpu & 7));
}

export function xc_cpumap_testcpu(cpu: number, map: XcCpumap): number {
  return (map[cpu >>> 3] >> (cpu & 7)) & 1;
}

/**
 * xc_vcpu_setaffinity: both maps bounced in and out with nr_bits = cpumap size·8; the caller
 * sets the flags (a NULL map with its flag gets Xen's EINVAL); `vcpu` is a C int stored into a
 * uint32 (-1 is 0xFFFFFFFF, so EINVAL).
 */
export function xc_vcpu_setaffinity(xch: XcInterface, domid: number, vcpu: number, hard: XcCpumap | null, soft: XcCpumap | null, flags: number): number {
  const nrBits = xc_get_cpumap_size(xch) * 8;
  return ret(xch, setVcpuAffinity(xch.hv, domid, vcpu, flags, { bytes: hard, nrBits }, { bytes: soft, nrBits }));
}

/** xc_vcpu_getaffinity: the raw masks into the maps. */
export function xc_vcpu_getaffinity(xch: XcInterface, domid: number, vcpu: number, hard: XcCpumap | null, soft: XcCpumap | null, flags: number): number {
  const nrBits = xc_get_cpumap_size(xch) * 8;
  return ret(xch, getVcpuAffinity(xch.hv, domid, vcpu, flags, { bytes: hard, nrBits }, { bytes: soft, nrBits }));
}

/** xc_domain_node_setaffinity: nodesize·8 bits. */
export function xc_domain_node_setaffinity(xch: XcInterface, domid: number, nodemap: XcNodemap): number {
  return ret(xch, setNodeAffinityDomctl(xch.hv, domid, { bytes: nodemap, nrBits: xc_get_nodemap_size(xch) * 8 }));
}

/** xc_domain_node_getaffinity: copied back even on failure. */
export function xc_domain_node_getaffinity(xch: XcInterface, domid: number, nodemap: XcNodemap): number {
  return ret(xch, getNodeAffinityDomctl(xch.hv, domid, { bytes: nodemap, nrBits: xc_get_nodemap_size(xch) * 8 }));
}

/** xc_domain_create: `config` as XEN_DOMCTL_createdomain takes it; the new domid in `out.domid`. */
export function xc_domain_create(xch: XcInterface, out: { domid: number }, config: CreateDomainConfig): number {
  return call(xch, () => {
    out.domid = createDomain(xch.hv, { ...config, domid: config.domid ?? (out.domid > 0 ? out.domid : undefined) }).domid;
  });
}

/** xc_domain_max_vcpus. */
export function xc_domain_max_vcpus(xch: XcInterface, domid: number, max: number): number {
  return ret(xch, maxVcpusDomctl(xch.hv, domid, max));
}

/** xc_domain_destroy. */
export function xc_domain_destroy(xch: XcInterface, domid: number): number {
  return call(xch, () => {
    const d = domainOf(xch.hv, domid);
    if (d.isDom0) fail('EPERM', 'dom0 cannot be destroyed');
    destroyDomain(xch.hv, d);
  });
}

/** xc_physinfo. */
export function xc_physinfo(xch: XcInterface, out: Partial<XenPhysinfo>): number {
  return call(xch, () => void Object.assign(out, physinfo(xch.hv)));
}

/**
 * xc_numainfo: `maxNodes.value` is the caller's capacity in and the returned count out;
 * distance[i·N + j] with the returned N as stride (§7).
 */
export function xc_numainfo(xch: XcInterface, maxNodes: { value: number }, meminfo: XenMeminfo[] | null, distance: number[] | null): number {
  return call(xch, () => {
    const r = numainfo(xch.hv, maxNodes.value, { meminfo: !!meminfo, distance: !!distance });
    maxNodes.value = r.num_nodes;
    if (meminfo && r.meminfo) meminfo.splice(0, meminfo.length, ...r.meminfo);
    if (distance && r.distance) distance.splice(0, distance.length, ...r.distance);
  });
}

/** xc_cputopoinfo: `maxCpus.value` capacity in / count out; a null array asks only for the count. */
export function xc_cputopoinfo(xch: XcInterface, maxCpus: { value: number }, cputopo: XenCputopo[] | null): number {
  return call(xch, () => {
    const r = cputopoinfo(xch.hv, cputopo ? maxCpus.value : null);
    maxCpus.value = r.num_cpus;
    if (cputopo && r.cputopo) cputopo.splice(0, cputopo.length, ...r.cputopo);
  });
}

// Cpupools (xc_cpupool.c, §6.3). Xen's EAGAIN retries are internal here: the model never asks to retry.

/** xc_cpupool_create: *ppoolid = PAR_ANY (or a wanted id) in, the id out. */
export function xc_cpupool_create(xch: XcInterface, ppoolid: { value: number }, schedId: number): number {
  return call(xch, () => {
    ppoolid.value = cpupoolCreate(xch.hv, ppoolid.value, schedId);
  });
}

export function xc_cpupool_destroy(xch: XcInterface, poolid: number): number {
  return call(xch, () => cpupoolDestroy(xch.hv, poolid));
}

/** xc_cpupool_getinfo: the first pool with id ≥ poolid (INFO's lookup), or null with errno. */
export function xc_cpupool_getinfo(xch: XcInterface, poolid: number): (CpupoolInfo & { cpumap: XcCpumap }) | null {
  let info: CpupoolInfo | undefined;
  if (call(xch, () => void (info = cpupoolInfo(xch.hv, poolid))) < 0) return null;
  const cpumap = xc_cpumap_alloc(xch);
  for (const c of info!.cpuValid) xc_cpumap_setcpu(c, cpumap);
  return { ...info!, cpumap };
}

/** xc_cpupool_addcpu: cpu < 0 means any. */
export function xc_cpupool_addcpu(xch: XcInterface, poolid: number, cpu: number): number {
  return call(xch, () => void cpupoolAddCpu(xch.hv, poolid, cpu < 0 ? CPUPOOL_PAR_ANY : cpu));
}

/** xc_cpupool_removecpu: cpu < 0 means the pool's last. */
export function xc_cpupool_removecpu(xch: XcInterface, poolid: number, cpu: number): number {
  return call(xch, () => void cpupoolRemoveCpu(xch.hv, poolid, cpu < 0 ? CPUPOOL_PAR_ANY : cpu));
}

export function xc_cpupool_movedomain(xch: XcInterface, poolid: number, domid: number): number {
  return call(xch, () => cpupoolMoveDomain(xch.hv, poolid, domid));
}

/** xc_cpupool_freeinfo: a cpumap of the free CPUs, or null with errno. */
export function xc_cpupool_freeinfo(xch: XcInterface): XcCpumap | null {
  const map = xc_cpumap_alloc(xch);
  for (const c of cpupoolFreeinfo(xch.hv)) xc_cpumap_setcpu(c, map);
  return map;
}

/** struct xen_domctl_sched_credit. */
export interface XenDomctlSchedCredit {
  weight: number;
  cap: number;
}

/** xc_sched_credit_domain_get: EINVAL unless the domain's pool runs credit1. */
export function xc_sched_credit_domain_get(xch: XcInterface, domid: number, out: XenDomctlSchedCredit): number {
  return call(xch, () => {
    const d = creditDomain(xch, domid);
    out.weight = d.weight;
    out.cap = d.cap;
  });
}

/**
 * xc_sched_credit_domain_set (sched_credit.c csched_dom_cntl): weight 0 leaves the weight,
 * cap 0xFFFF leaves the cap; both are uint16 in the domctl.
 */
export function xc_sched_credit_domain_set(xch: XcInterface, domid: number, sdom: XenDomctlSchedCredit): number {
  return call(xch, () => {
    const d = creditDomain(xch, domid);
    const weight = sdom.weight & 0xffff, cap = sdom.cap & 0xffff;
    if (weight !== 0) d.weight = weight;
    if (cap !== 0xffff) d.cap = cap;
  });
}

function creditDomain(xch: XcInterface, domid: number) {
  const d = domainOf(xch.hv, domid);
  if (d.pool.schedId !== SCHED_CREDIT) fail('EINVAL', `d${domid}'s pool does not run the credit scheduler`);
  return d;
}
