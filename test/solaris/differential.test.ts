// Random SET/QUERY/CLEAR + CPU off-line/on-line + fork/exec/thr_create sequences, run against
// the model and against a small obviously-correct model written here from the spec
// (§2.3 eligibility, §7.3–7.6, §9, §10, §11) — no code shared with bindings/solaris.
import { describe, expect, it } from 'vitest';
import {
  PA_AFF_STRONG, PA_AFF_WEAK, PA_CLEAR, PA_INH_EXEC, PA_INH_FORK, PA_INH_THR, PA_NEGATIVE, PA_QUERY, PA_TYPE_CPU,
  PA_TYPE_LGRP, PA_TYPE_PG, processorAffinity,
} from '../../bindings/solaris/affinity.js';
import { exec, fork, thrCreate, type Lwp } from '../../bindings/solaris/process.js';
import { P_ALL, P_LWPID, P_MYID, P_PID, P_UID, POP_AND, setprocset, type ProcSet } from '../../bindings/solaris/procset.js';
import { pOnline, P_FORCED, P_OFFLINE, P_ONLINE } from '../../bindings/solaris/psets.js';
import { admin, errnoOf, h1, ref } from './fixtures.js';

// ---- the reference model ---------------------------------------------------------------------
const NCPU = 16;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** H1 groups (spec §12.1): PG 1 and 6 sockets, 2–5 and 7–10 cores; lgroups 0 root, 1, 2 leaves. */
const PG: Record<number, number[]> = { 1: range(0, 7), 6: range(8, 15) };
for (let k = 0; k < 4; k++) (PG[2 + k] = [2 * k, 2 * k + 1], PG[7 + k] = [8 + 2 * k, 9 + 2 * k]);
const LGRP: Record<number, number[]> = { 0: range(0, 15), 1: range(0, 7), 2: range(8, 15) };

interface MLwp { pid: number; tid: number; uid: number; priv: boolean; cpus: number[] | null; strong: boolean; inh: number }
interface Model { online: Set<number>; lwps: MLwp[] }

const key = (pid: number, tid: number) => `${pid}/${tid}`;
const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

function cpusNamed(m: Model, type: number, ids: number[]): number[] {
  const out: number[] = [];
  for (const id of ids) {
    if (type === PA_TYPE_PG) out.push(...(PG[id] ?? []));
    else if (type === PA_TYPE_LGRP) out.push(...(LGRP[id] ?? []));
    else if (id >= 0 && id < NCPU) out.push(id);
  }
  return sorted(out.filter((c) => m.online.has(c)));
}

type Form = { kind: 'pid'; pid: number } | { kind: 'lwp'; tid: number } | { kind: 'uid'; uid: number } | { kind: 'all' };

function targets(m: Model, caller: MLwp, f: Form): MLwp[] {
  const live = m.lwps;
  let ts: MLwp[];
  if (f.kind === 'pid') return live.filter((t) => t.pid === f.pid);
  if (f.kind === 'lwp') ts = live.filter((t) => t.pid === caller.pid && t.tid === f.tid);
  else if (f.kind === 'uid') ts = live.filter((t) => t.uid === f.uid);
  else ts = live;
  // init (pid 1) only when it is the only match
  if (ts.some((t) => t.pid === 1) && ts.some((t) => t.pid !== 1)) ts = ts.filter((t) => t.pid !== 1);
  return ts;
}

const permitted = (caller: MLwp, t: MLwp) => caller.priv || caller.uid === t.uid;

// ---- the driver ------------------------------------------------------------------------------
function rngOf(seed: number) {
  let x = seed * 2654435761 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function run(seed: number, steps: number): void {
  const { sys } = h1();
  const root = admin(sys);
  const m: Model = { online: new Set(range(0, 15)), lwps: [] };
  for (const t of sys.procs.lwps) if (!t.proc.system) m.lwps.push({ pid: t.proc.pid, tid: t.tid, uid: t.proc.cred.ruid, priv: t.proc === root.proc, cpus: null, strong: false, inh: 0 });
  const R = rngOf(seed);
  const pick = <T,>(xs: T[]) => xs[R(xs.length)];
  const realOf = (ml: MLwp): Lwp => sys.procs.byPid.get(ml.pid)!.lwps.find((t) => t.tid === ml.tid)!;
  const log: string[] = [];

  for (let step = 0; step < steps; step++) {
    const caller = pick(m.lwps.filter((t) => t.pid !== 1));
    const real = realOf(caller);
    const form: Form = pick<Form>([
      { kind: 'pid', pid: pick([caller.pid, 100, 200, 300, 999]) }, { kind: 'lwp', tid: R(4) + 1 },
      { kind: 'uid', uid: pick([500, 600, 0]) }, { kind: 'all' },
    ]);
    const ps: ProcSet = form.kind === 'pid' ? setprocset(POP_AND, P_PID, form.pid === caller.pid ? P_MYID : form.pid, P_ALL, 0)
      : form.kind === 'lwp' ? setprocset(POP_AND, P_PID, P_MYID, P_LWPID, form.tid)
        : form.kind === 'uid' ? setprocset(POP_AND, P_UID, form.uid, P_ALL, 0) : setprocset(POP_AND, P_ALL, 0, P_ALL, 0);
    const type = pick([PA_TYPE_CPU, PA_TYPE_CPU, PA_TYPE_PG, PA_TYPE_LGRP]);
    const ids = Array.from({ length: R(3) + 1 }, () => R(type === PA_TYPE_CPU ? 18 : 12) - 1);
    const op = R(10);
    let want = 'ok';
    let got: string;
    if (op <= 2) {
      // SET
      const strong = R(2) === 0;
      const neg = R(4) === 0;
      const inh = [0, PA_INH_EXEC, PA_INH_FORK, PA_INH_THR][R(4)];
      const flags = type | (strong ? PA_AFF_STRONG : PA_AFF_WEAK) | (neg ? PA_NEGATIVE : 0) | inh;
      log.push(`SET ${JSON.stringify(form)} ${ids} 0x${flags.toString(16)} by ${key(caller.pid, caller.tid)}`);
      const s = cpusNamed(m, type, ids);
      const ts = s.length === 0 ? [] : targets(m, caller, form);
      if (s.length === 0) want = 'EINVAL';
      else if (ts.length === 0) want = 'ESRCH';
      else {
        for (const t of ts) {
          if (!permitted(caller, t)) { want = 'EPERM'; continue; }
          const a = neg ? [...m.online].filter((c) => !s.includes(c)) : s;
          if (a.length === 0) { want = 'EINVAL'; continue; }
          Object.assign(t, { cpus: sorted(a), strong, inh });
        }
      }
      got = errnoOf(() => processorAffinity(sys, real, ps, ref(ids.length), ids, ref(flags)));
    } else if (op === 3) {
      // QUERY (CPU ids)
      log.push(`QUERY ${JSON.stringify(form)}`);
      const ts = targets(m, caller, form);
      const shown = [...ts].reverse().find((t) => t.cpus);
      const n = ref(16);
      const out = new Array<number>(16).fill(-1);
      const fl = ref(PA_QUERY);
      got = errnoOf(() => processorAffinity(sys, real, ps, n, out, fl));
      if (ts.length === 0) want = 'ESRCH';
      else if (got === 'ok') {
        expect([n.value, out.slice(0, n.value), fl.value]).toEqual([
          shown?.cpus?.length ?? 0, shown?.cpus ?? [],
          PA_TYPE_CPU | (shown ? (shown.strong ? PA_AFF_STRONG : PA_AFF_WEAK) | shown.inh : 0),
        ]);
      }
    } else if (op === 4) {
      // CLEAR by procset
      log.push(`CLEAR ${JSON.stringify(form)}`);
      const ts = targets(m, caller, form);
      if (ts.length === 0) want = 'ESRCH';
      for (const t of ts) if (permitted(caller, t)) t.cpus = null; else want = 'EPERM';
      got = errnoOf(() => processorAffinity(sys, real, ps, null, null, ref(PA_CLEAR)));
    } else if (op === 5) {
      // CLEAR by ids, system-wide
      log.push(`CLEAR ids ${ids} type ${type}`);
      const s = cpusNamed(m, type, ids);
      if (s.length === 0) want = 'EINVAL';
      else for (const t of m.lwps) {
        if (!t.cpus || !t.cpus.some((c) => s.includes(c))) continue;
        if (permitted(caller, t)) t.cpus = null; else want = 'EPERM';
      }
      got = errnoOf(() => processorAffinity(sys, real, null, ref(ids.length), ids, ref(PA_CLEAR | type)));
    } else if (op === 6) {
      // off-line a CPU (forced sometimes) or on-line one
      const c = R(NCPU);
      const forced = R(3) === 0;
      if (m.online.has(c) && R(3) > 0) {
        log.push(`OFFLINE ${c} forced=${forced}`);
        const blocked = m.lwps.some((t) => t.cpus && t.strong && t.cpus.length === 1 && t.cpus[0] === c);
        if (m.online.size === 1 || (blocked && !forced)) want = 'EBUSY';
        else {
          m.online.delete(c);
          for (const t of m.lwps) if (t.cpus?.includes(c)) t.cpus = t.cpus.length === 1 ? null : t.cpus.filter((x) => x !== c);
        }
        got = errnoOf(() => pOnline(sys, root, c, P_OFFLINE | (forced ? P_FORCED : 0)));
      } else {
        log.push(`ONLINE ${c}`);
        m.online.add(c);
        got = errnoOf(() => pOnline(sys, root, c, P_ONLINE));
      }
    } else if (op === 7) {
      log.push(`FORK by ${key(caller.pid, caller.tid)}`);
      const child = fork(sys.procs, real).lwps[0];
      const keep = caller.cpus && !(caller.inh & PA_INH_FORK);
      m.lwps.push({ pid: child.proc.pid, tid: 1, uid: caller.uid, priv: caller.priv, cpus: keep ? caller.cpus : null, strong: caller.strong, inh: caller.inh });
      got = 'ok';
    } else if (op === 8) {
      log.push(`THR_CREATE by ${key(caller.pid, caller.tid)}`);
      const t = thrCreate(sys.procs, real);
      const keep = caller.cpus && !(caller.inh & PA_INH_THR);
      m.lwps.push({ pid: caller.pid, tid: t.tid, uid: caller.uid, priv: caller.priv, cpus: keep ? caller.cpus : null, strong: caller.strong, inh: caller.inh });
      got = 'ok';
    } else {
      log.push(`EXEC by ${key(caller.pid, caller.tid)}`);
      exec(sys.procs, real);
      m.lwps = m.lwps.filter((t) => t.pid !== caller.pid || t === caller);
      caller.tid = 1;
      if (caller.inh & PA_INH_EXEC) caller.cpus = null;
      got = 'ok';
    }
    m.lwps.sort((a, b) => a.pid - b.pid || a.tid - b.tid);
    const where = `seed ${seed} step ${step}: ${log.slice(-3).join(' ; ')}`;
    expect(got, where).toBe(want);
    const modelState = m.lwps.map((t) => `${key(t.pid, t.tid)}:${t.cpus ? `${t.strong ? 'S' : 'W'}${t.inh}[${t.cpus}]` : '-'}`);
    const realState = sys.procs.procs.filter((p) => !p.system && p.state === 'SRUN').flatMap((p) => p.lwps.map((t) => {
      const cpus = t.aff.mask >= 0 ? sys.masks.view(t.aff.mask).toArray() : null;
      const inh = t.aff.flags & (PA_INH_EXEC | PA_INH_FORK | PA_INH_THR);
      return `${key(p.pid, t.tid)}:${cpus ? `${t.aff.flags & PA_AFF_STRONG ? 'S' : 'W'}${inh}[${cpus}]` : '-'}`;
    }));
    expect(realState, where).toEqual(modelState);
    checkRecords(sys, where);
  }
  // everything cleared: no affinity record and no interned mask is left behind
  processorAffinity(sys, root, setprocset(POP_AND, P_ALL, 0, P_ALL, 0), null, null, ref(PA_CLEAR));
  processorAffinity(sys, root, setprocset(POP_AND, P_PID, 1, P_ALL, 0), null, null, ref(PA_CLEAR));
  expect([sys.procs.affinities.size, sys.masks.size]).toEqual([0, 0]);
}

/** Holder counts match the LWPs pointing at each record; each record holds one mask reference. */
function checkRecords(sys: ReturnType<typeof h1>['sys'], where: string): void {
  const holders = new Map<unknown, number>();
  for (const t of sys.procs.lwps) if (t.aff.mask >= 0) holders.set(t.aff, (holders.get(t.aff) ?? 0) + 1);
  const refs = new Map<number, number>();
  for (const a of sys.procs.affinities) {
    expect(a.holders, where).toBe(holders.get(a) ?? 0);
    refs.set(a.mask, (refs.get(a.mask) ?? 0) + 1);
  }
  for (const a of holders.keys()) expect(sys.procs.affinities.has(a as never), where).toBe(true);
  for (const [m, n] of refs) expect(sys.masks.refCount(m), where).toBe(n);
}

describe('differential against a model written from the spec', () => {
  for (let seed = 1; seed <= 24; seed++) it(`seed ${seed}`, () => run(seed, 250));
});
