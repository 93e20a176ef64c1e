/**
 * A discrete-time dispatcher: who runs where, one tick at a time. It is what makes strong, weak
 * and negative affinity observable. Spec solaris-affinity.md §8.1 (what disp.c does) and §8.2
 * (the affinity-aware extension; vectors §8.3).
 *
 * Each tick every active CPU runs at most one LWP for one quantum. Runnable LWPs are considered
 * by global priority, highest first, round-robin within a priority (an LWP that ran goes to the
 * back of its level) — the discrete-time equivalent of per-CPU dispatch queues with preemption.
 * For each LWP the CPU is chosen as disp_lowpri_cpu would among idle CPUs: its last CPU if still
 * allowed and idle (cache warmth), else an idle CPU of its home lgroup, else any idle CPU it may
 * use — the latter is an idle CPU of another lgroup stealing it (disp_getwork). Allowed CPUs:
 * strong affinity ⇒ only its CPUs (a single CPU is a processor binding); weak ⇒ its CPUs first,
 * then (spill) the rest of its processor set, returning to its CPUs as soon as one is free;
 * negative affinity was folded into the positive set at SET time; no affinity ⇒ its set.
 * An LWP that finds no CPU waits on the queue of a CPU it may use.
 *
 * Per-LWP state is the LWP's own (`runnable`, `lastCpu`, `home`); CPU sets are interned mask
 * handles and all set arithmetic runs in the engine's kernels.
 */
import { fail } from '../errors.js';
import type { CpuMask } from '../mask/cpumask.js';
import { PA_AFF_STRONG } from './affinity.js';
import { MAX_PRI, partitionOf, type Affinity, type Lwp } from './process.js';
import type { Lgroup } from './groups.js';
import type { SolarisSystem } from './system.js';


export interface TickStats {
  tick: number;
  /** Runnable LWPs the tick had to look at before every CPU was taken (or all of them). */
  considered: number;
  /** LWPs that ran this tick. */
  ran: number;
  /** Runnable LWPs that did not run (no CPU they may use was left for them). */
  waiting: number;
  /** Weak-affinity LWPs that ran outside their preferred CPUs. */
  spilled: number;
  /** LWPs that ran outside their home lgroup (taken by an idle CPU of another lgroup). */
  stolen: number;
}

/**
 * One priority level's dispatch queue: a ring of LWPs in round-robin order (disp_t's per-priority
 * queues, folded over all CPUs). Exited LWPs are dropped when they come up.
 */
interface Level {
  buf: (Lwp | undefined)[];
  head: number;
  size: number;
}

function pushBack(q: Level, t: Lwp): void {
  if (q.size === q.buf.length) grow(q);
  q.buf[(q.head + q.size++) & (q.buf.length - 1)] = t;
}

function pushFront(q: Level, t: Lwp): void {
  if (q.size === q.buf.length) grow(q);
  q.head = (q.head - 1) & (q.buf.length - 1);
  q.buf[q.head] = t;
  q.size++;
}

function popFront(q: Level): Lwp {
  const t = q.buf[q.head]!;
  q.buf[q.head] = undefined;
  q.head = (q.head + 1) & (q.buf.length - 1);
  q.size--;
  return t;
}

function grow(q: Level): void {
  const buf = new Array<Lwp | undefined>(Math.max(16, q.buf.length * 2));
  for (let i = 0; i < q.size; i++) buf[i] = q.buf[(q.head + i) & (q.buf.length - 1)];
  q.buf = buf;
  q.head = 0;
}

export interface Dispatcher {
  readonly sys: SolarisSystem;
  tick: number;
  /** Per CPU: the LWP it ran in the last tick, or null. */
  readonly running: (Lwp | null)[];
  /** Per global priority: its queue, in round-robin order. */
  readonly levels: Level[];
  /** Runnable LWPs (kept by the lifecycle listener and {@link setRunnable}). */
  runnable: number;
  /** LWPs homed per lgroup id (lgrp_choose balances on it). */
  readonly load: Int32Array;
  readonly free: CpuMask;
  readonly tmp: CpuMask;
  readonly tmp2: CpuMask;
}

/** A dispatcher over a booted system; it follows LWPs as they are created and exit. */
export function createDispatcher(sys: SolarisSystem): Dispatcher {
  const e = sys.engine;
  const d: Dispatcher = {
    sys, tick: 0, running: new Array(e.nrCpuIds).fill(null),
    levels: Array.from({ length: MAX_PRI + 1 }, () => ({ buf: [], head: 0, size: 0 })), runnable: 0,
    load: new Int32Array(sys.groups.lgroups.length), free: e.cpumask(), tmp: e.cpumask(), tmp2: e.cpumask(),
  };
  const track = (t: Lwp, n: number) => {
    if (t.runnable) d.runnable += n;
    if (t.home >= 0) d.load[t.home] += n;
  };
  for (const t of sys.procs.lwps) {
    if (t.proc.system) continue;
    pushBack(d.levels[t.pri], t);
    track(t, 1);
  }
  sys.procs.listeners.push((ev, t) => {
    if (t.proc.system) return;
    if (ev === 'create') pushBack(d.levels[t.pri], t);
    track(t, ev === 'create' ? 1 : -1);
  });
  return d;
}

/** Sets an LWP's global priority (0…MAX_PRI); it joins the back of its new level's queue. */
export function setPriority(d: Dispatcher, t: Lwp, pri: number): void {
  if (!Number.isInteger(pri) || pri < 0 || pri > MAX_PRI) fail('EINVAL', `priority ${pri} is not in 0..${MAX_PRI}`);
  if (pri === t.pri) return;
  const q = d.levels[t.pri];
  for (let n = q.size; n > 0; n--) {
    const x = popFront(q);
    if (x !== t) pushBack(q, x);
  }
  t.pri = pri;
  if (t.slot >= 0) pushBack(d.levels[pri], t);
}

/** Puts an LWP to sleep or wakes it (it is then considered from the next tick). */
export function setRunnable(d: Dispatcher, t: Lwp, runnable: boolean): void {
  if (t.runnable === runnable) return;
  t.runnable = runnable;
  if (t.slot >= 0 && !t.proc.system) d.runnable += runnable ? 1 : -1;
}

/**
 * What a tick knows about one CPU set LWPs may run on — an affinity record's CPUs, the spill set
 * of a weak one, or a partition for LWPs without affinity. Every answer stays valid for the
 * whole tick because idle CPUs only get fewer (spec §8.2 gives the choices).
 */
interface SetState {
  /** Mask handle. */
  readonly cpus: number;
  /** No idle CPU left in it. */
  exhausted: boolean;
  /** Home lgroup of an affinity (-2 = not computed yet). */
  home: number;
  /** Per lgroup id: does it hold CPUs of the set (0 unknown, 1 yes, -1 no)? */
  readonly holds: Int8Array;
  /** Per home lgroup + 1: the CPU a waiting LWP queues on (-2 = not computed yet). */
  readonly queue: Int32Array;
  /** Weak affinities: the state of the rest of the partition (undefined = not computed, null = empty). */
  spill: SetState | null | undefined;
}

interface Tick {
  readonly d: Dispatcher;
  readonly leaves: Lgroup[];
  readonly byAffinity: Map<Affinity, SetState>;
  readonly byPartition: Map<number, SetState>;
  /** Spill masks interned for this tick (released at its end). */
  readonly interned: number[];
}

function newSetState(t: Tick, cpus: number): SetState {
  const nl = t.d.sys.groups.lgroups.length;
  return { cpus, exhausted: false, home: -2, holds: new Int8Array(nl), queue: new Int32Array(nl + 1).fill(-2), spill: undefined };
}

/** The set an LWP may run on (or prefers, when weak). */
function setOf(tk: Tick, t: Lwp): SetState {
  if (t.aff.mask >= 0) {
    let st = tk.byAffinity.get(t.aff);
    if (!st) tk.byAffinity.set(t.aff, (st = newSetState(tk, t.aff.mask)));
    return st;
  }
  const part = partitionOf(t);
  let st = tk.byPartition.get(part);
  if (!st) tk.byPartition.set(part, (st = newSetState(tk, tk.d.sys.parts.get(part)!.active.handle)));
  return st;
}

/** The rest of a weak affinity's partition: where it may spill (spec §8.2-1). */
function spillOf(tk: Tick, t: Lwp, st: SetState): SetState | null {
  if (st.spill === undefined) {
    const { sys } = tk.d;
    const k = sys.engine.k;
    const tmp = tk.d.tmp.handle;
    k.andNot(tmp, sys.parts.get(partitionOf(t))!.active.handle, st.cpus, sys.engine.cpuWords);
    if (k.empty(tmp, sys.engine.nrCpuIds)) st.spill = null;
    else {
      const h = sys.masks.intern(tmp);
      tk.interned.push(h);
      st.spill = newSetState(tk, h);
    }
  }
  return st.spill;
}

function holds(tk: Tick, st: SetState, lgrp: number): boolean {
  if (st.holds[lgrp] === 0) {
    const { engine, groups } = tk.d.sys;
    st.holds[lgrp] = engine.k.intersects(groups.lgroups[lgrp].cpus.handle, st.cpus, engine.nrCpuIds) ? 1 : -1;
  }
  return st.holds[lgrp] > 0;
}

/**
 * The home lgroup (spec §8.2-1, §6.4): with an affinity, the leaf holding most of its CPUs (ties
 * to the lowest id); without, the one it has while that still has CPUs in its set, else the
 * leaf of its set with fewest LWPs homed there (lgrp_choose by load).
 */
function homeOf(tk: Tick, t: Lwp, st: SetState): number {
  if (t.aff.mask >= 0 && st.home !== -2) return st.home;
  if (t.aff.mask < 0 && t.home >= 0 && holds(tk, st, t.home)) return t.home;
  const { engine } = tk.d.sys;
  const k = engine.k;
  const tmp = tk.d.tmp2.handle;
  let best = -1;
  let bestScore = 0;
  for (const g of tk.leaves) {
    if (!holds(tk, st, g.id)) continue;
    let score: number;
    if (t.aff.mask >= 0) {
      k.and(tmp, g.cpus.handle, st.cpus, engine.cpuWords);
      score = k.weight(tmp, engine.nrCpuIds);
    } else score = -tk.d.load[g.id];
    if (best < 0 || score > bestScore) (best = g.id, bestScore = score);
  }
  if (t.aff.mask >= 0) st.home = best;
  return best;
}

/** An idle CPU of the set for `t`: its last CPU (cache-warm, in its home lgroup), else one of its home lgroup, else any; -1 if none. */
function idleCpu(tk: Tick, t: Lwp, st: SetState, home: number): number {
  if (st.exhausted) return -1;
  const { engine, groups } = tk.d.sys;
  const k = engine.k;
  const n = engine.nrCpuIds;
  const free = tk.d.free.handle;
  // stay where it last ran while that is idle, allowed and inside its home lgroup (spec §8.1-3)
  const last = t.lastCpu;
  if (last >= 0 && (home < 0 || groups.cpuLeaf[last] === home) && k.testBit(free, last) && k.testBit(st.cpus, last)) return last;
  const tmp = tk.d.tmp.handle;
  k.and(tmp, st.cpus, free, engine.cpuWords);
  if (home >= 0) {
    k.and(tk.d.tmp2.handle, tmp, groups.lgroups[home].cpus.handle, engine.cpuWords);
    const c = k.first(tk.d.tmp2.handle, n);
    if (c < n) return c;
  }
  const c = k.first(tmp, n);
  if (c < n) return c;
  st.exhausted = true;
  return -1;
}

/** The CPU whose queue a waiting LWP sits on: its last CPU if allowed, else the first of its home lgroup. */
function queueCpu(tk: Tick, t: Lwp, st: SetState, home: number): number {
  const { engine, groups } = tk.d.sys;
  const k = engine.k;
  if (t.lastCpu >= 0 && k.testBit(st.cpus, t.lastCpu)) return t.lastCpu;
  if (st.queue[home + 1] === -2) {
    let c = engine.nrCpuIds;
    if (home >= 0) {
      k.and(tk.d.tmp.handle, st.cpus, groups.lgroups[home].cpus.handle, engine.cpuWords);
      c = k.first(tk.d.tmp.handle, engine.nrCpuIds);
    }
    st.queue[home + 1] = c < engine.nrCpuIds ? c : k.first(st.cpus, engine.nrCpuIds);
  }
  return st.queue[home + 1];
}

/** Runs one tick (spec §8.2): returns what happened; `whereIs` reads the placement. */
export function dispatchTick(d: Dispatcher): TickStats {
  const { sys } = d;
  const stats: TickStats = { tick: ++d.tick, considered: 0, ran: 0, waiting: 0, spilled: 0, stolen: 0 };
  d.running.fill(null);
  d.free.copy(sys.active);
  let idle = d.free.weight();
  const tk: Tick = { d, leaves: sys.groups.lgroups.filter((g) => g.leaf), byAffinity: new Map(), byPartition: new Map(), interned: [] };
  const kept: Lwp[] = [];
  const ran: Lwp[] = [];
  try {
    for (let p = MAX_PRI; p >= 0 && idle > 0; p--) {
      const q = d.levels[p];
      for (let n = q.size; n > 0 && idle > 0; n--) {
        const t = popFront(q);
        if (t.slot < 0) continue; // exited
        if (!t.runnable || !placed(tk, t, stats)) {
          kept.push(t);
          continue;
        }
        idle--;
        ran.push(t);
      }
      // round-robin: those that ran go to the back, the others keep their places at the front
      for (const t of ran) pushBack(q, t);
      for (let j = kept.length - 1; j >= 0; j--) pushFront(q, kept[j]);
      ran.length = kept.length = 0;
    }
  } finally {
    for (const h of tk.interned) sys.masks.release(h);
  }
  stats.waiting = d.runnable - stats.ran;
  return stats;
}

/** Finds `t` an idle CPU (spec §8.2) and runs it there; false when it has to wait. */
function placed(tk: Tick, t: Lwp, stats: TickStats): boolean {
  const { d } = tk;
  const { sys } = d;
  stats.considered++;
  const st = setOf(tk, t);
  const home = homeOf(tk, t, st);
  if (home !== t.home) {
    if (t.home >= 0) d.load[t.home]--;
    if (home >= 0) d.load[home]++;
    t.home = home;
  }
  let cpu = idleCpu(tk, t, st, home);
  if (cpu < 0 && t.aff.mask >= 0 && !(t.aff.flags & PA_AFF_STRONG)) {
    const spill = spillOf(tk, t, st);
    if (spill) cpu = idleCpu(tk, t, spill, -1);
    if (cpu >= 0) stats.spilled++;
  }
  if (cpu < 0) {
    t.queuedOn = queueCpu(tk, t, st, home);
    return false;
  }
  sys.engine.k.clearBit(d.free.handle, cpu);
  d.running[cpu] = t;
  t.queuedOn = -1;
  t.lastCpu = cpu;
  stats.ran++;
  if (home >= 0 && sys.groups.cpuLeaf[cpu] !== home) stats.stolen++;
  return true;
}

export interface Placement {
  state: 'running' | 'waiting' | 'sleeping';
  /** The CPU it runs on or waits for; -1 when sleeping or not yet considered. */
  cpu: number;
}

/** Where an LWP is after the last tick. */
export function whereIs(d: Dispatcher, t: Lwp): Placement {
  if (!t.runnable) return { state: 'sleeping', cpu: -1 };
  if (t.lastCpu >= 0 && d.running[t.lastCpu] === t) return { state: 'running', cpu: t.lastCpu };
  return { state: 'waiting', cpu: t.queuedOn };
}
