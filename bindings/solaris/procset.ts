/**
 * procset_t → the LWPs a call acts on. Spec solaris-affinity.md §1.1–1.2 (types), §2 (evaluation):
 * illumos `checkprocset`, `getmyid`, `dotoprocs`, `procinset`/`lwpinset`.
 */
import { fail } from '../errors.js';
import { type Lwp, type Process, type ProcTable, SYS_CID, zoneSees } from './process.js';

/** idtype_t (spec §1.1), values in declaration order. */
export const P_PID = 0;
export const P_PPID = 1;
export const P_PGID = 2;
export const P_SID = 3;
export const P_CID = 4;
export const P_UID = 5;
export const P_GID = 6;
export const P_ALL = 7;
export const P_LWPID = 8;
export const P_TASKID = 9;
export const P_PROJID = 10;
export const P_POOLID = 11;
export const P_ZONEID = 12;
export const P_CTID = 13;
export const P_CPUID = 14;
export const P_PSETID = 15;

/** idop_t (spec §1.2). */
export const POP_DIFF = 0;
export const POP_AND = 1;
export const POP_OR = 2;
export const POP_XOR = 3;

/** `P_MYID`: "the caller's own value for this idtype" (spec §2.2). */
export const P_MYID = -1;

/** procset_t: five 32-bit fields in this order (spec §1.2). */
export interface ProcSet {
  p_op: number;
  p_lidtype: number;
  p_lid: number;
  p_ridtype: number;
  p_rid: number;
}

/** setprocset(3HEAD) as a function (the C macro is five bare statements, spec §1.2). */
export function setprocset(op: number, ltype: number, lid: number, rtype: number, rid: number): ProcSet {
  return { p_op: op, p_lidtype: ltype, p_lid: lid, p_ridtype: rtype, p_rid: rid };
}

/**
 * idtypes a procset may use (spec §2.1-1). P_CPUID and P_PSETID are not process attributes and
 * the illumos procset code rejects them; OPEN-1 (does Oracle accept them?) — we follow illumos.
 */
const PROCSET_IDTYPES = new Set([
  P_LWPID, P_PID, P_PPID, P_PGID, P_SID, P_TASKID, P_CID, P_UID, P_GID, P_PROJID, P_POOLID, P_ZONEID, P_CTID, P_ALL,
]);

/** illumos `checkprocset` (spec §2.1): before P_MYID substitution and before any lookup. */
export function checkprocset(ps: ProcSet): void {
  if (!PROCSET_IDTYPES.has(ps.p_lidtype)) fail('EINVAL', `procset left idtype ${ps.p_lidtype} is not valid`);
  if (!PROCSET_IDTYPES.has(ps.p_ridtype)) fail('EINVAL', `procset right idtype ${ps.p_ridtype} is not valid`);
  if (![POP_DIFF, POP_AND, POP_OR, POP_XOR].includes(ps.p_op)) fail('EINVAL', `procset op ${ps.p_op} is not valid`);
  for (const id of [ps.p_lid, ps.p_rid]) {
    if (!Number.isInteger(id) || id < -0x80000000 || id > 0x7fffffff) fail('EINVAL', `procset id ${id} is not an id_t`);
  }
}

/** illumos `getmyid` (spec §2.2, table §1.1): the caller's value for an idtype. */
export function getmyid(type: number, caller: Lwp): number {
  const p = caller.proc;
  switch (type) {
    case P_PID: return p.pid;
    case P_PPID: return p.ppid;
    case P_PGID: return p.pgid;
    case P_SID: return p.sid;
    case P_CID: return caller.cid;
    case P_UID: return p.cred.euid;
    case P_GID: return p.cred.egid;
    case P_LWPID: return caller.tid;
    case P_TASKID: return p.taskid;
    case P_PROJID: return p.projid;
    case P_POOLID: return p.poolid;
    case P_ZONEID: return p.zoneid;
    case P_CTID: return p.ctid;
    default: return 0; // P_ALL
  }
}

/** Process attribute compared for an idtype (table §1.1); undefined for P_ALL / P_LWPID / P_CID. */
function procAttr(p: Process, type: number): number | undefined {
  switch (type) {
    case P_PID: return p.pid;
    case P_PPID: return p.ppid;
    case P_PGID: return p.pgid;
    case P_SID: return p.sid;
    case P_UID: return p.cred.euid;
    case P_GID: return p.cred.egid;
    case P_TASKID: return p.taskid;
    case P_PROJID: return p.projid;
    case P_POOLID: return p.poolid;
    case P_ZONEID: return p.zoneid;
    case P_CTID: return p.ctid;
    default: return undefined;
  }
}

/**
 * One operand at LWP level (spec §2.4): P_ALL always; P_LWPID only for an LWP of the caller's
 * own process; P_CID against the LWP's own class; the rest against the process.
 */
function operandMatches(t: Lwp, caller: Lwp, type: number, id: number): boolean {
  switch (type) {
    case P_ALL: return true;
    case P_LWPID: return t.proc === caller.proc && t.tid === id;
    case P_CID: return t.cid === id;
    default: return procAttr(t.proc, type) === id;
  }
}

function combine(op: number, l: boolean, r: boolean): boolean {
  switch (op) {
    case POP_DIFF: return l && !r;
    case POP_AND: return l && r;
    case POP_OR: return l || r;
    default: return l !== r;
  }
}

/** Live, non-system, visible to the caller (spec §2.3-1..3). */
function eligible(p: Process, caller: Lwp): boolean {
  return p.state === 'SRUN' && p.lwps.length > 0 && !p.system && zoneSees(caller.proc, p);
}

/** `{POP_AND, P_PID, x, P_ALL, *}` either way round: the pid x, or undefined (spec §2.3-5). */
function fastPathPid(ps: ProcSet): number | undefined {
  if (ps.p_op !== POP_AND) return undefined;
  if (ps.p_lidtype === P_PID && ps.p_ridtype === P_ALL) return ps.p_lid;
  if (ps.p_ridtype === P_PID && ps.p_lidtype === P_ALL) return ps.p_rid;
  return undefined;
}

const INIT_PID = 1;

/**
 * The target LWPs of a procset, in canonical order (ascending pid, then tid — spec §2.6, a
 * documented divergence from the kernel's practive order). Throws EINVAL (invalid procset) or
 * ESRCH (nothing matched). Follows spec §2.6 steps 2–7.
 */
export function procsetTargets(pt: ProcTable, caller: Lwp, ps: ProcSet): Lwp[] {
  checkprocset(ps);
  const resolved = setprocset(
    ps.p_op,
    ps.p_lidtype, ps.p_lid === P_MYID ? getmyid(ps.p_lidtype, caller) : ps.p_lid,
    ps.p_ridtype, ps.p_rid === P_MYID ? getmyid(ps.p_ridtype, caller) : ps.p_rid,
  );
  const pid = fastPathPid(resolved);
  if (pid !== undefined) {
    const p = pt.byPid.get(pid);
    if (!p || !eligible(p, caller)) fail('ESRCH', `no eligible process ${pid}`);
    return [...p.lwps];
  }
  const perLwp = [resolved.p_lidtype, resolved.p_ridtype].some((x) => x === P_LWPID || x === P_CID);
  const out: Lwp[] = [];
  let initLwps = 0;
  let others = false;
  for (const p of pt.procs) {
    if (!eligible(p, caller) || p.lwps[0].cid === SYS_CID) continue;
    const before = out.length;
    if (perLwp) {
      for (const t of p.lwps) {
        const l = operandMatches(t, caller, resolved.p_lidtype, resolved.p_lid);
        const r = operandMatches(t, caller, resolved.p_ridtype, resolved.p_rid);
        if (combine(resolved.p_op, l, r)) out.push(t);
      }
    } else {
      // both operands are process attributes: every LWP of the process answers alike
      const t = p.lwps[0];
      const l = operandMatches(t, caller, resolved.p_lidtype, resolved.p_lid);
      const r = operandMatches(t, caller, resolved.p_ridtype, resolved.p_rid);
      if (combine(resolved.p_op, l, r)) for (const x of p.lwps) out.push(x);
    }
    if (out.length > before) {
      if (p.pid === INIT_PID) initLwps = out.length - before;
      else others = true;
    }
  }
  // init is acted upon only when it is the only match (spec §2.3-4); it sorts first (pid 1).
  const targets = initLwps > 0 && others ? out.filter((t) => t.proc.pid !== INIT_PID) : out;
  if (targets.length === 0) fail('ESRCH', 'no LWP matches the procset');
  return targets;
}

/** Every LWP the caller can see: live, non-system processes of its zone view, init included. */
export function eligibleLwps(pt: ProcTable, caller: Lwp): Lwp[] {
  return pt.procs.filter((p) => eligible(p, caller)).flatMap((p) => p.lwps);
}

/** sizeof(procset_t): five 32-bit fields (spec §1.2). */
export const PROCSET_SIZE = 20;

/**
 * The C layout of a procset_t (spec §1.2, §14: replay C-level vectors byte for byte):
 * p_op, p_lidtype, p_lid, p_ridtype, p_rid as int32, x86 little-endian unless `bigEndian` (SPARC).
 */
export function encodeProcset(ps: ProcSet, bigEndian = false): Uint8Array {
  const out = new Uint8Array(PROCSET_SIZE);
  const v = new DataView(out.buffer);
  [ps.p_op, ps.p_lidtype, ps.p_lid, ps.p_ridtype, ps.p_rid].forEach((x, i) => v.setInt32(4 * i, x, !bigEndian));
  return out;
}

/** Reads a procset_t from its C layout; fewer than 20 bytes is the model's EFAULT (copyin of a short buffer). */
export function decodeProcset(bytes: Uint8Array, bigEndian = false): ProcSet {
  if (!(bytes instanceof Uint8Array) || bytes.length < PROCSET_SIZE) fail('EFAULT', `procset_t needs ${PROCSET_SIZE} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, PROCSET_SIZE);
  const f = (i: number) => v.getInt32(4 * i, !bigEndian);
  return setprocset(f(0), f(1), f(2), f(3), f(4));
}
