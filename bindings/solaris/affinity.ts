/**
 * processor_affinity(2) and processor_bind(2) — one mechanism (REF: "implemented by the same
 * mechanism"). Spec solaris-affinity.md §7 (flag ABI, SET/QUERY/CLEAR, errors), §3 and §7.8
 * (processor_bind as a wrapper), §9 (affinities narrowed when CPUs leave).
 *
 * An LWP's affinity is the positive CPU set in force, interned in the engine (spec §7.2): many
 * LWPs share few distinct masks, and an LWP holds one reference.
 *
 * C pointers are modelled as `Ptr<T>`: a value, `null` (NULL), or `undefined` (a pointer that
 * cannot be accessed ⇒ EFAULT). An `ids` array shorter than the count it must hold is also a fault.
 * The flag ABI is in flags.ts and re-exported here.
 */
import { AffinityError, fail } from '../errors.js';
import type { CpuMask } from '../mask/cpumask.js';
import { isRootOrLeaf, isUsablePg } from './groups.js';
import {
  clearAffinity, discardIfUnused, hasprocperm, narrowAffinity, newAffinity, NO_AFFINITY, partitionOf, setAffinity, setBindSoft,
  SYS_CID, type Affinity, type Lwp, type Process,
} from './process.js';
import { checkprocset, P_ALL, P_CPUID, P_CTID, P_LWPID, P_PID, P_PROJID, P_TASKID, P_ZONEID, POP_AND,
  eligibleLwps, procsetTargets, setprocset, type ProcSet } from './procset.js';
import {
  decodeFlags, PA_AFF_STRONG, PA_INH, PA_NEGATIVE, PA_SET_ONLY, PA_STRENGTH, PA_TYPE_CPU, PA_TYPE_LGRP, PA_TYPE_PG,
} from './flags.js';
import { isActiveState } from './psets.js';

export * from './flags.js';
import type { SolarisSystem } from './system.js';

/** An in/out C pointer: `{ value }`, `null` for NULL, `undefined` for an inaccessible address. */
export interface Ref<T> {
  value: T;
}
export type Ptr<T> = T | null | undefined;

function deref<T>(p: Ptr<T>, what: string): T {
  if (p === null || p === undefined) fail('EFAULT', `${what} could not be accessed`);
  return p;
}

function readProcset(p: Ptr<ProcSet>): ProcSet {
  const ps = deref(p, 'ps');
  if (typeof ps !== 'object') fail('EFAULT', 'ps is not a procset_t');
  checkprocset(ps);
  return ps;
}

function readCount(p: Ptr<Ref<number>>): number {
  const n = deref(p, 'nids').value;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) fail('EINVAL', `*nids = ${n} is not a uint_t`);
  return n;
}

function readIds(p: Ptr<ArrayLike<number>>, n: number): number[] {
  const ids = deref(p, 'ids');
  if (typeof ids !== 'object' || ids.length < n) fail('EFAULT', `ids holds fewer than ${n} ids`);
  return Array.from({ length: n }, (_, i) => ids[i]);
}

/**
 * Resolves ids of a type to the CPUs they name (spec §7.4-3): active CPUs; existing PGs other
 * than 0; the root or a leaf lgroup — each ∩ active CPUs. Invalid ids are ignored while any id
 * is valid (REF); none valid ⇒ EINVAL. The caller frees the returned mask.
 */
export function resolveIds(sys: SolarisSystem, type: number, ids: readonly number[]): CpuMask {
  const s = sys.engine.cpumask();
  const g = sys.groups;
  for (const id of ids) {
    if (type === PA_TYPE_CPU) {
      if (Number.isInteger(id) && id >= 0 && id < sys.state.length && isActiveState(sys.state[id])) s.set(id);
    } else if (type === PA_TYPE_PG) {
      if (isUsablePg(g, id)) s.or(g.pgs[id].cpus);
    } else if (isRootOrLeaf(g, id)) {
      s.or(g.lgroups[id].cpus);
    }
  }
  s.and(sys.active);
  if (s.isEmpty()) {
    s.free();
    const kind = type === PA_TYPE_CPU ? 'CPU' : type === PA_TYPE_PG ? 'processor group' : 'root or leaf lgroup';
    fail('EINVAL', `none of the ids [${ids.join(', ')}] names an on-line ${kind}`);
  }
  return s;
}

/** May `caller` change `t`'s binding or affinity? (spec §11: never a SYS-class LWP; hasprocperm.) */
function mayChange(t: Lwp, caller: Process): boolean {
  return t.cid !== SYS_CID && hasprocperm(t.proc, caller);
}

/**
 * processor_affinity(2). Throws AffinityError; per-LWP EPERM/EINVAL are thrown after the other
 * LWPs were changed (REF: "the bindings of the LWPs for which it does have permission will be
 * changed even though an error is returned"). Error precedence (spec §7.7): flags EFAULT → flags
 * EINVAL → ps EFAULT → ps EINVAL → nids/ids EFAULT → id-resolution EINVAL → ESRCH → per-LWP
 * (last wins) → query copy-out EFAULT.
 */
export function processorAffinity(
  sys: SolarisSystem, caller: Lwp, ps: Ptr<ProcSet>, nids: Ptr<Ref<number>>, ids: Ptr<number[] | Int32Array>,
  flags: Ptr<Ref<number>>,
): void {
  const f = deref(flags, 'flags').value;
  const req = decodeFlags(f);
  if (req.mode === 'set') setAffinities(sys, caller, readProcset(ps), nids, ids, f, req.type);
  else if (req.mode === 'query') queryAffinity(sys, caller, readProcset(ps), nids, ids, flags!, req.type);
  else clearAffinities(sys, caller, ps, nids, ids, req.type);
}

/** An implementation cap on `*nids` (spec §7.4-2, INFERRED): max_ncpus ids. */
function checkCap(sys: SolarisSystem, n: number): void {
  if (n > sys.state.length) fail('EINVAL', `*nids = ${n} exceeds the ${sys.state.length} CPUs of the host`);
}

/** SET (spec §7.4). */
function setAffinities(
  sys: SolarisSystem, caller: Lwp, ps: ProcSet, nids: Ptr<Ref<number>>, idsP: Ptr<ArrayLike<number>>, flags: number,
  type: number,
): void {
  const n = readCount(nids);
  if (n === 0) fail('EINVAL', 'setting an affinity needs at least one id');
  checkCap(sys, n);
  const s = resolveIds(sys, type, readIds(idsP, n));
  // one shared record per processor set among the targets (null: nothing of the request in it)
  const perPart = new Map<number, Affinity | null>();
  let err: AffinityError | undefined;
  try {
    const targets = procsetTargets(sys.procs, caller, ps);
    const negative = (flags & PA_NEGATIVE) !== 0;
    for (const t of targets) {
      if (!mayChange(t, caller.proc)) {
        err = new AffinityError('EPERM', `no permission to change LWP ${t.proc.pid}/${t.tid}`);
        continue;
      }
      const part = partitionOf(t);
      let a = perPart.get(part);
      if (a === undefined) {
        const id = allowedIn(sys, s, part, negative);
        a = id < 0 ? null : newAffinity(sys.procs, id, flags & PA_SET_ONLY);
        if (id >= 0) sys.masks.release(id);
        perPart.set(part, a);
      }
      if (a === null) {
        err = new AffinityError('EINVAL', `none of the CPUs is in processor set ${part} of LWP ${t.proc.pid}/${t.tid}`);
        continue;
      }
      setAffinity(sys.procs, t, a);
    }
  } finally {
    s.free();
    for (const a of perPart.values()) if (a) discardIfUnused(sys.procs, a);
  }
  if (err) throw err;
}

/**
 * The CPUs an LWP of partition `part` gets for request set `s` (spec §7.4-5.2): `s ∩ P`, or
 * `P \ s` for a negative request — the complement is taken within the LWP's processor set
 * (OPEN-9: within the set, as recommended). Interned (one reference for the caller), or -1 if empty.
 */
function allowedIn(sys: SolarisSystem, s: CpuMask, part: number, negative: boolean): number {
  const p = sys.parts.get(part)!.active;
  const a = p.clone();
  if (negative) a.andNot(s);
  else a.and(s);
  const id = a.isEmpty() ? -1 : sys.masks.intern(a);
  a.free();
  return id;
}

/**
 * QUERY (spec §7.5). No permission check (OPEN-10, as recommended). Reports the *last* target
 * LWP with an affinity, like processor_bind's obind (OPEN-11, as recommended). The ids are the
 * positive set in force; PA_NEGATIVE is not reported (OPEN-6): ids plus flags re-applied with
 * SET then reproduce the same affinity, which they would not if the ids were read as an avoid list.
 */
function queryAffinity(
  sys: SolarisSystem, caller: Lwp, ps: ProcSet, nids: Ptr<Ref<number>>, ids: Ptr<number[] | Int32Array>,
  flags: Ref<number>, type: number,
): void {
  const cap = readCount(nids);
  const targets = procsetTargets(sys.procs, caller, ps);
  let shown: Lwp | undefined;
  for (const t of targets) if (t.aff.mask >= 0) shown = t;
  const out = shown ? affinityIds(sys, shown.aff.mask, type) : [];
  const copy = Math.min(cap, out.length);
  if (ids !== null && copy > 0) {
    if (ids === undefined || ids.length < copy) fail('EFAULT', `ids cannot hold ${copy} ids`);
    for (let i = 0; i < copy; i++) ids[i] = out[i];
  }
  nids!.value = out.length;
  flags.value = type | (shown ? shown.aff.flags & (PA_STRENGTH | PA_INH) : 0);
}

/**
 * An affinity's CPUs as ids of a type (spec §7.5-4; OPEN-7). CPU: ascending ids. PG / lgroup:
 * the largest groups whose active CPUs all lie in the set (a top-down walk, so Socket before its
 * cores; the root lgroup when the set holds every active CPU), then, for CPUs no such group
 * covers, the smallest group containing them ("the groups that contain them", DOC[PB]).
 */
export function affinityIds(sys: SolarisSystem, mask: number, type: number): number[] {
  const cpus = sys.masks.view(mask);
  if (type === PA_TYPE_CPU) return cpus.toArray();
  const g = sys.groups;
  const tmp = sys.engine.cpumask();
  const covered = sys.engine.cpumask();
  const out = new Set<number>();
  const activeIn = (m: CpuMask) => tmp.copy(m).and(sys.active);
  const visit = (m: CpuMask, id: number, children: number[], walk: (c: number) => void) => {
    activeIn(m);
    if (tmp.isEmpty() || !tmp.intersects(cpus)) return;
    if (tmp.isSubsetOf(cpus)) {
      out.add(id);
      covered.or(tmp);
    } else children.forEach(walk);
  };
  if (type === PA_TYPE_PG) {
    const walk = (id: number) => visit(g.pgs[id].cpus, id, g.pgs[id].children, walk);
    g.pgs[0].children.forEach(walk);
  } else if (sys.active.isSubsetOf(cpus)) {
    out.add(0);
    covered.copy(cpus);
  } else {
    g.lgroups.forEach((l) => l.leaf && visit(l.cpus, l.id, [], () => undefined));
  }
  tmp.copy(cpus).andNot(covered);
  const leafOf = type === PA_TYPE_PG ? g.cpuLeafPg : g.cpuLeaf;
  for (const c of tmp.toArray()) if (leafOf[c] > 0 || type === PA_TYPE_LGRP) out.add(leafOf[c]);
  tmp.free();
  covered.free();
  return [...out].sort((a, b) => a - b);
}

/**
 * CLEAR (spec §7.6). Form A (no ids): every LWP of `ps` loses its affinity. Form B (`*nids > 0`
 * and ids given): every LWP — of `ps`, or every visible one when `ps` is NULL — whose affinity
 * intersects the named CPUs loses its whole affinity; none matching is not an error (OPEN-12).
 * CLEAR with neither ps nor ids cannot read ps: EFAULT.
 */
function clearAffinities(
  sys: SolarisSystem, caller: Lwp, psP: Ptr<ProcSet>, nids: Ptr<Ref<number>>, ids: Ptr<ArrayLike<number>>, type: number,
): void {
  const ps = psP === null && ids !== null && nids != null ? null : readProcset(psP);
  const n = nids === null ? 0 : readCount(nids);
  const byIds = n > 0 && ids !== null;
  if (!byIds && ps === null) fail('EFAULT', 'ps could not be accessed');
  let s: CpuMask | undefined;
  if (byIds) {
    checkCap(sys, n);
    s = resolveIds(sys, type, readIds(ids, n));
  }
  try {
    const targets = ps ? procsetTargets(sys.procs, caller, ps) : eligibleLwps(sys.procs, caller);
    clearLwps(sys, caller, targets, (t) => s === undefined || (t.aff.mask >= 0 && sys.engine.k.intersects(t.aff.mask, s.handle, s.nbits) !== 0));
  } finally {
    s?.free();
  }
}

/** Clears the affinity of the LWPs that `select` picks; per-LWP EPERM thrown at the end. */
function clearLwps(sys: SolarisSystem, caller: Lwp, targets: Lwp[], select: (t: Lwp) => boolean): void {
  let err: AffinityError | undefined;
  for (const t of targets) {
    if (!select(t)) continue;
    if (!mayChange(t, caller.proc)) {
      err = new AffinityError('EPERM', `no permission to change LWP ${t.proc.pid}/${t.tid}`);
      continue;
    }
    setAffinity(sys.procs, t, NO_AFFINITY);
  }
  if (err) throw err;
}

// ---- processor_bind(2) (spec §3, §7.8) --------------------------------------------------------
export const PBIND_NONE = -1;
export const PBIND_QUERY = -2;
export const PBIND_HARD = -3;
export const PBIND_SOFT = -4;
export const PBIND_QUERY_TYPE = -5;

const BIND_IDTYPES = new Set([P_PID, P_LWPID, P_TASKID, P_PROJID, P_CTID, P_ZONEID]);

/**
 * The single CPU an LWP is bound to as processor_bind sees it: a strong affinity for exactly
 * one CPU; any other affinity (weak, or several CPUs) reads as PBIND_NONE (OPEN-13, as suggested).
 */
export function legacyBinding(sys: SolarisSystem, t: Lwp): number {
  if (t.aff.mask < 0 || !(t.aff.flags & PA_AFF_STRONG)) return PBIND_NONE;
  const k = sys.engine.k;
  const n = sys.engine.nrCpuIds;
  return k.weight(t.aff.mask, n) === 1 ? k.first(t.aff.mask, n) : PBIND_NONE;
}

/**
 * processor_bind(2) (spec §3.2, CODE-exact order): the CPU is checked up front (one offline
 * CPU fails the whole call, unlike processor_affinity); `obind` ends as the binding of the last
 * bound LWP visited; per-LWP EPERM/EINVAL leave the others changed; `obind` is written only on
 * success, and a fault writing it is EFAULT *after* the bindings were applied.
 * `(P_CPUID, cpu, PBIND_NONE)` / `(P_ALL, 0, PBIND_NONE)` unbind every visible LWP with an
 * affinity for that CPU / for any CPU (illumos, used by `pbind -U`).
 */
export function processorBind(
  sys: SolarisSystem, caller: Lwp, idtype: number, id: number, cpu: number, obind: Ptr<Ref<number>>,
): void {
  if (!Number.isInteger(cpu) || cpu < PBIND_QUERY_TYPE) fail('EINVAL', `processor id ${cpu} is not valid`);
  if (cpu >= 0 && !(cpu < sys.state.length && isActiveState(sys.state[cpu]))) {
    fail('EINVAL', `processor ${cpu} does not exist or is not on-line`);
  }
  if (idtype === P_CPUID || idtype === P_ALL) {
    if (cpu !== PBIND_NONE) fail('EINVAL', 'P_CPUID and P_ALL only unbind (PBIND_NONE)');
    if (idtype === P_CPUID && !(Number.isInteger(id) && id >= 0 && id < sys.state.length && sys.state[id] !== 0)) {
      fail('EINVAL', `processor ${id} does not exist`);
    }
    const k = sys.engine.k;
    const select = (t: Lwp) => t.aff.mask >= 0 && (idtype === P_ALL || k.testBit(t.aff.mask, id) !== 0);
    clearLwps(sys, caller, eligibleLwps(sys.procs, caller), select);
    return;
  }
  if (!BIND_IDTYPES.has(idtype)) fail('EINVAL', `idtype ${idtype} is not accepted by processor_bind`);
  let targets: Lwp[];
  try {
    targets = procsetTargets(sys.procs, caller, setprocset(POP_AND, idtype, id, P_ALL, 0));
  } catch (e) {
    // CODE quirk (spec §3.2-3, F9): an existing project, zone or contract with no live process.
    if (e instanceof AffinityError && e.errno === 'ESRCH' && collectionExists(sys, caller, idtype, id)) {
      if (obind) obind.value = PBIND_NONE;
      return;
    }
    throw e;
  }
  let single: Affinity | undefined;
  let o = PBIND_NONE;
  let err: AffinityError | undefined;
  try {
    for (const t of targets) {
      const b = legacyBinding(sys, t);
      if (b !== PBIND_NONE) o = b;
      if (cpu === PBIND_QUERY) continue;
      if (cpu === PBIND_QUERY_TYPE) {
        o = t.bindSoft ? PBIND_SOFT : PBIND_HARD;
        continue;
      }
      if (cpu === PBIND_SOFT || cpu === PBIND_HARD) {
        setBindSoft(t, cpu === PBIND_SOFT); // CODE quirk: before the permission check
        continue;
      }
      if (!mayChange(t, caller.proc)) {
        err = new AffinityError('EPERM', `no permission to bind LWP ${t.proc.pid}/${t.tid}`);
        continue;
      }
      if (cpu === PBIND_NONE) {
        setAffinity(sys.procs, t, NO_AFFINITY);
        continue;
      }
      if (!sys.parts.get(partitionOf(t))!.active.test(cpu)) {
        err = new AffinityError('EINVAL', `processor ${cpu} is not in the processor set of LWP ${t.proc.pid}/${t.tid}`);
        continue;
      }
      single ??= singleCpu(sys, cpu);
      setAffinity(sys.procs, t, single);
    }
  } finally {
    if (single) discardIfUnused(sys.procs, single);
  }
  if (err) throw err;
  if (obind === undefined) fail('EFAULT', 'obind could not be written (the bindings were changed)');
  if (obind !== null) obind.value = o;
}

/** A strong affinity record for one CPU: a processor binding. */
function singleCpu(sys: SolarisSystem, cpu: number): Affinity {
  const m = sys.engine.cpumaskOf(cpu);
  const id = sys.masks.intern(m);
  m.free();
  const a = newAffinity(sys.procs, id, PA_AFF_STRONG);
  sys.masks.release(id);
  return a;
}

function collectionExists(sys: SolarisSystem, caller: Lwp, idtype: number, id: number): boolean {
  const pt = sys.procs;
  const v = id === -1 ? (idtype === P_PROJID ? caller.proc.projid : idtype === P_ZONEID ? caller.proc.zoneid : caller.proc.ctid) : id;
  if (idtype === P_PROJID) return pt.projects.has(v);
  if (idtype === P_ZONEID) return pt.zones.has(v);
  return idtype === P_CTID && pt.procs.some((p) => p.ctid === v);
}

// ---- CPUs leaving (spec §9) ---------------------------------------------------------------------

/** Does a record with this many holders block a CPU from leaving — strong, held by a non-PBIND_SOFT LWP? */
function blocks(a: Affinity): boolean {
  return (a.flags & PA_AFF_STRONG) !== 0 && a.holders > a.soft;
}

/** Is `t`'s affinity strong and not a PBIND_SOFT binding (the kind pset_bind refuses to empty)? */
export function isHard(t: Lwp): boolean {
  return (t.aff.flags & PA_AFF_STRONG) !== 0 && !t.bindSoft;
}

/** `mask ∩ allowed`: `mask` itself when unchanged, -1 when empty, else a new interned id (one reference). */
function intersected(sys: SolarisSystem, mask: number, allowed: CpuMask): number {
  if (sys.engine.k.subset(mask, allowed.handle, allowed.nbits)) return mask;
  const tmp = sys.masks.view(mask).clone().and(allowed);
  const r = tmp.isEmpty() ? -1 : sys.masks.intern(tmp);
  tmp.free();
  return r;
}

/**
 * The CPUs outside `allowed` leave every affinity (spec §9, D1–D4: off-line, pset_assign away):
 * each record loses them for good; an emptied weak or soft one is cleared; an emptied hard one
 * blocks the whole change with EBUSY unless `forced` (then it is cleared). All or nothing. The
 * work is per distinct record, however many LWPs hold it.
 */
export function narrowAll(sys: SolarisSystem, allowed: CpuMask, forced: boolean, what: string): void {
  const plan: Array<[Affinity, number]> = [];
  try {
    for (const a of sys.procs.affinities) {
      const r = intersected(sys, a.mask, allowed);
      if (r === a.mask) continue;
      plan.push([a, r]);
      if (r < 0 && !forced && blocks(a)) fail('EBUSY', `${what}: ${a.holders - a.soft} LWPs have a strong affinity for no other CPU`);
    }
    for (const [a, r] of plan) {
      if (r < 0) clearAffinity(sys.procs, a);
      else narrowAffinity(sys.procs, a, r);
    }
  } finally {
    for (const [, r] of plan) if (r >= 0) sys.masks.release(r);
  }
}

/**
 * One LWP moving to processor set `allowed` (pset_bind, spec §9, D5): its affinity narrowed to
 * the set, copy-on-write (`memo` shares the new records among the LWPs of one call); -1 when
 * nothing would be left. The caller decides between EBUSY and clearing.
 */
export function narrowedFor(sys: SolarisSystem, t: Lwp, allowed: CpuMask, memo: Map<Affinity, Affinity | null>): Affinity | null {
  let r = memo.get(t.aff);
  if (r === undefined) {
    const m = intersected(sys, t.aff.mask, allowed);
    if (m === t.aff.mask) r = t.aff;
    else if (m < 0) r = null;
    else {
      r = newAffinity(sys.procs, m, t.aff.flags);
      sys.masks.release(m);
    }
    memo.set(t.aff, r);
  }
  return r;
}

/** Drops the records {@link narrowedFor} made that no LWP took. */
export function releaseNarrowed(sys: SolarisSystem, memo: Map<Affinity, Affinity | null>): void {
  for (const r of memo.values()) if (r) discardIfUnused(sys.procs, r);
}
