/**
 * Cpupools and XEN_SYSCTL_cpupool_op (spec xen-hypervisor.md §6): CREATE, DESTROY, INFO,
 * ADDCPU, RMCPU, MOVEDOMAIN, FREEINFO, with their errnos; CPUs move in whole scheduling
 * resources (core/socket with sched-gran>1).
 */
import { fail } from '../../errors.js';
import type { CpuMask } from '../../mask/cpumask.js';
import { updatePoolNodeAffinity } from './node-affinity.js';
import { cpuDisableScheduler, schedMoveDomain } from './sched.js';
import { SCHED_CREDIT, SCHED_CREDIT2, type Cpupool, type HypervisorState } from './types.js';

/** XEN_SYSCTL_CPUPOOL_PAR_ANY. */
export const CPUPOOL_PAR_ANY = 0xffffffff;

export interface CpupoolInfo {
  cpupoolId: number;
  schedId: number;
  nDom: number;
  cpuValid: number[];
}

/** The CPUs of cpu's scheduling resource (itself with sched-gran=cpu). */
export function resourceCpus(hv: HypervisorState, cpu: number): number[] {
  const m = hv.resourceMaster[cpu];
  const out: number[] = [];
  for (let c = m; c < hv.engine.nrCpuIds && out.length < hv.granularity; c++) if (hv.resourceMaster[c] === m) out.push(c);
  return out;
}

/** res_valid = cpu_valid ∩ masters of scheduling resources: a resource's master joins or leaves with it. */
function setResource(hv: HypervisorState, pool: Cpupool, cpus: number[], inPool: boolean): void {
  for (const c of cpus) {
    if (inPool) pool.cpuValid.set(c);
    else pool.cpuValid.clear(c);
    if (hv.resourceMaster[c] === c) {
      if (inPool) pool.resValid.set(c);
      else pool.resValid.clear(c);
    }
  }
}

export function newPool(hv: HypervisorState, id: number, schedId: number): Cpupool {
  const pool: Cpupool = { id, schedId, cpuValid: hv.engine.cpumask(), resValid: hv.engine.cpumask(), domains: new Set() };
  hv.pools.set(id, pool);
  return pool;
}

function getPool(hv: HypervisorState, id: number): Cpupool {
  const p = hv.pools.get(id);
  if (!p) fail('ENOENT', `cpupool ${id} does not exist`);
  return p;
}

/** CREATE (§6.1): id given or PAR_ANY (last id + 1); no CPUs yet. */
export function cpupoolCreate(hv: HypervisorState, id: number = CPUPOOL_PAR_ANY, schedId = hv.scheduler === 'credit' ? SCHED_CREDIT : SCHED_CREDIT2): number {
  if (hv.pools.size >= 2 * hv.engine.nrCpuIds) fail('ENOSPC', `${hv.pools.size} cpupools is the limit (2 × nr_cpu_ids)`);
  if (schedId !== SCHED_CREDIT && schedId !== SCHED_CREDIT2) fail('ENOENT', `scheduler id ${schedId} is not available`);
  if (id === CPUPOOL_PAR_ANY) {
    id = Math.max(-1, ...hv.pools.keys()) + 1;
    if (id >= CPUPOOL_PAR_ANY) for (id = 0; hv.pools.has(id); id++);
  } else if (!Number.isInteger(id) || id < 0 || id > CPUPOOL_PAR_ANY) {
    fail('EINVAL', `cpupool id ${id} is not a uint32`);
  } else if (hv.pools.has(id)) {
    fail('EEXIST', `cpupool ${id} exists`);
  }
  newPool(hv, id, schedId);
  return id;
}

/** DESTROY (§6.1): EBUSY while it has domains or CPUs. */
export function cpupoolDestroy(hv: HypervisorState, id: number): void {
  const p = getPool(hv, id);
  if (p.domains.size || !p.cpuValid.isEmpty()) fail('EBUSY', `cpupool ${id} still has ${p.domains.size} domains and CPUs ${p.cpuValid}`);
  p.cpuValid.free();
  p.resValid.free();
  hv.pools.delete(id);
}

/** INFO (§6.1): the first pool whose id is at least `id`. */
export function cpupoolInfo(hv: HypervisorState, id: number): CpupoolInfo {
  const ids = [...hv.pools.keys()].filter((p) => p >= id).sort((a, b) => a - b);
  if (!ids.length) fail('ENOENT', `no cpupool with id ≥ ${id}`);
  const p = hv.pools.get(ids[0])!;
  return { cpupoolId: p.id, schedId: p.schedId, nDom: p.domains.size, cpuValid: p.cpuValid.toArray() };
}

/** FREEINFO: online CPUs in no pool. */
export function cpupoolFreeinfo(hv: HypervisorState): number[] {
  return hv.cpuOnline.toArray().filter((c) => hv.cpuPool[c] < 0);
}

function resourceFree(hv: HypervisorState, cpu: number): boolean {
  return resourceCpus(hv, cpu).every((c) => hv.cpuPool[c] < 0 && hv.cpuOnline.test(c));
}

/** Assigns the free scheduling resource of `cpu` to the pool (no checks, no node-affinity update). */
export function assignResource(hv: HypervisorState, pool: Cpupool, cpu: number): void {
  const cpus = resourceCpus(hv, cpu);
  setResource(hv, pool, cpus, true);
  for (const c of cpus) hv.cpuPool[c] = pool.id;
}

/** ADDCPU (§6.1): the whole scheduling resource joins; every domain's node affinity is recomputed. */
export function cpupoolAddCpu(hv: HypervisorState, id: number, cpu: number = CPUPOOL_PAR_ANY): number {
  const p = getPool(hv, id);
  if (cpu === CPUPOOL_PAR_ANY) {
    const free = cpupoolFreeinfo(hv).find((c) => resourceFree(hv, c));
    if (free === undefined) fail('ENODEV', 'no free CPU whose scheduling resource is wholly free');
    cpu = free;
  }
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= hv.engine.nrCpuIds) fail('EINVAL', `CPU ${cpu} is not below nr_cpu_ids ${hv.engine.nrCpuIds}`);
  if (!hv.cpuOnline.test(cpu)) fail('ENODEV', `CPU ${cpu} is offline`);
  if (!resourceFree(hv, cpu)) fail('ENODEV', `CPU ${cpu}'s scheduling resource ${resourceCpus(hv, cpu)} is not wholly free`);
  assignResource(hv, p, cpu);
  updatePoolNodeAffinity(hv, p);
  return cpu;
}

/**
 * Takes the scheduling resource of `cpu` out of its pool: cpu_valid/res_valid first, then
 * affinity breaking (§3.8), then node affinity of the pool's domains. All or nothing.
 */
export function unassignResource(hv: HypervisorState, p: Cpupool, cpu: number): void {
  const cpus = resourceCpus(hv, cpu);
  const leaving: CpuMask = hv.scratch[0].clearAll();
  for (const c of cpus) leaving.set(c);
  setResource(hv, p, cpus, false);
  try {
    cpuDisableScheduler(hv, p, leaving);
  } catch (e) {
    setResource(hv, p, cpus, true);
    throw e;
  }
  for (const c of cpus) hv.cpuPool[c] = -1;
  updatePoolNodeAffinity(hv, p);
}

/** RMCPU (§6.1): PAR_ANY takes the pool's last CPU. */
export function cpupoolRemoveCpu(hv: HypervisorState, id: number, cpu: number = CPUPOOL_PAR_ANY): number {
  const p = getPool(hv, id);
  // cpumask_last of an empty pool is nr_cpu_ids, which the next check rejects with EINVAL.
  if (cpu === CPUPOOL_PAR_ANY) cpu = p.cpuValid.last();
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= hv.engine.nrCpuIds) fail('EINVAL', `CPU ${cpu} is not below nr_cpu_ids ${hv.engine.nrCpuIds}`);
  if ((id === 0 && cpu === 0) || !hv.cpuOnline.test(cpu)) fail('EINVAL', id === 0 && cpu === 0 ? 'CPU 0 cannot leave Pool-0' : `CPU ${cpu} is offline`);
  if (hv.cpuPool[cpu] !== id) fail('EADDRNOTAVAIL', `CPU ${cpu} is not in cpupool ${id}`);
  const remaining = p.cpuValid.weight() - resourceCpus(hv, cpu).length;
  if (remaining === 0 && p.domains.size > 0) fail('EBUSY', `CPU ${cpu} is the last of cpupool ${id}, which has domains`);
  unassignResource(hv, p, cpu);
  return cpu;
}

/** MOVEDOMAIN (§6.1, §3.9): every vCPU's hard and soft affinity become "all". */
export function cpupoolMoveDomain(hv: HypervisorState, id: number, domid: number, callerDomid = 0): void {
  const d = hv.domains.get(domid);
  if (!d) fail('ESRCH', `domain ${domid} does not exist`);
  if (domid === callerDomid) fail('EPERM', `d${domid} cannot move itself`);
  const target = hv.pools.get(id);
  if (!target || target.cpuValid.isEmpty()) fail('ENOENT', `cpupool ${id} ${target ? 'has no CPUs' : 'does not exist'}`);
  if (d.pool === target) return;
  schedMoveDomain(hv, d, target);
}
