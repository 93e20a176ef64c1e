/**
 * The hypervisor's state as plain typed data (spec xen-hypervisor.md §1.2). Per-unit affinities
 * are interned mask handles (engine.masks): a host has few distinct masks, so memory and the
 * work of domain_update_node_aff grow with distinct masks, not with vCPUs.
 */
import type { Engine } from '../../engine.js';
import type { CpuMask } from '../../mask/cpumask.js';
import type { NodeMask } from '../../mask/nodemask.js';
import type { Topology } from '../../topology/topology.js';

/** Which upstream behaviour to follow where spec §0 marks REF≠HEAD. REF is the flowchart's commit. */
export type XenVersion = 'REF' | 'HEAD';
/** sched-gran= boot option: CPUs per scheduling resource are 1, a core's threads, or a socket's CPUs. */
export type SchedGran = 'cpu' | 'core' | 'socket';
/** Scheduler ids (public/domctl.h XEN_SCHEDULER_*). */
export const SCHED_CREDIT = 5;
export const SCHED_CREDIT2 = 6;
export type SchedulerName = 'credit' | 'credit2';

/**
 * vcpu->affinity_broken bit for SCHEDOP_pin_override (sched.h). Xen's other reason,
 * VCPU_AFFINITY_WAIT (0x02, wait queues), has no caller in the model.
 */
export const VCPU_AFFINITY_OVERRIDE = 0x01;

export interface Cpupool {
  readonly id: number;
  readonly schedId: number;
  /** cpu_valid: every CPU assigned to the pool. */
  readonly cpuValid: CpuMask;
  /** res_valid: cpu_valid ∩ the master CPU of each scheduling resource — "online" for affinity checks (§1.2). */
  readonly resValid: CpuMask;
  readonly domains: Set<Domain>;
}

export interface Domain {
  readonly domid: number;
  /** d->max_vcpus from the creation config; vCPU ids are below it. */
  readonly maxVcpus: number;
  /** vCPUs 0…created-1 exist (XEN_DOMCTL_max_vcpus creates them). */
  created: number;
  pool: Cpupool;
  /** CPUs per scheduling unit (the pool's granularity when the units were made). */
  gran: number;
  /** Per unit (vcpu / gran): interned hard, soft and saved-hard handles (0 = none). */
  unitHard: Uint32Array;
  unitSoft: Uint32Array;
  unitSaved: Uint32Array;
  /** Per unit: soft_aff_effective, and credit's "pinned" flag (weight(hard) == 1). */
  unitSoftEffective: Uint8Array;
  unitPinned: Uint8Array;
  /** Per vCPU: the CPU it is on, and affinity_broken. */
  processor: Int32Array;
  affinityBroken: Uint8Array;
  /** Distinct hard/soft handles over the units, with how many units hold each. */
  hardRefs: Map<number, number>;
  softRefs: Map<number, number>;
  nodeAffinity: NodeMask;
  autoNodeAffinity: boolean;
  lastAllocNode: number;
  /** Bytes of memory held per node. */
  memory: Map<number, number>;
  /** credit1 parameters (sched_credit.c defaults). */
  weight: number;
  cap: number;
  readonly isDom0: boolean;
}

export interface Dom0Options {
  /** dom0_max_vcpus; default: one per CPU of dom0_cpus. */
  vcpus?: number;
  /** dom0_nodes=: the nodes dom0 runs on (node affinity and dom0_cpus). */
  nodes?: number[];
  /** dom0_nodes=…,relaxed: dom0_cpus become soft instead of hard affinity. */
  relaxed?: boolean;
  /** dom0_vcpus_pin: vCPU n hard-pinned to its initial processor. */
  vcpusPin?: boolean;
}

export interface HypervisorOptions {
  engine: Engine;
  topology: Topology;
  version?: XenVersion;
  schedGran?: SchedGran;
  scheduler?: SchedulerName;
  /** Create dom0 at boot (default true, with default options). */
  dom0?: Dom0Options | false;
}

export interface HypervisorState {
  readonly engine: Engine;
  readonly topology: Topology;
  readonly version: XenVersion;
  readonly scheduler: SchedulerName;
  /** The requested granularity and the one in force (asymmetric hosts fall back to 'cpu'). */
  readonly schedGran: SchedGran;
  /** CPUs per scheduling resource. */
  readonly granularity: number;
  /** Per CPU: the master CPU of its scheduling resource (itself for gran=cpu). */
  readonly resourceMaster: Int32Array;
  /** cpu_online_map and node_online_map. */
  readonly cpuOnline: CpuMask;
  readonly nodeOnline: NodeMask;
  /** The interned all-CPUs mask (cpumask_all). */
  readonly allHandle: number;
  readonly pools: Map<number, Cpupool>;
  readonly domains: Map<number, Domain>;
  /** Per CPU: its pool id, or -1 when free. */
  readonly cpuPool: Int32Array;
  /** Free bytes per node (the heap). */
  readonly nodeFree: Float64Array;
  /** Scratch masks for intermediate results (never held across calls); [3] holds a hypercall's input map. */
  readonly scratch: [CpuMask, CpuMask, CpuMask, CpuMask];
  /** Messages Xen would print (e.g. "Breaking affinity for d1v0"). */
  readonly log: string[];
  nextDomid: number;
}
