/**
 * The scheduler core's affinity machinery (spec xen-hypervisor.md §3): scheduling units,
 * hard/soft affinity setters, temporary pinning, CPUs leaving a pool, moving a domain
 * between pools, and the initial processor of new vCPUs.
 *
 * Units hold interned mask handles. Setting an affinity interns the new mask and releases
 * the old; a domain keeps the distinct handles of its units (hardRefs/softRefs) for the
 * node-affinity kernel.
 */
import { fail } from '../../errors.js';
import type { CpuMask } from '../../mask/cpumask.js';
import { updateNodeAffinity } from './node-affinity.js';
import { VCPU_AFFINITY_OVERRIDE, type Cpupool, type Domain, type HypervisorState } from './types.js';

/** The unit of vCPU v: vCPUs share a unit iff v / gran is equal (§1.2). */
export function unitOf(d: Domain, v: number): number {
  return Math.floor(v / d.gran);
}

/** The vCPUs of unit u that exist. */
function unitVcpus(d: Domain, u: number): number[] {
  const out: number[] = [];
  for (let v = u * d.gran; v < Math.min((u + 1) * d.gran, d.created); v++) out.push(v);
  return out;
}

function retainRef(refs: Map<number, number>, h: number): void {
  refs.set(h, (refs.get(h) ?? 0) + 1);
}

function releaseRef(refs: Map<number, number>, h: number): void {
  const n = refs.get(h)!;
  if (n > 1) refs.set(h, n - 1);
  else refs.delete(h);
}

/** Replaces one unit's hard or soft handle by an interned copy of `mask` (a handle or 0). */
function storeUnitMask(hv: HypervisorState, d: Domain, u: number, which: 'hard' | 'soft', mask: number): void {
  const arr = which === 'hard' ? d.unitHard : d.unitSoft;
  const refs = which === 'hard' ? d.hardRefs : d.softRefs;
  const h = hv.engine.masks.intern(mask);
  const old = arr[u];
  if (old) {
    releaseRef(refs, old);
    hv.engine.masks.release(old);
  }
  arr[u] = h;
  retainRef(refs, h);
}

/**
 * Xen `sched_set_affinity` (§3.2): stores hard and/or soft raw (no validation), sets credit's
 * pinned flag from weight(hard) == 1, recomputes soft_aff_effective. No node-affinity update.
 */
export function schedSetAffinity(hv: HypervisorState, d: Domain, u: number, hard: number | 0, soft: number | 0): void {
  const k = hv.engine.k;
  const n = hv.engine.nrCpuIds;
  if (hard) {
    storeUnitMask(hv, d, u, 'hard', hard);
    d.unitPinned[u] = k.weight(d.unitHard[u], n) === 1 ? 1 : 0;
  }
  if (soft) storeUnitMask(hv, d, u, 'soft', soft);
  const H = d.unitHard[u], S = d.unitSoft[u];
  d.unitSoftEffective[u] = !k.subset(H, S, n) && k.intersects(S, H, n) ? 1 : 0;
}

/**
 * Moves the unit's vCPUs off CPUs they may no longer use: each goes to the next CPU of
 * hard ∩ cpu_valid after its current one (a model of the scheduler's re-pick, which in Xen
 * also weighs load; the choice only matters for SCHEDOP_pin_override and new vCPUs).
 */
function migrateUnit(hv: HypervisorState, d: Domain, u: number): void {
  const allowed = hv.scratch[2];
  hv.engine.k.and(allowed.handle, d.unitHard[u], d.pool.cpuValid.handle, allowed.nwords);
  if (allowed.isEmpty()) return;
  for (const v of unitVcpus(d, u)) d.processor[v] = allowed.testOrCycle(d.processor[v]);
}

/**
 * Xen `vcpu_set_affinity` (§3.3): EBUSY while any vCPU of the unit is temporarily pinned;
 * node affinity is recomputed either way.
 */
export function vcpuSetAffinity(hv: HypervisorState, d: Domain, v: number, mask: CpuMask | number, which: 'hard' | 'soft'): void {
  const u = unitOf(d, v);
  const busy = d.affinityBroken[v] !== 0;
  if (!busy) {
    const h = typeof mask === 'number' ? mask : mask.handle;
    schedSetAffinity(hv, d, u, which === 'hard' ? h : 0, which === 'soft' ? h : 0);
    migrateUnit(hv, d, u);
  }
  updateNodeAffinity(hv, d);
  if (busy) fail('EBUSY', `d${d.domid}v${v} is temporarily pinned`);
}

/** Xen `vcpu_set_hard_affinity` (§3.4): EINVAL unless the mask has a CPU of the pool's res_valid. */
export function vcpuSetHardAffinity(hv: HypervisorState, d: Domain, v: number, mask: CpuMask): void {
  if (!mask.intersects(d.pool.resValid)) fail('EINVAL', `d${d.domid}v${v}: hard affinity ${mask} has no CPU of pool ${d.pool.id}`);
  vcpuSetAffinity(hv, d, v, mask, 'hard');
}

/**
 * Xen `vcpu_temporary_affinity` (§3.5): pin vCPU v to `cpu` for `reason`, or undo when cpu is
 * undefined (Xen's NR_CPUS). Never touches node affinity.
 */
export function vcpuTemporaryAffinity(hv: HypervisorState, d: Domain, v: number, cpu: number | undefined, reason: number): void {
  const u = unitOf(d, v);
  const vcpus = unitVcpus(d, u);
  if (cpu === undefined) {
    if (!(d.affinityBroken[v] & reason)) fail('EINVAL', `d${d.domid}v${v} has no temporary pin of reason ${reason}`);
    d.affinityBroken[v] &= ~reason;
    if (vcpus.every((w) => d.affinityBroken[w] === 0)) {
      const saved = d.unitSaved[u];
      d.unitSaved[u] = 0;
      schedSetAffinity(hv, d, u, saved, 0);
      hv.engine.masks.release(saved);
      migrateUnit(hv, d, u);
    }
    return;
  }
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= hv.engine.nrCpuIds) fail('EINVAL', `CPU ${cpu} is not below nr_cpu_ids`);
  if (d.affinityBroken[v] & reason) fail('EBUSY', `d${d.domid}v${v} is already pinned for reason ${reason}`);
  const pinned = vcpus.filter((w) => d.affinityBroken[w] !== 0);
  if (pinned.some((w) => d.processor[w] !== cpu)) fail('EBUSY', `another vCPU of d${d.domid}v${v}'s unit is pinned elsewhere`);
  if (!d.pool.resValid.test(cpu)) fail('EINVAL', `CPU ${cpu} is not a valid CPU of pool ${d.pool.id}`);
  if (pinned.length === 0) {
    d.unitSaved[u] = hv.engine.masks.retain(d.unitHard[u]);
    const one = hv.scratch[0].clearAll().set(cpu);
    schedSetAffinity(hv, d, u, one.handle, 0);
  }
  d.affinityBroken[v] |= reason;
  migrateUnit(hv, d, u);
}

/** Undo of the OVERRIDE pin, as XEN_DOMCTL_setvcpuaffinity's FORCE flag does (result ignored). */
export function undoOverridePin(hv: HypervisorState, d: Domain, v: number): void {
  if (d.affinityBroken[v] & VCPU_AFFINITY_OVERRIDE) vcpuTemporaryAffinity(hv, d, v, undefined, VCPU_AFFINITY_OVERRIDE);
}

/**
 * The units that lose every CPU of the pool when `cpus` leave it: their hard mask has no CPU
 * of cpu_valid left but contained one of the leaving CPUs (§3.8 rule 1).
 */
function unitsToBreak(hv: HypervisorState, pool: Cpupool, cpus: CpuMask): [Domain, number][] {
  const k = hv.engine.k;
  const n = hv.engine.nrCpuIds;
  const out: [Domain, number][] = [];
  // Decided once per distinct hard mask: a domain whose masks all keep a CPU is skipped whole.
  const verdict = new Map<number, boolean>();
  const breaks = (h: number): boolean => {
    let b = verdict.get(h);
    if (b === undefined) verdict.set(h, (b = !k.intersects(h, pool.cpuValid.handle, n) && k.intersects(h, cpus.handle, n) !== 0));
    return b;
  };
  for (const d of pool.domains) {
    if (![...d.hardRefs.keys()].some(breaks)) continue;
    for (let u = 0; u * d.gran < d.created; u++) if (breaks(d.unitHard[u])) out.push([d, u]);
  }
  return out;
}

/**
 * Xen `cpu_disable_scheduler` for CPUs already taken out of `pool.cpu_valid` (§3.8): units
 * left without a CPU of the pool get hard := all, permanently ("Breaking affinity"); a unit
 * that is temporarily pinned makes it fail with EADDRINUSE. All units are checked before any
 * is changed, so a failure changes nothing (Xen stops part-way; the caller then re-adds the
 * CPU, which leaves the same state). Node affinity is the caller's.
 */
export function cpuDisableScheduler(hv: HypervisorState, pool: Cpupool, cpus: CpuMask): void {
  const broken = unitsToBreak(hv, pool, cpus);
  for (const [d, u] of broken) {
    if (unitVcpus(d, u).some((v) => d.affinityBroken[v] !== 0)) {
      fail('EADDRINUSE', `d${d.domid} unit ${u} is temporarily pinned to a CPU that is leaving`);
    }
  }
  for (const [d, u] of broken) {
    for (const v of unitVcpus(d, u)) hv.log.push(`Breaking affinity for d${d.domid}v${v}`);
    schedSetAffinity(hv, d, u, hv.allHandle, 0);
  }
  // §3.8 step 2: only units running on a leaving CPU move.
  const leaving = new Set(cpus.toArray());
  for (const d of pool.domains) {
    for (let v = 0; v < d.created; v++) if (leaving.has(d.processor[v])) migrateUnit(hv, d, unitOf(d, v));
  }
}

/** Xen `cpu_disable_scheduler_check` (§3.8): EADDRINUSE if any vCPU of the pool is temporarily pinned. */
export function cpuDisableSchedulerCheck(pool: Cpupool): void {
  for (const d of pool.domains) {
    if (d.affinityBroken.subarray(0, d.created).some((b) => b !== 0)) {
      fail('EADDRINUSE', `d${d.domid} in pool ${pool.id} has a temporarily pinned vCPU`);
    }
  }
}

/**
 * Xen `sched_select_initial_cpu` (§3.7) for vCPUs from…to-1: the CPUs of the domain's nodes in
 * its pool (or the whole pool if none); vCPU 0 takes the first, vCPU k cycles on from vCPU k-1.
 * The candidate set depends only on the domain, so it is built once for the batch.
 */
export function selectInitialCpus(hv: HypervisorState, d: Domain, from: number, to: number): void {
  const e = hv.engine;
  const C = hv.scratch[1].clearAll();
  const nodes = d.nodeAffinity.toArray().filter((n) => n < hv.topology.nodes.length && hv.topology.nodes[n].online);
  const [list] = e.writeLists(nodes.map((n) => e.nodeCpumask(n).handle));
  e.k.orMany(C.handle, list, nodes.length, C.nwords);
  C.and(hv.cpuOnline).and(d.pool.cpuValid);
  if (C.isEmpty()) C.copy(d.pool.cpuValid);
  for (let v = from; v < to; v++) d.processor[v] = v === 0 ? C.first() : C.cycle(d.processor[v - 1]);
}

/**
 * Xen `sched_move_domain` (§3.9): EBUSY while a vCPU is temporarily pinned; otherwise new
 * units for the target pool's granularity, hard := soft := all for every unit, vCPUs spread
 * over the target's CPUs from its first, node affinity recomputed.
 */
export function schedMoveDomain(hv: HypervisorState, d: Domain, target: Cpupool): void {
  if (d.affinityBroken.subarray(0, d.created).some((b) => b !== 0)) fail('EBUSY', `d${d.domid} has a temporarily pinned vCPU`);
  for (const h of [...d.unitHard, ...d.unitSoft]) if (h) hv.engine.masks.release(h);
  d.hardRefs.clear();
  d.softRefs.clear();
  d.pool.domains.delete(d);
  d.pool = target;
  target.domains.add(d);
  allocateUnits(hv, d);
  let cpu = target.cpuValid.first();
  for (let v = 0; v < d.created; v++) {
    if (v > 0) cpu = target.cpuValid.cycle(cpu);
    d.processor[v] = cpu;
  }
  for (let u = 0; u * d.gran < d.created; u++) {
    d.processor.fill(d.processor[u * d.gran], u * d.gran, Math.min((u + 1) * d.gran, d.created));
    schedSetAffinity(hv, d, u, hv.allHandle, hv.allHandle);
  }
  updateNodeAffinity(hv, d);
}

/** (Re)allocates the per-unit arrays for the domain's pool granularity (no unit populated yet). */
export function allocateUnits(hv: HypervisorState, d: Domain): void {
  d.gran = hv.granularity;
  const units = Math.ceil(d.maxVcpus / d.gran);
  d.unitHard = new Uint32Array(units);
  d.unitSoft = new Uint32Array(units);
  d.unitSaved = new Uint32Array(units);
  d.unitSoftEffective = new Uint8Array(units);
  d.unitPinned = new Uint8Array(units);
}
