/**
 * The process model under processor_affinity(2): zones, credentials and privileges, processes
 * and their LWPs, and the lifecycle calls that create and destroy LWPs (fork, forkall, vfork,
 * exec, thr_create, exit). Spec solaris-affinity.md §2.3, §3.6, §10, §11.
 *
 * An LWP carries its scheduling attributes and its affinity (an interned mask id, spec §7.2);
 * inheritance (§10) happens here because it is a property of LWP creation.
 */
import { fail } from '../errors.js';
import { PA_INH_EXEC, PA_INH_FORK, PA_INH_THR } from './flags.js';

/** Scheduling class ids (`priocntl -l`); SYS is always 0 (spec §2.4: SYS-class LWPs are skipped). */
export const SYS_CID = 0;
export const TS_CID = 1;
export const IA_CID = 2;
export const RT_CID = 3;
export const FX_CID = 4;
export const FSS_CID = 5;

/** Global priorities 0…169 (TS/IA 0–59, SYS 60–99, RT 100–159, interrupts 160–169). */
export const MAX_PRI = 169;
/** The default time-sharing priority of a new LWP. */
export const DEFAULT_PRI = 29;

export const GLOBAL_ZONEID = 0;
/** `PS_NONE`: an LWP not bound to a processor set (runs in the default partition 0). */
export const PS_NONE = -1;

export type Privilege = 'PRIV_PROC_OWNER' | 'PRIV_PROC_ZONE' | 'PRIV_SYS_RES_CONFIG';

/** A credential (`cred_t`): real/effective/saved ids and the effective privilege set (§11). */
export interface Cred {
  readonly ruid: number;
  readonly euid: number;
  readonly suid: number;
  readonly rgid: number;
  readonly egid: number;
  readonly sgid: number;
  readonly privs: ReadonlySet<Privilege>;
}

/** `SIDL` being created, `SRUN` live, `SZOMB` exited but not reaped (spec §2.3-2). */
export type ProcState = 'SIDL' | 'SRUN' | 'SZOMB';

/**
 * An affinity in force (spec §7.2), shared by every LWP that holds it: a SET gives all its
 * targets (per processor set) one record, children inherit their creator's. CPU events then work
 * per distinct record, not per LWP (§9): narrowing a record narrows every holder at once.
 */
export interface Affinity {
  /** Interned mask id of the positive CPU set in force; -1 once nothing is left (no affinity). */
  mask: number;
  /** PA_AFF_WEAK / PA_AFF_STRONG | PA_NEGATIVE | PA_INH_* as set. */
  readonly flags: number;
  /** LWPs holding it, and how many of those have a PBIND_SOFT binding type. */
  holders: number;
  soft: number;
}

/** "No affinity": the record every LWP without one points at (never counted, never changed). */
export const NO_AFFINITY: Affinity = Object.freeze({ mask: -1, flags: 0, holders: 0, soft: 0 }) as Affinity;

export interface Lwp {
  readonly proc: Process;
  /** `t_tid`; LWP ids are per process, from 1. */
  tid: number;
  /** Scheduling class id. */
  cid: number;
  /** Global priority used by the dispatcher (higher runs first). */
  pri: number;
  /** Affinity (processor_affinity and processor_bind share it, §7.2); NO_AFFINITY when none. */
  aff: Affinity;
  /** processor_bind binding type PBIND_SOFT: revoked by offline instead of blocking it (§3). */
  bindSoft: boolean;
  /** Processor set binding (`PS_NONE` or a pset id); the partition is 0 when `PS_NONE`. */
  pset: number;
  /** Dispatcher state: runnable, CPU it last ran on (-1 never), CPU whose queue it waits on, home lgroup id. */
  runnable: boolean;
  lastCpu: number;
  queuedOn: number;
  home: number;
  /** Position in {@link ProcTable.lwps} (dense, for the dispatcher's arrays). */
  slot: number;
}

export interface Process {
  readonly pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  taskid: number;
  projid: number;
  poolid: number;
  zoneid: number;
  ctid: number;
  cred: Cred;
  state: ProcState;
  /** `SSYS`: a kernel process (sched, pageout); never a target (§2.3-3). */
  readonly system: boolean;
  /** Live LWPs in ascending tid order (the model's canonical order, §2.6). */
  lwps: Lwp[];
  nextTid: number;
}

/** Retain/release of interned masks; the engine's InternTable satisfies it. */
export interface MaskRefs {
  retain(id: number): void;
  release(id: number): void;
}

export interface Zone {
  readonly id: number;
  readonly name: string;
}

export interface ProcTable {
  /** Processes in ascending pid order (canonical order, §2.6). */
  procs: Process[];
  byPid: Map<number, Process>;
  /** Every live LWP of every process, dense; `lwp.slot` is its index. */
  lwps: Lwp[];
  zones: Map<number, Zone>;
  /** Projects and tasks that exist (a project may exist with no process, spec §3.2-3, F9). */
  projects: Set<number>;
  tasks: Set<number>;
  nextPid: number;
  masks: MaskRefs;
  /** Affinity records in force (mask ≥ 0, held by at least one LWP). */
  affinities: Set<Affinity>;
  /** Called when an LWP appears or disappears (the dispatcher keeps per-slot state). */
  listeners: Array<(ev: 'create' | 'exit', lwp: Lwp) => void>;
}


export function createProcTable(masks: MaskRefs): ProcTable {
  const pt: ProcTable = {
    procs: [], byPid: new Map(), lwps: [], zones: new Map(), projects: new Set([0, 1, 3]),
    tasks: new Set(), nextPid: 3, masks, affinities: new Set(), listeners: [],
  };
  pt.zones.set(GLOBAL_ZONEID, { id: GLOBAL_ZONEID, name: 'global' });
  return pt;
}

/** A credential; `privs` is the effective privilege set. */
export function makeCred(uid: number, gid = uid, privs: Privilege[] = []): Cred {
  return { ruid: uid, euid: uid, suid: uid, rgid: gid, egid: gid, sgid: gid, privs: new Set(privs) };
}

export function zoneCreate(pt: ProcTable, id: number, name: string): Zone {
  if (!Number.isInteger(id) || id <= 0 || pt.zones.has(id)) fail('EINVAL', `zone id ${id} is invalid or in use`);
  const z = { id, name };
  pt.zones.set(id, z);
  return z;
}

export interface ProcessAttrs {
  pid?: number;
  ppid?: number;
  pgid?: number;
  sid?: number;
  taskid?: number;
  projid?: number;
  poolid?: number;
  zoneid?: number;
  ctid?: number;
  cred?: Cred;
  system?: boolean;
  /** LWP ids to create (default [1]). */
  tids?: number[];
  cid?: number;
  pri?: number;
  pset?: number;
}

/**
 * Creates a live process directly (the model's equivalent of what login, newtask and the boot
 * path set up); programs then use fork/exec/thr_create. pid defaults to the next free one.
 */
export function createProcess(pt: ProcTable, a: ProcessAttrs = {}): Process {
  const pid = a.pid ?? allocPid(pt);
  if (!Number.isInteger(pid) || pid < 0) fail('EINVAL', `pid ${pid} is not a non-negative integer`);
  if (pt.byPid.has(pid)) fail('EINVAL', `pid ${pid} is in use`);
  const zoneid = a.zoneid ?? GLOBAL_ZONEID;
  if (!pt.zones.has(zoneid)) fail('EINVAL', `zone ${zoneid} does not exist`);
  const pri = a.pri ?? DEFAULT_PRI;
  if (!Number.isInteger(pri) || pri < 0 || pri > MAX_PRI) fail('EINVAL', `priority ${pri} is not in 0..${MAX_PRI}`);
  const tids = a.tids ?? [1];
  if (tids.length === 0 || new Set(tids).size !== tids.length || tids.some((t) => !Number.isInteger(t) || t < 1)) {
    fail('EINVAL', `LWP ids ${JSON.stringify(tids)} must be distinct positive integers`);
  }
  const p: Process = {
    pid, ppid: a.ppid ?? 0, pgid: a.pgid ?? pid, sid: a.sid ?? pid, taskid: a.taskid ?? 0,
    projid: a.projid ?? 0, poolid: a.poolid ?? 0, zoneid, ctid: a.ctid ?? 0,
    cred: a.cred ?? makeCred(0), state: 'SRUN', system: a.system ?? false, lwps: [], nextTid: 1,
  };
  insertProc(pt, p);
  pt.projects.add(p.projid);
  pt.tasks.add(p.taskid);
  for (const tid of [...tids].sort((x, y) => x - y)) {
    addLwp(pt, p, tid, { cid: a.cid ?? (p.system ? SYS_CID : TS_CID), pri, pset: a.pset ?? PS_NONE });
  }
  return p;
}

function allocPid(pt: ProcTable): number {
  while (pt.byPid.has(pt.nextPid)) pt.nextPid++;
  return pt.nextPid++;
}

function insertProc(pt: ProcTable, p: Process): void {
  let lo = 0;
  let hi = pt.procs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pt.procs[mid].pid < p.pid) lo = mid + 1;
    else hi = mid;
  }
  pt.procs.splice(lo, 0, p);
  pt.byPid.set(p.pid, p);
}

function addLwp(pt: ProcTable, p: Process, tid: number, from: { cid: number; pri: number; pset: number }): Lwp {
  const lwp: Lwp = {
    proc: p, tid, cid: from.cid, pri: from.pri, aff: NO_AFFINITY, bindSoft: false, pset: from.pset,
    runnable: true, lastCpu: -1, queuedOn: -1, home: -1, slot: pt.lwps.length,
  };
  let i = p.lwps.length;
  while (i > 0 && p.lwps[i - 1].tid > tid) i--;
  p.lwps.splice(i, 0, lwp);
  p.nextTid = Math.max(p.nextTid, tid + 1);
  pt.lwps.push(lwp);
  for (const l of pt.listeners) l('create', lwp);
  return lwp;
}

function removeLwp(pt: ProcTable, lwp: Lwp): void {
  for (const l of pt.listeners) l('exit', lwp);
  setAffinity(pt, lwp, NO_AFFINITY);
  const p = lwp.proc;
  p.lwps.splice(p.lwps.indexOf(lwp), 1);
  const last = pt.lwps.pop()!;
  if (last !== lwp) {
    pt.lwps[lwp.slot] = last;
    last.slot = lwp.slot;
  }
  lwp.slot = -1;
}

/** A new affinity record for an interned mask (it takes its own reference); held by nobody yet. */
export function newAffinity(pt: ProcTable, mask: number, flags: number): Affinity {
  pt.masks.retain(mask);
  const a: Affinity = { mask, flags, holders: 0, soft: 0 };
  pt.affinities.add(a);
  return a;
}

/** Drops a record nobody holds (a SET whose every target failed, say). */
export function discardIfUnused(pt: ProcTable, a: Affinity): void {
  if (a.holders === 0 && a !== NO_AFFINITY) clearAffinity(pt, a);
}

/** A record loses its CPUs: every holder now has no affinity (spec §9, weak or forced). */
export function clearAffinity(pt: ProcTable, a: Affinity): void {
  if (pt.affinities.delete(a)) pt.masks.release(a.mask);
  a.mask = -1;
}

/** A record narrowed to another interned mask (spec §9); every holder sees it. */
export function narrowAffinity(pt: ProcTable, a: Affinity, mask: number): void {
  pt.masks.retain(mask);
  pt.masks.release(a.mask);
  a.mask = mask;
}

/** Points an LWP at an affinity record (NO_AFFINITY to clear), keeping the holder counts right. */
export function setAffinity(pt: ProcTable, lwp: Lwp, a: Affinity): void {
  const old = lwp.aff;
  if (old === a) return;
  if (a !== NO_AFFINITY) {
    a.holders++;
    if (lwp.bindSoft) a.soft++;
  }
  lwp.aff = a;
  if (old !== NO_AFFINITY) {
    old.holders--;
    if (lwp.bindSoft) old.soft--;
    discardIfUnused(pt, old);
  }
}

/** processor_bind's PBIND_SOFT / PBIND_HARD binding type of an LWP (spec §3). */
export function setBindSoft(lwp: Lwp, soft: boolean): void {
  if (lwp.bindSoft === soft) return;
  if (lwp.aff !== NO_AFFINITY) lwp.aff.soft += soft ? 1 : -1;
  lwp.bindSoft = soft;
}

/**
 * Inheritance into a new LWP (spec §3.6, §10): the creating LWP's processor-set binding always,
 * its affinity unless the matching PA_INH_* bit excludes it; the whole state (with the exclusion
 * bits) is copied so the policy reaches grandchildren (§10 rule 2).
 */
function inherit(pt: ProcTable, from: Lwp, to: Lwp, exclude: number): void {
  to.pset = from.pset;
  setBindSoft(to, from.bindSoft);
  to.cid = from.cid;
  to.pri = from.pri;
  to.home = from.home;
  if (from.aff.mask >= 0 && (from.aff.flags & exclude) === 0) setAffinity(pt, to, from.aff);
}

function requireLive(lwp: Lwp): void {
  if (lwp.slot < 0 || lwp.proc.state !== 'SRUN') fail('ESRCH', `LWP ${lwp.proc.pid}/${lwp.tid} is not alive`);
}

function forkChild(pt: ProcTable, caller: Lwp): Process {
  requireLive(caller);
  const pp = caller.proc;
  const child: Process = {
    ...pp, pid: allocPid(pt), ppid: pp.pid, state: 'SRUN', lwps: [], nextTid: 1,
  };
  insertProc(pt, child);
  return child;
}

/** fork(2)/fork1(2): the child has one LWP, created by (and inheriting from) the caller (§10). */
export function fork(pt: ProcTable, caller: Lwp): Process {
  const child = forkChild(pt, caller);
  const lwp = addLwp(pt, child, 1, caller);
  inherit(pt, caller, lwp, PA_INH_FORK);
  return child;
}

/** vfork(2): the fork rule applies (spec §10 rule 4). */
export function vfork(pt: ProcTable, caller: Lwp): Process {
  return fork(pt, caller);
}

/**
 * forkall(2): the child gets one LWP per parent LWP with the same ids, each created by the
 * forking LWP and so inheriting the *forking* LWP's bindings, not its counterpart's (§3.6).
 */
export function forkall(pt: ProcTable, caller: Lwp): Process {
  const tids = caller.proc.lwps.map((l) => l.tid);
  const child = forkChild(pt, caller);
  for (const tid of tids) inherit(pt, caller, addLwp(pt, child, tid, caller), PA_INH_FORK);
  return child;
}

/**
 * exec(2): every other LWP of the process goes away; the caller survives as LWP 1 and keeps its
 * bindings, its affinity unless PA_INH_EXEC (§10). `cred` models a set-id image.
 */
export function exec(pt: ProcTable, caller: Lwp, cred?: Cred): void {
  requireLive(caller);
  for (const l of [...caller.proc.lwps]) if (l !== caller) removeLwp(pt, l);
  caller.tid = 1;
  caller.proc.nextTid = 2;
  if (cred) caller.proc.cred = cred;
  if (caller.aff.mask >= 0 && (caller.aff.flags & PA_INH_EXEC) !== 0) setAffinity(pt, caller, NO_AFFINITY);
}

/** thr_create(3C) / _lwp_create(2): a new LWP in the caller's process (§10). */
export function thrCreate(pt: ProcTable, caller: Lwp): Lwp {
  requireLive(caller);
  const lwp = addLwp(pt, caller.proc, caller.proc.nextTid, caller);
  inherit(pt, caller, lwp, PA_INH_THR);
  return lwp;
}

/** thr_exit(3C) / _lwp_exit(2): the last LWP leaving makes the process exit. */
export function lwpExit(pt: ProcTable, lwp: Lwp): void {
  requireLive(lwp);
  if (lwp.proc.lwps.length === 1) exit(pt, lwp.proc);
  else removeLwp(pt, lwp);
}

/** exit(2): the process becomes a zombie (`SZOMB`, never a target, §2.3-2) until reaped. */
export function exit(pt: ProcTable, p: Process): void {
  if (p.state !== 'SRUN') fail('ESRCH', `process ${p.pid} is not alive`);
  for (const l of [...p.lwps]) removeLwp(pt, l);
  p.state = 'SZOMB';
}

/** waitid(2)'s reaping of a zombie: the pid disappears. */
export function reap(pt: ProcTable, p: Process): void {
  if (p.state !== 'SZOMB') fail('EINVAL', `process ${p.pid} is not a zombie`);
  pt.procs.splice(pt.procs.indexOf(p), 1);
  pt.byPid.delete(p.pid);
}

export function findLwp(pt: ProcTable, pid: number, tid: number): Lwp {
  const l = pt.byPid.get(pid)?.lwps.find((x) => x.tid === tid);
  return l ?? fail('ESRCH', `no LWP ${pid}/${tid}`);
}

/** The partition (kernel cpupart id; 0 = default) an LWP runs in. */
export function partitionOf(lwp: Lwp): number {
  return lwp.pset === PS_NONE ? 0 : lwp.pset;
}

/**
 * May `caller` change `target`? illumos `hasprocperm` (spec §11.1): same credential; across
 * zones only a global-zone caller with PRIV_PROC_ZONE; caller's effective or real uid equal to
 * the target's real or saved uid; or PRIV_PROC_OWNER. The target's *effective* uid is not
 * compared (code, not the man page's wording — OPEN-15, we model the code).
 */
export function hasprocperm(target: Process, caller: Process): boolean {
  const t = target.cred;
  const c = caller.cred;
  if (t === c) return true;
  if (target.zoneid !== caller.zoneid && !(caller.zoneid === GLOBAL_ZONEID && c.privs.has('PRIV_PROC_ZONE'))) {
    return false;
  }
  if (c.euid === t.ruid || c.ruid === t.ruid || c.euid === t.suid || c.ruid === t.suid) return true;
  return c.privs.has('PRIV_PROC_OWNER');
}

/** Zone visibility (`HASZONEACCESS`, §2.3-1): the global zone sees all, others only their own. */
export function zoneSees(caller: Process, p: Process): boolean {
  return caller.zoneid === GLOBAL_ZONEID || caller.zoneid === p.zoneid;
}
