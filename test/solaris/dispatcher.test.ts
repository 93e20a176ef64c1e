// Spec solaris-affinity.md §8.3 scheduling vectors S1–S7, plus priorities, round-robin and scale.
import { describe, expect, it } from 'vitest';
import { PA_AFF_STRONG, PA_AFF_WEAK, PA_NEGATIVE, PA_TYPE_CPU } from '../../bindings/solaris/affinity.js';
import { createDispatcher, dispatchTick, setPriority, setRunnable, whereIs } from '../../bindings/solaris/dispatcher.js';
import { createProcess, lwpExit, makeCred, thrCreate, type Lwp } from '../../bindings/solaris/process.js';
import { P_ALL, P_LWPID, P_MYID, P_PID, P_TASKID, POP_AND, setprocset } from '../../bindings/solaris/procset.js';
import { psetAssign, psetBind, psetCreate } from '../../bindings/solaris/psets.js';
import { bootSolaris, type SolarisSystem } from '../../bindings/solaris/system.js';
import { admin, h1, host, paSet, SELF } from './fixtures.js';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const STRONG = PA_TYPE_CPU | PA_AFF_STRONG;
const WEAK = PA_TYPE_CPU | PA_AFF_WEAK;

/** A new single-LWP process of uid 500 with priority `pri` and (optionally) an affinity. */
function lwpWith(sys: SolarisSystem, pri: number, cpus?: number[], flags = STRONG): Lwp {
  const t = createProcess(sys.procs, { cred: makeCred(500), pri }).lwps[0];
  if (cpus) paSet(sys, t, SELF, cpus, flags);
  return t;
}

/** Keeps every CPU in `cpus` busy with a priority-59 LWP bound there. */
function blockers(sys: SolarisSystem, cpus: number[]): Lwp[] {
  return cpus.map((c) => lwpWith(sys, 59, [c]));
}

function fresh() {
  const { sys } = h1();
  for (const t of sys.procs.lwps) t.runnable = false; // the fixture's processes sleep (no dispatcher yet)
  return sys;
}

describe('§8.3 scheduling vectors', () => {
  it('S1 strong {2,3} never runs on its last CPU 7', () => {
    const sys = fresh();
    const t = lwpWith(sys, 10, [2, 3]);
    t.lastCpu = 7;
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(whereIs(d, t).state).toBe('running');
    expect([2, 3]).toContain(whereIs(d, t).cpu);
  });
  it('S2 strong {2,3} with 2 and 3 busy at higher priority waits on 2 or 3, with 8–15 idle', () => {
    const sys = fresh();
    blockers(sys, [2, 3]);
    const t = lwpWith(sys, 10, [2, 3]);
    const d = createDispatcher(sys);
    const s = dispatchTick(d);
    expect(whereIs(d, t).state).toBe('waiting');
    expect([2, 3]).toContain(whereIs(d, t).cpu);
    expect(d.running.slice(8).every((x) => x === null)).toBe(true);
    expect(s.waiting).toBe(1);
  });
  it('S3 weak {2,3} spills to the idle CPU 8 and returns when 2 is free', () => {
    const sys = fresh();
    const bs = blockers(sys, [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]);
    const t = lwpWith(sys, 10, [2, 3], WEAK);
    const d = createDispatcher(sys);
    expect(dispatchTick(d).spilled).toBe(1);
    expect(whereIs(d, t)).toEqual({ state: 'running', cpu: 8 });
    setRunnable(d, bs[2], false);
    dispatchTick(d);
    expect(whereIs(d, t)).toEqual({ state: 'running', cpu: 2 });
  });
  it('S4 weak {2,3} with 2 idle runs on 2', () => {
    const sys = fresh();
    blockers(sys, [3]);
    const t = lwpWith(sys, 10, [2, 3], WEAK);
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(whereIs(d, t)).toEqual({ state: 'running', cpu: 2 });
  });
  it('S5 strong-negative {0–7} runs on one of 8–15', () => {
    const sys = fresh();
    const ts = Array.from({ length: 8 }, () => lwpWith(sys, 10, [0, 1, 2, 3, 4, 5, 6, 7], STRONG | PA_NEGATIVE));
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(ts.map((t) => whereIs(d, t).cpu).sort((a, b) => a - b)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });
  it('S6 strong {12} inside pset {12–15} with 12 busy waits on 12', () => {
    const sys = fresh();
    const root = admin(sys);
    root.runnable = false;
    const ps = psetCreate(sys, root);
    for (const c of [12, 13, 14, 15]) psetAssign(sys, root, ps, c);
    const b = lwpWith(sys, 59);
    const t = lwpWith(sys, 10);
    psetBind(sys, root, ps, P_PID, b.proc.pid);
    psetBind(sys, root, ps, P_PID, t.proc.pid);
    paSet(sys, b, SELF, [12], STRONG);
    paSet(sys, t, SELF, [12], STRONG);
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(whereIs(d, b)).toEqual({ state: 'running', cpu: 12 });
    expect(whereIs(d, t)).toEqual({ state: 'waiting', cpu: 12 });
  });
  it('S7 an idle CPU steals unbound or weak LWPs, never a strong-{2,3} one', () => {
    const sys = fresh();
    blockers(sys, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]);
    const strong = lwpWith(sys, 20, [2, 3]);
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(whereIs(d, strong).state).toBe('waiting');
    expect(d.running[9]).toBe(null);
    const weak = lwpWith(sys, 10, [2, 3], WEAK);
    const none = lwpWith(sys, 10);
    const taken = new Set<Lwp>();
    for (let i = 0; i < 4; i++) {
      dispatchTick(d);
      expect(d.running[9]).not.toBe(strong);
      taken.add(d.running[9]!);
    }
    expect(taken).toEqual(new Set([weak, none]));
  });
});

describe('dispatcher behaviour', () => {
  it('higher priority first; equal priorities share the CPUs round-robin', () => {
    const sys = fresh();
    const hi = lwpWith(sys, 30, [5]);
    const lo = [lwpWith(sys, 10, [5]), lwpWith(sys, 10, [5])];
    const d = createDispatcher(sys);
    for (let i = 0; i < 3; i++) {
      dispatchTick(d);
      expect(d.running[5]).toBe(hi);
    }
    setRunnable(d, hi, false);
    const seen = [1, 2, 3, 4].map(() => (dispatchTick(d), d.running[5]));
    expect(seen).toEqual([lo[0], lo[1], lo[0], lo[1]]);
    setPriority(d, lo[1], 40);
    expect([1, 2, 3].map(() => (dispatchTick(d), d.running[5]))).toEqual([lo[1], lo[1], lo[1]]);
    expect(() => setPriority(d, lo[1], 170)).toThrow(/EINVAL/);
  });
  it('an LWP created by thr_create is dispatched; one that exited is not; a new affinity moves it', () => {
    const sys = fresh();
    const t = lwpWith(sys, 10, [4]);
    const d = createDispatcher(sys);
    const u = thrCreate(sys.procs, t);
    dispatchTick(d);
    expect([whereIs(d, t).state, whereIs(d, u).state]).toEqual(['running', 'waiting']);
    lwpExit(sys.procs, t);
    dispatchTick(d);
    expect(d.running[4]).toBe(u);
    expect(d.running.filter((x) => x !== null)).toEqual([u]);
    paSet(sys, u, setprocset(POP_AND, P_PID, P_MYID, P_LWPID, P_MYID), [6], STRONG);
    dispatchTick(d);
    expect(whereIs(d, u)).toEqual({ state: 'running', cpu: 6 });
  });
  it('homes an affinity on the leaf lgroup holding most of its CPUs, counts steals across lgroups', () => {
    const sys = fresh();
    const t = lwpWith(sys, 10, [6, 7, 8, 9, 10], WEAK);
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect(t.home).toBe(2);
    expect(whereIs(d, t).cpu).toBe(8);
  });
  it('an LWP taken by another lgroup goes back to its home lgroup rather than staying (spec §8.1-3)', () => {
    const sys = fresh();
    const x = lwpWith(sys, 10);
    const d = createDispatcher(sys);
    dispatchTick(d);
    expect([x.home, whereIs(d, x).cpu]).toEqual([1, 0]);
    const bs = blockers(sys, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(dispatchTick(d).stolen).toBe(1);
    expect(whereIs(d, x).cpu).toBe(8);
    setRunnable(d, bs[5], false);
    dispatchTick(d);
    expect(whereIs(d, x)).toEqual({ state: 'running', cpu: 5 });
  });
  it('runs 100,000 LWPs on 4096 CPUs within their affinities', () => {
    const sys = bootSolaris({ topology: host(4, 512, 2, 4) });
    const d = createDispatcher(sys);
    const root = admin(sys);
    setRunnable(d, root, false);
    for (let p = 0; p < 10_000; p++) createProcess(sys.procs, { cred: makeCred(500), taskid: p % 10, pri: p % 3, tids: range(1, 10) });
    paSet(sys, root, setprocset(POP_AND, P_TASKID, 1, P_ALL, 0), range(0, 63), STRONG);
    paSet(sys, root, setprocset(POP_AND, P_TASKID, 2, P_ALL, 0), range(1024, 2047), WEAK);
    paSet(sys, root, setprocset(POP_AND, P_TASKID, 3, P_ALL, 0), range(0, 1023), STRONG | PA_NEGATIVE);
    const s = dispatchTick(d);
    expect([s.ran, s.ran + s.waiting]).toEqual([4096, 100_000 + 1]); // + init
    const k = sys.engine.k;
    for (let c = 0; c < 4096; c++) {
      const t = d.running[c]!;
      expect(t.lastCpu).toBe(c);
      if (t.aff.mask >= 0 && t.aff.flags & PA_AFF_STRONG) expect(k.testBit(t.aff.mask, c)).toBe(1);
    }
    // the 10,000 strong-{0-63} LWPs hold exactly CPUs 0-63 between them (priority permitting)
    const strong = d.running.filter((t) => t!.proc.taskid === 1).map((t) => t!.lastCpu);
    expect(strong.every((c) => c < 64)).toBe(true);
  });
});
