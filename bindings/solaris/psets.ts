/**
 * CPU states and processor sets. Spec solaris-affinity.md §4 (p_online(2), P_FORCED, the
 * cpu_offline EBUSY rules), §5 (pset_create/destroy/assign/bind/info and their errnos), §9
 * (affinities narrowed when a CPU leaves an LWP's set).
 *
 * Partitions: id 0 is the default one (shown to users as PS_NONE); user psets from 1. An LWP
 * runs only on its partition's active CPUs; its affinity is always a subset of them (§9 invariant).
 */
import { AffinityError, fail } from '../errors.js';
import type { CpuMask } from '../mask/cpumask.js';
import type { CpuState } from '../topology/topology.js';
import { isHard, narrowAll, narrowedFor, releaseNarrowed, type Ptr, type Ref } from './affinity.js';
import { hasprocperm, NO_AFFINITY, partitionOf, PS_NONE, setAffinity, type Affinity, type Lwp, type Process } from './process.js';
import { P_CTID, P_LWPID, P_PID, P_PROJID, P_TASKID, P_ZONEID, POP_AND, P_ALL, procsetTargets, setprocset } from './procset.js';
import type { SolarisSystem } from './system.js';

/** p_online(2) states (spec §1.3, §4); 0 marks an id with no configured CPU. */
export const P_OFFLINE = 1;
export const P_ONLINE = 2;
export const P_STATUS = 3;
export const P_FAULTED = 4;
export const P_POWEROFF = 5;
export const P_NOINTR = 6;
export const P_SPARE = 7;
export const P_FORCED = 0x10000000;
export const NOT_CONFIGURED = 0;


export const PS_QUERY = -2;
export const PS_MYID = -3;
export const PS_PRIVATE = 2;

/** Topology state → p_online state. */
export const FROM_TOPOLOGY: Record<CpuState, number> = {
  online: P_ONLINE, offline: P_OFFLINE, faulted: P_FAULTED, spare: P_SPARE, 'not-present': NOT_CONFIGURED,
};
const TO_TOPOLOGY: Record<number, CpuState> = {
  [P_ONLINE]: 'online', [P_NOINTR]: 'online', [P_OFFLINE]: 'offline', [P_POWEROFF]: 'offline',
  [P_FAULTED]: 'faulted', [P_SPARE]: 'spare',
};

/** psrinfo's state names (spec §1.3). */
export const STATE_NAMES: Record<number, string> = {
  [P_ONLINE]: 'on-line', [P_OFFLINE]: 'off-line', [P_FAULTED]: 'faulted', [P_POWEROFF]: 'powered-off',
  [P_NOINTR]: 'no-intr', [P_SPARE]: 'spare',
};

/** Does a CPU in this state run LWPs (spec §4 table)? */
export function isActiveState(s: number): boolean {
  return s === P_ONLINE || s === P_NOINTR;
}

function requirePriv(caller: Process, what: string): void {
  if (!caller.cred.privs.has('PRIV_SYS_RES_CONFIG')) fail('EPERM', `${what} needs PRIV_SYS_RES_CONFIG`);
}

function requireCpu(sys: SolarisSystem, cpu: number): void {
  if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < sys.state.length && sys.state[cpu] !== NOT_CONFIGURED)) {
    fail('EINVAL', `processor ${cpu} does not exist`);
  }
}

/** Is `cpu` on-line (not no-intr) and no other CPU is — the last one taking I/O interrupts? */
function onlyInterruptCpu(sys: SolarisSystem, cpu: number): boolean {
  if (sys.state[cpu] !== P_ONLINE) return false;
  for (let c = 0; c < sys.state.length; c++) if (c !== cpu && sys.state[c] === P_ONLINE) return false;
  return true;
}

/**
 * The cpu_offline refusals (spec §4, CODE cpu.c; D6, D7): the last active CPU of the system or of
 * its partition (whether or not LWPs are bound there), the only CPU taking interrupts, and a hard
 * affinity for nothing else (unless forced — then cleared). Narrowing happens here too.
 */
function cpuOffline(sys: SolarisSystem, cpu: number, forced: boolean): void {
  const part = sys.parts.get(sys.partOf[cpu])!;
  if (sys.active.weight() === 1) fail('EBUSY', `processor ${cpu} is the last on-line processor`);
  if (part.active.weight() === 1) fail('EBUSY', `processor ${cpu} is the last on-line processor of processor set ${part.id}`);
  if (onlyInterruptCpu(sys, cpu)) fail('EBUSY', `processor ${cpu} is the only one taking interrupts`);
  const rest = sys.engine.cpumaskAll().clear(cpu);
  try {
    narrowAll(sys, rest, forced, `processor ${cpu} cannot go off-line`);
  } finally {
    rest.free();
  }
  sys.active.clear(cpu);
  part.active.clear(cpu);
}

function cpuOnline(sys: SolarisSystem, cpu: number): void {
  sys.active.set(cpu);
  sys.parts.get(sys.partOf[cpu])!.active.set(cpu);
}

/** Moves a CPU to a new state; the caller has checked the request. Nothing is re-added (§9, D1). */
function changeState(sys: SolarisSystem, cpu: number, to: number, forced: boolean): void {
  const from = sys.state[cpu];
  if (from === to) return;
  if (to === P_NOINTR && onlyInterruptCpu(sys, cpu)) fail('EBUSY', `processor ${cpu} is the only one taking interrupts`);
  if (isActiveState(from) && !isActiveState(to)) cpuOffline(sys, cpu, forced);
  else if (!isActiveState(from) && isActiveState(to)) cpuOnline(sys, cpu);
  sys.state[cpu] = to;
}

/**
 * p_online(2) (spec §4): P_STATUS needs nothing; a change needs PRIV_SYS_RES_CONFIG. `P_FORCED`
 * OR-ed into P_OFFLINE/P_SPARE/P_FAULTED revokes hard affinities instead of failing EBUSY.
 * Returns the previous state. The shared topology sees the change (no-intr is on-line there).
 */
export function pOnline(sys: SolarisSystem, caller: Lwp, cpu: number, flag: number): number {
  const forced = Number.isInteger(flag) && (flag & P_FORCED) !== 0;
  const to = forced ? flag & ~P_FORCED : flag;
  if (![P_OFFLINE, P_ONLINE, P_STATUS, P_FAULTED, P_POWEROFF, P_NOINTR, P_SPARE].includes(to)) {
    fail('EINVAL', `p_online flag ${flag} is not valid`);
  }
  if (to !== P_STATUS) requirePriv(caller.proc, 'changing a processor state');
  requireCpu(sys, cpu);
  const from = sys.state[cpu];
  if (to === P_STATUS || to === from) return from;
  changeState(sys, cpu, to, forced && [P_OFFLINE, P_SPARE, P_FAULTED].includes(to));
  const topo = TO_TOPOLOGY[to];
  if (sys.topology.cpu(cpu).state !== topo) {
    sys.changingTopology = true;
    try {
      sys.topology.setCpuState(cpu, topo);
    } finally {
      sys.changingTopology = false;
    }
  }
  return from;
}

/** Changes made to the shared topology by others go through the same rules, unforced (they may be refused). */
export function subscribeTopology(sys: SolarisSystem): void {
  sys.topology.subscribe((ch) => {
    if (sys.changingTopology) return;
    const to = FROM_TOPOLOGY[ch.to];
    if (!(to === P_ONLINE && isActiveState(sys.state[ch.cpu]))) changeState(sys, ch.cpu, to, false);
  });
}

// ---- processor sets ------------------------------------------------------------------------------

function psetOf(caller: Lwp, id: number): number {
  return id === PS_MYID ? partitionOf(caller) : id;
}

function requireUserPset(sys: SolarisSystem, id: number): void {
  if (id === 0 || !sys.parts.has(id)) fail('EINVAL', `processor set ${id} does not exist`);
}

/** pset_create(2): a new empty processor set (spec §5); at most 2·ncpus+1 partitions (ENOMEM). */
export function psetCreate(sys: SolarisSystem, caller: Lwp): number {
  requirePriv(caller.proc, 'pset_create');
  if (sys.parts.size >= 2 * sys.state.length + 1) fail('ENOMEM', 'too many processor sets');
  let id = 1;
  while (sys.parts.has(id)) id++;
  sys.parts.set(id, { id, active: sys.engine.cpumask() });
  return id;
}

/**
 * pset_destroy(2): every LWP bound to it is unbound (to the default set) and its CPUs, active or
 * not, go back to the default set — together, so affinities stay as they are (spec §9).
 */
export function psetDestroy(sys: SolarisSystem, caller: Lwp, psetId: number): void {
  const id = psetOf(caller, psetId);
  requireUserPset(sys, id);
  requirePriv(caller.proc, 'pset_destroy');
  const part = sys.parts.get(id)!;
  for (const t of sys.procs.lwps) if (t.pset === id) t.pset = PS_NONE;
  for (let c = 0; c < sys.partOf.length; c++) if (sys.partOf[c] === id) sys.partOf[c] = 0;
  sys.parts.get(0)!.active.or(part.active);
  part.active.free();
  sys.parts.delete(id);
}

/**
 * pset_assign(2) / pset_assign_forced (spec §5, §9; D4): PS_QUERY reports, PS_NONE releases to
 * the default set. Only an active CPU can move. EBUSY: it is the last CPU of its set while LWPs
 * are bound there (or of the default set), or a hard affinity would lose its last CPU (unless
 * forced). `old` receives the previous set (PS_NONE for the default one).
 */
export function psetAssign(
  sys: SolarisSystem, caller: Lwp, psetId: number, cpu: number, old: Ptr<Ref<number>> = null, forced = false,
): void {
  requireCpu(sys, cpu);
  const from = sys.partOf[cpu];
  const shown = from === 0 ? PS_NONE : from;
  if (psetId !== PS_QUERY) {
    const to = psetId === PS_NONE ? 0 : psetOf(caller, psetId);
    if (!sys.parts.has(to)) fail('EINVAL', `processor set ${psetId} does not exist`);
    if (!isActiveState(sys.state[cpu])) fail('EINVAL', `processor ${cpu} is not on-line`);
    requirePriv(caller.proc, 'pset_assign');
    if (to !== from) moveCpu(sys, cpu, from, to, forced);
  }
  if (old === undefined) fail('EFAULT', 'opset could not be written');
  if (old) old.value = shown;
}

function moveCpu(sys: SolarisSystem, cpu: number, from: number, to: number, forced: boolean): void {
  const src = sys.parts.get(from)!;
  if (src.active.weight() === 1 && (from === 0 || sys.procs.lwps.some((t) => partitionOf(t) === from))) {
    fail('EBUSY', `processor ${cpu} is the last processor of processor set ${from === 0 ? 'PS_NONE' : from}, which has bound LWPs`);
  }
  // Affinities lie inside their LWP's set, so only LWPs of `from` can hold `cpu` (spec §9 invariant).
  const rest = sys.engine.cpumaskAll().clear(cpu);
  try {
    narrowAll(sys, rest, forced, `processor ${cpu} cannot leave its set`);
  } finally {
    rest.free();
  }
  src.active.clear(cpu);
  sys.parts.get(to)!.active.set(cpu);
  sys.partOf[cpu] = to;
}

const PSET_BIND_IDTYPES = new Set([P_PID, P_LWPID, P_TASKID, P_PROJID, P_ZONEID, P_CTID]);

/**
 * pset_bind(2) (spec §5, §9; D5, F7): PS_NONE unbinds, PS_QUERY only reports, PS_MYID is the
 * caller's set. Precedence: bad set EINVAL → privilege EPERM (binding to a set) → ESRCH →
 * per-LWP errors (others still move) → EFAULT. Per LWP: a hard affinity with no CPU in the new
 * set is EBUSY; a weak one is cleared; otherwise it is narrowed to the new set. `old` gets the
 * previous binding of the last LWP visited. Of the per-LWP errors, each process's first counts
 * and the last process's is returned (CODE).
 */
export function psetBind(
  sys: SolarisSystem, caller: Lwp, psetId: number, idtype: number, id: number, old: Ptr<Ref<number>> = null,
): void {
  if (!PSET_BIND_IDTYPES.has(idtype)) fail('EINVAL', `idtype ${idtype} is not accepted by pset_bind`);
  const target = psetId === PS_MYID ? caller.pset : psetId;
  const binding = target !== PS_NONE && target !== PS_QUERY;
  if (binding) {
    requireUserPset(sys, target);
    if (sys.parts.get(target)!.active.isEmpty()) fail('EINVAL', `processor set ${target} has no on-line processor`);
    requirePriv(caller.proc, 'pset_bind');
  }
  const targets = procsetTargets(sys.procs, caller, setprocset(POP_AND, idtype, id, P_ALL, 0));
  let last = PS_NONE;
  // CODE: the first per-LWP error of each process is kept, and the last process's error returned.
  let err: AffinityError | undefined;
  let errProc: Process | undefined;
  const record = (t: Lwp, e: AffinityError) => {
    if (errProc !== t.proc) (err = e), (errProc = t.proc);
  };
  const newPart = binding ? target : 0;
  const allowed: CpuMask = sys.parts.get(newPart)!.active;
  const memo = new Map<Affinity, Affinity | null>();
  try {
    for (const t of targets) {
      last = t.pset;
      if (psetId === PS_QUERY) continue;
      if (!hasprocperm(t.proc, caller.proc)) {
        record(t, new AffinityError('EPERM', `no permission to bind LWP ${t.proc.pid}/${t.tid}`));
        continue;
      }
      const r = t.aff.mask < 0 ? NO_AFFINITY : narrowedFor(sys, t, allowed, memo);
      if (r === null && isHard(t)) {
        record(t, new AffinityError('EBUSY', `LWP ${t.proc.pid}/${t.tid} has a strong affinity for no processor of set ${newPart}`));
        continue;
      }
      setAffinity(sys.procs, t, r ?? NO_AFFINITY);
      t.pset = binding ? target : PS_NONE;
    }
  } finally {
    releaseNarrowed(sys, memo);
  }
  if (err) throw err;
  if (old === undefined) fail('EFAULT', 'opset could not be written');
  if (old) old.value = last;
}

export interface PsetInfo {
  type: number;
  /** Active CPUs of the set, ascending (spec §5: pset_info lists on-line CPUs only). */
  cpus: number[];
}

/** pset_info(2); PS_MYID is the caller's set; the default set is PS_NONE. */
export function psetInfo(sys: SolarisSystem, caller: Lwp, psetId: number): PsetInfo {
  const id = psetId === PS_MYID ? partitionOf(caller) : psetId === PS_NONE ? 0 : psetId;
  const part = sys.parts.get(id) ?? fail('EINVAL', `processor set ${psetId} does not exist`);
  return { type: PS_PRIVATE, cpus: part.active.toArray() };
}
