/**
 * Solaris steps: processes and LWPs, processor_affinity(2), processor_bind(2), p_online(2),
 * processor sets and dispatcher ticks, driven through the system calls of bindings/solaris/.
 * Each system call is one gate operation (`solaris.<call>`), so a trace replays it exactly;
 * a step's result is computed from its operations and the system's state only.
 */
import { fail } from '../errors.js';
import { formatRuns } from '../mask/formats/index.js';
import {
  PA_AFF_STRONG, PA_AFF_WEAK, PA_CLEAR, PA_INH_EXEC, PA_INH_FORK, PA_INH_THR, PA_NEGATIVE, PA_QUERY, PA_TYPE_CPU,
  PA_TYPE_LGRP, PA_TYPE_PG, PBIND_NONE, PBIND_QUERY, processorAffinity, processorBind, type Ref,
} from '../solaris/affinity.js';
import { createDispatcher, dispatchTick, type Dispatcher, type TickStats } from '../solaris/dispatcher.js';
import {
  createProcess, exec, exit, findLwp, fork, makeCred, partitionOf, PS_NONE, reap, thrCreate, type Lwp, type Privilege,
} from '../solaris/process.js';
import {
  P_ALL, P_CID, P_CPUID, P_CTID, P_GID, P_LWPID, P_PGID, P_PID, P_POOLID, P_PPID, P_PROJID, P_PSETID, P_SID, P_TASKID,
  P_UID, P_ZONEID, POP_AND, POP_DIFF, POP_OR, POP_XOR, setprocset, type ProcSet,
} from '../solaris/procset.js';
import {
  P_FAULTED, P_FORCED, P_NOINTR, P_OFFLINE, P_ONLINE, P_POWEROFF, P_SPARE, pOnline, psetAssign, psetBind,
  psetCreate,
} from '../solaris/psets.js';
import { bootSolaris, type SolarisSystem } from '../solaris/system.js';
import type { Engine } from '../engine.js';
import type { Topology } from '../topology/topology.js';
import type { Executor } from './trace.js';
import { cpuIds, each, groupOf, opFailures, returns } from './steps-common.js';
import { arrayOf, bool, cpus, int, obj, oneOf, oneOfValues, str, type Schema } from './schema.js';
import { sample, SIZE } from './size.js';
import type { StepKind } from './scenario.js';
import type { RunContext, StepRuntime } from './runner.js';

export interface SolarisHost {
  sys: SolarisSystem;
  dispatcher: Dispatcher;
}

/**
 * The administrator's shell: a root process holding every privilege, created at boot (pid 3,
 * after sched, init and pageout). Steps call from it unless they name a `caller`; the model's
 * init has uid 0 but no privileges.
 */
export const ADMIN: Caller = [3, 1];
const ALL_PRIVILEGES: Privilege[] = ['PRIV_PROC_OWNER', 'PRIV_PROC_ZONE', 'PRIV_SYS_RES_CONFIG'];

export function bootSolarisHost(topology: Topology, engine: Engine): SolarisHost {
  const sys = bootSolaris({ topology, engine });
  createProcess(sys.procs, { pid: ADMIN[0], ppid: 1, cred: makeCred(0, 0, ALL_PRIVILEGES) });
  return { sys, dispatcher: createDispatcher(sys) };
}

export const IDTYPES: Record<string, number> = {
  P_PID, P_PPID, P_PGID, P_SID, P_CID, P_UID, P_GID, P_ALL, P_LWPID, P_TASKID, P_PROJID, P_POOLID, P_ZONEID, P_CTID,
  P_CPUID, P_PSETID,
};
const POPS: Record<string, number> = { POP_DIFF, POP_AND, POP_OR, POP_XOR };
export const PA_FLAGS: Record<string, number> = {
  PA_QUERY, PA_CLEAR, PA_TYPE_CPU, PA_TYPE_PG, PA_TYPE_LGRP, PA_AFF_WEAK, PA_AFF_STRONG, PA_NEGATIVE, PA_INH_EXEC,
  PA_INH_FORK, PA_INH_THR,
};
const P_STATES: Record<string, number> = {
  online: P_ONLINE, offline: P_OFFLINE, spare: P_SPARE, faulted: P_FAULTED, nointr: P_NOINTR, poweroff: P_POWEROFF,
};

/** The LWP a call is made from: `[pid, tid]`. */
type Caller = [number, number];

function lwpOf(h: SolarisHost, [pid, tid]: Caller): Lwp {
  return findLwp(h.sys.procs, pid, tid);
}

/** The system calls, by gate name; arguments are plain data so that traces replay them. */
export const SOLARIS_CALLS: Record<string, Executor<{ solaris?: SolarisHost }>> = {
  /** A new process with LWPs 1…lwps (what login/newtask set up), child of the admin shell. */
  'solaris.spawn': ({ solaris }, [uid, lwps, pri]) =>
    createProcess(need(solaris).sys.procs, {
      ppid: ADMIN[0], cred: makeCred(uid as number), tids: Array.from({ length: lwps as number }, (_, i) => i + 1), pri: pri as number,
    }).pid,
  'solaris.fork': ({ solaris }, [caller]) => fork(need(solaris).sys.procs, lwpOf(need(solaris), caller as Caller)).pid,
  'solaris.thr_create': ({ solaris }, [caller]) => thrCreate(need(solaris).sys.procs, lwpOf(need(solaris), caller as Caller)).tid,
  'solaris.exec': ({ solaris }, [caller]) => exec(need(solaris).sys.procs, lwpOf(need(solaris), caller as Caller)),
  /** exit(2) and the parent's wait: the process is gone afterwards. */
  'solaris.exit': ({ solaris }, [pid]) => {
    const pt = need(solaris).sys.procs;
    const p = pt.byPid.get(pid as number) ?? fail('ESRCH', `no process ${pid}`);
    exit(pt, p);
    reap(pt, p);
  },
  'solaris.processor_affinity': ({ solaris }, [caller, ps, ids, flags]) => {
    const h = need(solaris);
    const list = [...(ids as number[])];
    const nids: Ref<number> = { value: list.length };
    const f: Ref<number> = { value: flags as number };
    // A query gets room for every CPU id.
    const buf = (flags as number) & PA_QUERY ? new Array<number>(h.sys.state.length).fill(0) : list;
    if ((flags as number) & PA_QUERY) nids.value = buf.length;
    processorAffinity(h.sys, lwpOf(h, caller as Caller), ps as ProcSet, nids, buf, f);
    return (flags as number) & PA_QUERY ? { ids: buf.slice(0, Math.min(nids.value, buf.length)), flags: f.value } : null;
  },
  'solaris.processor_bind': ({ solaris }, [caller, idtype, id, cpu]) => {
    const h = need(solaris);
    const obind: Ref<number> = { value: 0 };
    processorBind(h.sys, lwpOf(h, caller as Caller), idtype as number, id as number, cpu as number, obind);
    return obind.value;
  },
  'solaris.p_online': ({ solaris }, [caller, cpu, flag]) => {
    const h = need(solaris);
    return pOnline(h.sys, lwpOf(h, caller as Caller), cpu as number, flag as number);
  },
  'solaris.pset_create': ({ solaris }, [caller]) => psetCreate(need(solaris).sys, lwpOf(need(solaris), caller as Caller)),
  'solaris.pset_assign': ({ solaris }, [caller, pset, cpu]) => {
    const h = need(solaris);
    psetAssign(h.sys, lwpOf(h, caller as Caller), pset as number, cpu as number);
  },
  'solaris.pset_bind': ({ solaris }, [caller, pset, idtype, id]) => {
    const h = need(solaris);
    psetBind(h.sys, lwpOf(h, caller as Caller), pset as number, idtype as number, id as number);
  },
  'solaris.tick': ({ solaris }) => {
    const s = dispatchTick(need(solaris).dispatcher);
    return { ran: s.ran, waiting: s.waiting, spilled: s.spilled, stolen: s.stolen };
  },
};

function need(h: SolarisHost | undefined): SolarisHost {
  return h ?? fail('EINVAL', 'no Solaris system booted');
}

// ---- schemas ---------------------------------------------------------------------------

/** The calling LWP: a pid (its LWP 1) or [pid, tid]; default the admin shell (pid 3). */
const caller: Schema = oneOf('a pid, or [pid, tid]', int(0), arrayOf(int(0), 2, 2));
const idtype = oneOfValues(...Object.keys(IDTYPES));
/** A target id: a number, or the name of a group of processes made by an earlier spawn/fork. */
const target: Schema = oneOf('an id or a group name', int(-1), str(/^[A-Za-z_][\w.-]*$/, 'a group name'));
const procset: Schema = obj({
  op: oneOfValues(...Object.keys(POPS)),
  left: arrayOf(oneOf('an idtype name or an id', idtype, target), 2, 2),
  right: arrayOf(oneOf('an idtype name or an id', idtype, target), 2, 2),
}, ['left']);

export const SOLARIS_STEP_KINDS: Record<string, StepKind> = {
  spawn: {
    system: 'solaris', doc: 'count processes (children of init) with `lwps` LWPs each; `name` names the group',
    fields: { name: str(), count: int(1, 1_000_000), lwps: SIZE, uid: int(0), pri: int(0, 169) }, required: [],
    defines: { name: 'procs' },
  },
  fork: {
    system: 'solaris', doc: 'fork(2) from each process of `from` (its first LWP)', fields: { from: target, name: str(), caller }, required: ['from'],
    defines: { name: 'procs' }, uses: { from: 'procs' },
  },
  thrCreate: { system: 'solaris', doc: 'thr_create in each process of `in`, `count` times', fields: { in: target, count: int(1, 100_000) }, required: ['in'], uses: { in: 'procs' } },
  exec: { system: 'solaris', doc: 'exec(2) from each process of `in`', fields: { in: target }, required: ['in'], uses: { in: 'procs' } },
  exit: { system: 'solaris', doc: 'exit(2) of each process of `pids` (reaped)', fields: { pids: target }, required: ['pids'], uses: { pids: 'procs' } },
  processorAffinity: {
    system: 'solaris',
    doc: 'processor_affinity(2): procset {op, left:[idtype,id], right}, or idtype + id (a group = one call per process); cpus (PA_TYPE_CPU) or ids; flags names',
    fields: { caller, procset, idtype, id: target, cpus, ids: arrayOf(int(0)), flags: arrayOf(oneOfValues(...Object.keys(PA_FLAGS)), 1) },
    required: ['flags'],
    uses: { id: 'procs' },
  },
  processorBind: {
    system: 'solaris', doc: 'processor_bind(2) of idtype/id to cpu (or PBIND_NONE / PBIND_QUERY)',
    fields: { caller, idtype, id: target, cpu: oneOf('a CPU id, "PBIND_NONE" or "PBIND_QUERY"', int(0), oneOfValues('PBIND_NONE', 'PBIND_QUERY')) },
    required: ['idtype', 'id', 'cpu'],
    uses: { id: 'procs' },
  },
  pOnline: {
    system: 'solaris', doc: 'p_online(2) of every CPU of `cpus` to `state` (forced = P_FORCED)',
    fields: { caller, cpus, state: oneOfValues(...Object.keys(P_STATES)), forced: bool }, required: ['cpus', 'state'],
  },
  psetCreate: { system: 'solaris', doc: 'pset_create(2); `name` names the set', fields: { caller, name: str() }, required: ['name'], defines: { name: 'pset' } },
  psetAssign: {
    system: 'solaris', doc: 'pset_assign(2) of every CPU of `cpus` to `pset` (a name or "PS_NONE")',
    fields: { caller, pset: str(), cpus }, required: ['pset', 'cpus'], uses: { pset: 'pset' },
  },
  psetBind: {
    system: 'solaris', doc: 'pset_bind(2) of idtype/id to `pset`',
    fields: { caller, pset: str(), idtype, id: target }, required: ['pset', 'idtype', 'id'], uses: { pset: 'pset', id: 'procs' },
  },
  tick: { system: 'solaris', doc: 'dispatcher ticks; result sums their statistics', fields: { count: int(1, 1_000_000) }, required: [] },
};

// ---- runtime ---------------------------------------------------------------------------

function callerOf(step: Record<string, unknown>): Caller {
  const c = step.caller as number | number[] | undefined;
  return c === undefined ? ADMIN : typeof c === 'number' ? [c, 1] : [c[0], c[1]];
}

function flagsOf(names: readonly string[]): number {
  return names.reduce((f, n) => f | PA_FLAGS[n], 0);
}

function psetId(ctx: RunContext, name: string): number {
  if (name === 'PS_NONE') return PS_NONE;
  return ctx.psets.get(name) ?? fail('EINVAL', `no processor set ${JSON.stringify(name)} (create it with psetCreate)`);
}

/** The procsets of a step: one, or one per process when the id is a group. */
function procsetsOf(ctx: RunContext, step: Record<string, unknown>): ProcSet[] {
  const side = (pair: unknown[] | undefined, dflt: [string, unknown]): [number, number[]] => {
    const [t, id] = pair ?? dflt;
    return [IDTYPES[t as string], groupOf(ctx, id, 'process group')];
  };
  const p = step.procset as { op?: string; left: unknown[]; right?: unknown[] } | undefined;
  const [lt, lids] = side(p?.left ?? (step.idtype !== undefined ? [step.idtype, step.id ?? 0] : undefined), ['P_PID', -1]);
  const [rt, rids] = side(p?.right, ['P_ALL', 0]);
  const op = POPS[p?.op ?? 'POP_AND'];
  return lids.flatMap((l) => rids.map((r) => setprocset(op, lt, l, rt, r)));
}

export const SOLARIS_STEPS: Record<string, StepRuntime> = {
  spawn: {
    perform(ctx, step) {
      const count = (step.count as number | undefined) ?? 1;
      for (let i = 0; i < count; i++) {
        ctx.gate.call('solaris.spawn', (step.uid as number | undefined) ?? 0, sample(ctx.systems.engine.rng, step.lwps ?? 1), (step.pri as number | undefined) ?? 29);
      }
    },
    summarize(ctx, step, ops) {
      const pids = returns(ops, 'solaris.spawn') as number[];
      if (step.name) ctx.groups.set(step.name as string, pids);
      const lwps = ops.filter((o) => o.errno === undefined).reduce((n, o) => n + (o.args[1] as number), 0);
      return { pids: formatRuns(pids), processes: pids.length, lwps };
    },
  },
  fork: {
    perform(ctx, step) {
      each(groupOf(ctx, step.from, 'process group'), (pid) => ctx.gate.call('solaris.fork', [pid, 1]));
    },
    summarize(ctx, step, ops) {
      const pids = returns(ops, 'solaris.fork') as number[];
      if (step.name) ctx.groups.set(step.name as string, pids);
      return { pids: formatRuns(pids), failures: opFailures(ops) };
    },
  },
  thrCreate: {
    perform(ctx, step) {
      const n = (step.count as number | undefined) ?? 1;
      each(groupOf(ctx, step.in, 'process group'), (pid) => {
        for (let i = 0; i < n; i++) ctx.gate.call('solaris.thr_create', [pid, 1]);
      });
    },
    summarize: (_ctx, _step, ops) => ({ lwps: returns(ops, 'solaris.thr_create').length, failures: opFailures(ops) }),
  },
  exec: {
    perform(ctx, step) {
      each(groupOf(ctx, step.in, 'process group'), (pid) => ctx.gate.call('solaris.exec', [pid, 1]));
    },
    summarize: (_ctx, _step, ops) => ({ execs: returns(ops, 'solaris.exec').length, failures: opFailures(ops) }),
  },
  exit: {
    perform(ctx, step) {
      each(groupOf(ctx, step.pids, 'process group'), (pid) => ctx.gate.call('solaris.exit', pid));
    },
    summarize: (_ctx, _step, ops) => ({ exited: returns(ops, 'solaris.exit').length, failures: opFailures(ops) }),
  },
  processorAffinity: {
    perform(ctx, step) {
      const ids = step.cpus !== undefined ? cpuIds(ctx, step.cpus as string) : ((step.ids as number[] | undefined) ?? []);
      const flags = flagsOf(step.flags as string[]);
      each(procsetsOf(ctx, step), (ps) => ctx.gate.call('solaris.processor_affinity', callerOf(step), ps, ids, flags));
    },
    summarize(_ctx, _step, ops) {
      const last = ops[ops.length - 1];
      const q = last?.ret as { ids: number[]; flags: number } | null | undefined;
      const out: Record<string, unknown> = { calls: ops.length, failures: opFailures(ops) };
      if (q) {
        out.ids = formatRuns(q.ids);
        out.flags = Object.entries(PA_FLAGS).filter(([n, v]) => n !== 'PA_QUERY' && n !== 'PA_CLEAR' && (q.flags & v) === v).map(([n]) => n);
      }
      return out;
    },
  },
  processorBind: {
    perform(ctx, step) {
      const cpu = step.cpu === 'PBIND_NONE' ? PBIND_NONE : step.cpu === 'PBIND_QUERY' ? PBIND_QUERY : (step.cpu as number);
      const t = IDTYPES[step.idtype as string];
      each(groupOf(ctx, step.id, 'process group'), (id) => ctx.gate.call('solaris.processor_bind', callerOf(step), t, id, cpu));
    },
    summarize(_ctx, _step, ops) {
      const obind = returns(ops, 'solaris.processor_bind') as number[];
      return { obind: obind.length ? obind[obind.length - 1] : null, failures: opFailures(ops) };
    },
  },
  pOnline: {
    perform(ctx, step) {
      const flag = P_STATES[step.state as string] | (step.forced ? P_FORCED : 0);
      each(cpuIds(ctx, step.cpus as string), (cpu) => ctx.gate.call('solaris.p_online', callerOf(step), cpu, flag));
    },
    summarize(ctx, step, ops) {
      const sys = ctx.systems.solaris!.sys;
      // p_online returns the previous state: a change is a call whose previous state differs.
      const changed = returns(ops, 'solaris.p_online').filter((prev) => prev !== P_STATES[step.state as string]).length;
      return { changed, active: sys.active.weight(), failures: opFailures(ops) };
    },
  },
  psetCreate: {
    perform(ctx, step) {
      ctx.gate.call('solaris.pset_create', callerOf(step));
    },
    summarize(ctx, step, ops) {
      const id = returns(ops, 'solaris.pset_create')[0] as number | undefined;
      if (id !== undefined) ctx.psets.set(step.name as string, id);
      return { pset: id ?? null };
    },
  },
  psetAssign: {
    perform(ctx, step) {
      const id = psetId(ctx, step.pset as string);
      each(cpuIds(ctx, step.cpus as string), (cpu) => ctx.gate.call('solaris.pset_assign', callerOf(step), id, cpu));
    },
    summarize(ctx, step, ops) {
      const id = step.pset === 'PS_NONE' ? 0 : ctx.psets.get(step.pset as string);
      const part = id === undefined ? undefined : ctx.systems.solaris!.sys.parts.get(id);
      return { assigned: returns(ops, 'solaris.pset_assign').length, cpus: part ? part.active.toString() : null, failures: opFailures(ops) };
    },
  },
  psetBind: {
    perform(ctx, step) {
      const id = psetId(ctx, step.pset as string);
      const t = IDTYPES[step.idtype as string];
      each(groupOf(ctx, step.id, 'process group'), (pid) => ctx.gate.call('solaris.pset_bind', callerOf(step), id, t, pid));
    },
    summarize: (_ctx, _step, ops) => ({ bound: returns(ops, 'solaris.pset_bind').length, failures: opFailures(ops) }),
  },
  tick: {
    perform(ctx, step) {
      for (let i = 0; i < ((step.count as number | undefined) ?? 1); i++) ctx.gate.call('solaris.tick');
    },
    summarize(_ctx, _step, ops) {
      const sum = { ticks: 0, ran: 0, waiting: 0, spilled: 0, stolen: 0 };
      for (const r of returns(ops, 'solaris.tick') as TickStats[]) {
        sum.ticks++;
        sum.ran += r.ran;
        sum.waiting += r.waiting;
        sum.spilled += r.spilled;
        sum.stolen += r.stolen;
      }
      return sum;
    },
  },
};

/** Per node, the live non-system LWPs last run (or queued) there, for the load chart. */
export function solarisNodeLoad(h: SolarisHost, load: number[]): void {
  for (const t of h.sys.procs.lwps) {
    if (t.proc.system) continue;
    const cpu = t.lastCpu >= 0 ? t.lastCpu : t.queuedOn;
    if (cpu < 0) continue;
    const node = h.sys.topology.cpu(cpu).node;
    if (node >= 0) load[node]++;
  }
}

/**
 * The Solaris invariant: every strong affinity in force is non-empty and inside its LWP's
 * processor set (the partition's active CPUs) — processor_affinity(2) never lets a strong
 * affinity name CPUs an LWP may not run on.
 */
export function solarisInvariants(h: SolarisHost): string[] {
  const out: string[] = [];
  const { sys } = h;
  for (const t of sys.procs.lwps) {
    if (t.aff.mask < 0 || !(t.aff.flags & PA_AFF_STRONG)) continue;
    const m = sys.masks.view(t.aff.mask);
    const part = sys.parts.get(partitionOf(t));
    if (m.isEmpty()) out.push(`LWP ${t.proc.pid}/${t.tid}: empty strong affinity`);
    else if (!part || !m.isSubsetOf(part.active)) out.push(`LWP ${t.proc.pid}/${t.tid}: strong affinity ${m} outside processor set ${partitionOf(t)}`);
  }
  return out;
}
