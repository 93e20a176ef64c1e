/**
 * Domains: creation (spec xen-hypervisor.md §4.2), vCPU creation with the scheduler's
 * defaults (§3.1, XEN_DOMCTL_max_vcpus), destruction, and the heap allocator's node choice
 * for guest memory (§4.3).
 */
import { fail } from '../../errors.js';
import { updateNodeAffinity } from './node-affinity.js';
import { allocateUnits, schedSetAffinity, selectInitialCpus } from './sched.js';
import type { Dom0Options, Domain, HypervisorState } from './types.js';

/** Credit1's default weight (sched_credit.c CSCHED_DEFAULT_WEIGHT). */
export const CREDIT_DEFAULT_WEIGHT = 256;
/** Xen's domid space for ordinary domains (DOMID_FIRST_RESERVED = 0x7FF0). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** HVM_MAX_VCPUS on x86 — the largest max_vcpus a domain may ask for. */
export const MAX_VIRT_CPUS = 4096;

export interface CreateDomainConfig {
  maxVcpus: number;
  /** config->cpupool_id; default 0. */
  cpupoolId?: number;
  /** A specific domid (must be free), else the next free one. */
  domid?: number;
}

/**
 * XEN_DOMCTL_createdomain, as far as affinity goes (§4.2): node_affinity = all 64 bits,
 * auto on, the pool from the config (ESRCH unknown, ENODEV no CPUs). No vCPUs yet.
 */
export function createDomain(hv: HypervisorState, cfg: CreateDomainConfig, isDom0 = false): Domain {
  const { maxVcpus, cpupoolId = 0 } = cfg ?? ({} as CreateDomainConfig);
  if (!Number.isInteger(maxVcpus) || maxVcpus < 1 || maxVcpus > MAX_VIRT_CPUS) {
    fail('EINVAL', `max_vcpus ${maxVcpus} is not in 1..${MAX_VIRT_CPUS}`);
  }
  const pool = hv.pools.get(cpupoolId);
  if (!pool) fail('ESRCH', `cpupool ${cpupoolId} does not exist`);
  if (pool.cpuValid.isEmpty()) fail('ENODEV', `cpupool ${cpupoolId} has no CPUs`);
  let domid = cfg.domid;
  if (domid === undefined) {
    while (hv.domains.has(hv.nextDomid)) hv.nextDomid = (hv.nextDomid + 1) % DOMID_FIRST_RESERVED || 1;
    domid = hv.nextDomid;
    hv.nextDomid = (hv.nextDomid + 1) % DOMID_FIRST_RESERVED || 1;
  } else if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_FIRST_RESERVED) {
    fail('EINVAL', `domid ${domid} is not below ${DOMID_FIRST_RESERVED}`);
  } else if (hv.domains.has(domid)) {
    fail('EEXIST', `domain ${domid} exists`);
  }
  const d: Domain = {
    domid, maxVcpus, created: 0, pool, gran: 1,
    unitHard: new Uint32Array(0), unitSoft: new Uint32Array(0), unitSaved: new Uint32Array(0),
    unitSoftEffective: new Uint8Array(0), unitPinned: new Uint8Array(0),
    processor: new Int32Array(maxVcpus), affinityBroken: new Uint8Array(maxVcpus),
    hardRefs: new Map(), softRefs: new Map(),
    nodeAffinity: hv.engine.nodemaskAll(), autoNodeAffinity: true, lastAllocNode: -1,
    memory: new Map(), weight: CREDIT_DEFAULT_WEIGHT, cap: 0, isDom0,
  };
  allocateUnits(hv, d);
  hv.domains.set(domid, d);
  pool.domains.add(d);
  return d;
}

/**
 * XEN_DOMCTL_max_vcpus: creates vCPUs up to `max` (sched_init_vcpu for each: unit, initial
 * processor §3.7, and for a unit's first vCPU the default affinities of §3.1), then recomputes
 * node affinity once. OPEN in the spec: we accept max in 1..d.max_vcpus and only ever add
 * vCPUs (Xen never removes them); lowering is EINVAL.
 */
export function maxVcpus(hv: HypervisorState, d: Domain, max: number, dom0?: { cpus: number; opts: Dom0Options }): void {
  if (!Number.isInteger(max) || max < 1 || max > d.maxVcpus) fail('EINVAL', `d${d.domid}: max_vcpus ${max} is not in 1..${d.maxVcpus}`);
  if (max < d.created) fail('EINVAL', `d${d.domid} already has ${d.created} vCPUs`);
  selectInitialCpus(hv, d, d.created, max);
  for (let v = d.created; v < max; v++) {
    d.created = v + 1;
    if (v % d.gran !== 0) continue;
    const u = v / d.gran;
    let hard = hv.allHandle, soft = hv.allHandle;
    if (dom0) {
      if (dom0.opts.vcpusPin) hard = hv.scratch[0].clearAll().set(d.processor[v]).handle;
      else if (dom0.opts.relaxed) soft = dom0.cpus;
      else hard = dom0.cpus;
    }
    schedSetAffinity(hv, d, u, hard, soft);
  }
  updateNodeAffinity(hv, d);
}

/** Destroys a domain: releases its masks, memory and pool membership. */
export function destroyDomain(hv: HypervisorState, d: Domain): void {
  for (const h of [...d.unitHard, ...d.unitSoft, ...d.unitSaved]) if (h) hv.engine.masks.release(h);
  for (const [node, bytes] of d.memory) hv.nodeFree[node] += bytes;
  d.pool.domains.delete(d);
  d.nodeAffinity.free();
  hv.domains.delete(d.domid);
}

/** Extent sizes xenguest populates with, largest first: 1 GiB and 2 MiB superpages, then 4 KiB pages. */
const EXTENTS = [2 ** 30, 2 ** 21, 2 ** 12];

/**
 * Populates `bytes` of guest memory extent by extent, choosing nodes as the heap allocator
 * does (§4.3): the allowed set M is the online nodes ∩ node_affinity (if they meet), tried
 * from the node after last_alloc_node, then the other online nodes. An extent no node can
 * hold is split into the next smaller size, as xenguest falls back from superpages. All or
 * nothing: ENOMEM leaves the heap and the domain as they were.
 */
export function populateMemory(hv: HypervisorState, d: Domain, bytes: number): Map<number, number> {
  if (!Number.isSafeInteger(bytes) || bytes < 0) fail('EINVAL', `memory size ${bytes} is not a byte count`);
  const online = hv.nodeOnline.toArray();
  const preferred = online.filter((n) => d.nodeAffinity.test(n));
  const M = preferred.length ? preferred : online;
  const rest = online.filter((n) => !M.includes(n));
  const free = Float64Array.from(hv.nodeFree);
  const got = new Map<number, number>();
  let last = d.lastAllocNode;
  /** The first node, in the allocator's order, with `size` bytes free. */
  const place = (size: number): number | undefined => {
    const start = Math.max(0, M.findIndex((n) => n > last));
    for (let i = 0; i < M.length; i++) {
      const n = M[(start + i) % M.length];
      if (free[n] >= size) return n;
    }
    return rest.find((n) => free[n] >= size);
  };
  const populate = (left: number, level: number): void => {
    while (left > 0) {
      const size = Math.min(EXTENTS[level], left);
      const node = place(size);
      if (node === undefined) {
        if (level + 1 === EXTENTS.length) fail('ENOMEM', `d${d.domid}: no node has ${size} bytes free for its memory`);
        populate(size, level + 1);
      } else {
        free[node] -= size;
        got.set(node, (got.get(node) ?? 0) + size);
        if (M.includes(node)) last = node;
      }
      left -= size;
    }
  };
  populate(bytes, 0);
  hv.nodeFree.set(free);
  for (const [n, b] of got) d.memory.set(n, (d.memory.get(n) ?? 0) + b);
  d.lastAllocNode = last;
  return got;
}
