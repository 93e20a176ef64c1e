/**
 * The hypervisor model's idiomatic API: typed arguments, masks in and out, AffinityError with
 * the errno Xen would return. Every call maps to one hypercall of the real system (named in
 * its doc comment); the hypercall-level form with byte maps and -errno is domctl.ts, and the
 * libxenctrl form is ../xenctrl.ts.
 */
import { fail } from '../../errors.js';
import type { CpuMask } from '../../mask/cpumask.js';
import type { NodeMask } from '../../mask/nodemask.js';
import { boot, onCpuStateChange } from './boot.js';
import {
  CPUPOOL_PAR_ANY, cpupoolAddCpu, cpupoolCreate, cpupoolDestroy, cpupoolFreeinfo, cpupoolInfo, cpupoolMoveDomain,
  cpupoolRemoveCpu, type CpupoolInfo,
} from './cpupool.js';
import {
  domainOf, getNodeAffinityDomctl, getVcpuAffinity, maxVcpusDomctl, pinOverride, setNodeAffinityDomctl, setVcpuAffinity,
  XEN_VCPUAFFINITY_FORCE, XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT, type XenctlBitmap,
} from './domctl.js';
import { createDomain, destroyDomain, populateMemory, type CreateDomainConfig } from './domain.js';
import { cputopoinfo, numainfo, physinfo } from './sysctl.js';
import { unitOf } from './sched.js';
import { errnoName } from '../../errors.js';
import type { Domain, HypervisorOptions, HypervisorState } from './types.js';

/** Throws the AffinityError for a hypercall's -errno (0 passes). */
function check(ret: number, what: string): void {
  if (ret < 0) fail(errnoName(-ret) ?? 'EINVAL', what);
}

export interface VcpuAffinity {
  hard: CpuMask;
  soft: CpuMask;
}

export class Hypervisor {
  readonly state: HypervisorState;
  private readonly unsubscribe: () => void;

  constructor(opts: HypervisorOptions) {
    this.state = boot(opts);
    this.unsubscribe = opts.topology.subscribe((change) => onCpuStateChange(this.state, change));
  }

  get engine() {
    return this.state.engine;
  }

  /** Stops following the topology's CPU state changes. */
  detach(): void {
    this.unsubscribe();
  }

  /** A domain's state (read it; change it through the hypercalls). ESRCH if unknown. */
  domain(domid: number): Domain {
    return domainOf(this.state, domid);
  }

  /** XEN_DOMCTL_createdomain: returns the domid. */
  createDomain(cfg: CreateDomainConfig): number {
    return createDomain(this.state, cfg).domid;
  }

  /** XEN_DOMCTL_max_vcpus: creates vCPUs 0…max-1 with their default affinities. */
  maxVcpus(domid: number, max: number): void {
    check(maxVcpusDomctl(this.state, domid, max), `max_vcpus(d${domid}, ${max})`);
  }

  /** XEN_DOMCTL_destroydomain. */
  destroyDomain(domid: number): void {
    const d = this.domain(domid);
    if (d.isDom0) fail('EPERM', 'dom0 cannot be destroyed');
    destroyDomain(this.state, d);
  }

  /** Guest memory population through the heap allocator (§4.3); returns bytes per node. */
  populateMemory(domid: number, bytes: number): Map<number, number> {
    return populateMemory(this.state, this.domain(domid), bytes);
  }

  /**
   * XEN_DOMCTL_setvcpuaffinity (§5.3): hard and/or soft (either may be omitted), `force`
   * undoes a SCHEDOP_pin_override first. Returns the effective masks Xen writes back
   * (hard ∩ pool, soft ∩ pool ∩ hard) as new masks.
   */
  setVcpuAffinity(domid: number, vcpu: number, set: { hard?: CpuMask; soft?: CpuMask; force?: boolean }): Partial<VcpuAffinity> {
    const e = this.engine;
    const bits = e.nrCpuIds;
    const map = (m?: CpuMask): XenctlBitmap | null => (m ? { bytes: toBytes(m), nrBits: bits } : null);
    const hard = map(set.hard), soft = map(set.soft);
    const flags = (hard ? XEN_VCPUAFFINITY_HARD : 0) | (soft ? XEN_VCPUAFFINITY_SOFT : 0) | (set.force ? XEN_VCPUAFFINITY_FORCE : 0);
    check(setVcpuAffinity(this.state, domid, vcpu, flags, hard, soft), `setvcpuaffinity(d${domid}v${vcpu})`);
    return { hard: hard ? fromBytes(this, hard) : undefined, soft: soft ? fromBytes(this, soft) : undefined };
  }

  /** XEN_DOMCTL_getvcpuaffinity: the raw stored hard and soft masks (new masks). */
  getVcpuAffinity(domid: number, vcpu: number): VcpuAffinity {
    const n = Math.ceil(this.engine.nrCpuIds / 8);
    const hard = { bytes: new Uint8Array(n), nrBits: this.engine.nrCpuIds };
    const soft = { bytes: new Uint8Array(n), nrBits: this.engine.nrCpuIds };
    check(getVcpuAffinity(this.state, domid, vcpu, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, hard, soft), `getvcpuaffinity(d${domid}v${vcpu})`);
    return { hard: fromBytes(this, hard), soft: fromBytes(this, soft) };
  }

  /** XEN_DOMCTL_setnodeaffinity (§4.1). */
  setNodeAffinity(domid: number, nodes: NodeMask): void {
    check(setNodeAffinityDomctl(this.state, domid, { bytes: toBytes(nodes), nrBits: nodes.nbits }), `setnodeaffinity(d${domid})`);
  }

  /** XEN_DOMCTL_getnodeaffinity: node_affinity raw (a new mask). */
  getNodeAffinity(domid: number): NodeMask {
    const m = { bytes: new Uint8Array(Math.ceil(this.engine.nrNodes / 8)), nrBits: this.engine.nrNodes };
    check(getNodeAffinityDomctl(this.state, domid, m), `getnodeaffinity(d${domid})`);
    const out = this.engine.nodemask();
    new Uint8Array(this.engine.memory.buffer, out.handle, m.bytes.length).set(m.bytes);
    return out;
  }

  /** SCHEDOP_pin_override from `callerDomid` (must be dom0): pin its vCPU to `pcpu`, or undo with -1. */
  pinOverride(callerDomid: number, vcpu: number, pcpu: number): void {
    check(pinOverride(this.state, callerDomid, vcpu, pcpu), `pin_override(d${callerDomid}v${vcpu}, ${pcpu})`);
  }

  /** The unit index of a vCPU (vCPUs of one unit share their affinity). */
  unitOf(domid: number, vcpu: number): number {
    return unitOf(this.domain(domid), vcpu);
  }

  // XEN_SYSCTL_cpupool_op (§6)
  cpupoolCreate(id: number = CPUPOOL_PAR_ANY, schedId?: number): number {
    return cpupoolCreate(this.state, id, schedId);
  }
  cpupoolDestroy(id: number): void {
    cpupoolDestroy(this.state, id);
  }
  cpupoolInfo(id: number): CpupoolInfo {
    return cpupoolInfo(this.state, id);
  }
  cpupoolAddCpu(id: number, cpu: number = CPUPOOL_PAR_ANY): number {
    return cpupoolAddCpu(this.state, id, cpu);
  }
  cpupoolRemoveCpu(id: number, cpu: number = CPUPOOL_PAR_ANY): number {
    return cpupoolRemoveCpu(this.state, id, cpu);
  }
  cpupoolMoveDomain(id: number, domid: number): void {
    cpupoolMoveDomain(this.state, id, domid);
  }
  cpupoolFreeinfo(): number[] {
    return cpupoolFreeinfo(this.state);
  }

  // XEN_SYSCTL_physinfo / numainfo / cputopoinfo (§7)
  physinfo() {
    return physinfo(this.state);
  }
  numainfo(numNodes = this.engine.nrNodes) {
    return numainfo(this.state, numNodes);
  }
  cputopoinfo(numCpus: number | null = this.engine.nrCpuIds) {
    return cputopoinfo(this.state, numCpus);
  }
}

function toBytes(m: CpuMask | NodeMask): Uint8Array {
  const w = m.toWords();
  return new Uint8Array(w.buffer, 0, Math.ceil(m.nbits / 8)).slice();
}

function fromBytes(hv: Hypervisor, map: XenctlBitmap): CpuMask {
  const out = hv.engine.cpumask();
  new Uint8Array(hv.engine.memory.buffer, out.handle, map.bytes!.length).set(map.bytes!);
  return out;
}

/** Boots a hypervisor on an engine and topology (see HypervisorOptions). */
export function createHypervisor(opts: HypervisorOptions): Hypervisor {
  return new Hypervisor(opts);
}
