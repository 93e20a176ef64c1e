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
import { partitionOf, type Affinity, type Lwp } from './process.js';
import type { Lgroup } from './groups.js';
import type { SolarisSystem } from './system.js';

/** Global priorities 0…169 (TS/IA 0–59, SYS 60–99, RT 100–159, interrupts 160–169). */
export const MAX_PRI = 169;

export interface TickStats {
  tick: number;
  /** Runnable LWPs the tick had to look at before every CPU was taken (or all of them). */
  considered: number;
  /** LWPs that ran this tick. */
  ran: number;
  /** Runnable LWPs that found no CPU they may use. */
  waiting: number;
  /** Weak-affinity LWPs that ran outside their preferred CPUs. */
  spilled: number;
  /** LWPs that ran outside their home lgroup (taken by an idle CPU of another lgroup). */
  stolen: number;
}

export interface Dispatcher {
  readonly sys: SolarisSystem;
  tick: number;
  /** Per CPU: the LWP it ran in the last tick, or null. */
  readonly running: (Lwp | null)[];
  /** Runnable-order: by priority level, round-robin inside a level. */
  order: Lwp[];
  /** LWPs were created or priorities changed since the order was last sorted. */
  unsorted: boolean;
  readonly free: CpuMask;
  readonly tmp: CpuMask;
  readonly tmp2: CpuMask;
}

/** A dispatcher over a booted system; it follows LWPs as they are created and exit. */
export function createDispatcher(sys: SolarisSystem): Dispatcher {
  const e = sys.engine;
  const d: Dispatcher = {
    sys, tick: 0, running: new Array(e.nrCpuIds).fill(null),
    order: sys.procs.lwps.filter((t) => !t.proc.system), unsorted: true, free: e.cpumask(), tmp: e.cpumask(), tmp2: e.cpumask(),
  };
  sys.procs.listeners.push((ev, t) => {
    if (ev === 'create' && !t.proc.system) {
      d.order.push(t);
      d.unsorted = true;
    }
  });
  return d;
}

/** Sets an LWP's global priority (0…MAX_PRI). */
export function setPriority(d: Dispatcher, t: Lwp, pri: number): void {
  if (!Number.isInteger(pri) || pri < 0 || pri > MAX_PRI) fail('EINVAL', `priority ${pri} is not in 0..${MAX_PRI}`);
  t.pri = pri;
  d.unsorted = true;
}

/** Puts an LWP to sleep or wakes it (it is then considered from the next tick). */
export function setRunnable(t: Lwp, runnable: boolean): void {
  t.runnable = runnable;
}

/** Live LWPs by priority, highest first, keeping the previous order inside a level (counting sort). */
function byPriority(order: Lwp[]): Lwp[] {
  const count = new Int32Array(MAX_PRI + 2);
  let n = 0;
  for (const t of order) if (t.slot >= 0) (count[MAX_PRI - t.pri + 1]++, n++);
  for (let p = 1; p <= MAX_PRI + 1; p++) count[p] += count[p - 1];
  const out = new Array<Lwp>(n);
  for (const t of order) if (t.slot >= 0) out[count[MAX_PRI - t.pri]++] = t;
  return out;
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
  /** LWPs without affinity homed per lgroup (lgrp_choose by load). */
  readonly load: Int32Array;
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
    } else score = -tk.load[g.id];
    if (best < 0 || score > bestScore) (best = g.id, bestScore = score);
  }
  if (t.aff.mask >= 0) st.home = best;
  else {
    if (t.home >= 0) tk.load[t.home]--;
    tk.load[best]++;
  }
  return best;
}

/** An idle CPU of the set for `t`: its last CPU (cache-warm), else one of its home lgroup, else any; -1 if none. */
function idleCpu(tk: Tick, t: Lwp, st: SetState, home: number): number {
  if (st.exhausted) return -1;
  const { engine, groups } = tk.d.sys;
  const k = engine.k;
  const n = engine.nrCpuIds;
  const free = tk.d.free.handle;
  if (t.lastCpu >= 0 && k.testBit(free, t.lastCpu) && k.testBit(st.cpus, t.lastCpu)) return t.lastCpu;
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
  const k = sys.engine.k;
  const stats: TickStats = { tick: ++d.tick, considered: 0, ran: 0, waiting: 0, spilled: 0, stolen: 0 };
  d.running.fill(null);
  d.free.copy(sys.active);
  let idle = d.free.weight();
  const order = d.unsorted ? byPriority(d.order) : d.order.filter((t) => t.slot >= 0);
  d.unsorted = false;
  const ran = new Uint8Array(order.length);
  const tk: Tick = {
    d, leaves: sys.groups.lgroups.filter((g) => g.leaf), load: new Int32Array(sys.groups.lgroups.length),
    byAffinity: new Map(), byPartition: new Map(), interned: [],
  };
  for (const t of order) if (t.home >= 0 && t.aff.mask < 0) tk.load[t.home]++;
  let i = 0;
  try {
    for (; i < order.length && idle > 0; i++) {
      const t = order[i];
      if (!t.runnable) continue;
      stats.considered++;
      const st = setOf(tk, t);
      const home = (t.home = homeOf(tk, t, st));
      let cpu = idleCpu(tk, t, st, home);
      if (cpu < 0 && t.aff.mask >= 0 && !(t.aff.flags & PA_AFF_STRONG)) {
        const spill = spillOf(tk, t, st);
        if (spill) cpu = idleCpu(tk, t, spill, -1);
        if (cpu >= 0) stats.spilled++;
      }
      if (cpu < 0) {
        stats.waiting++;
        t.queuedOn = queueCpu(tk, t, st, home);
        continue;
      }
      k.clearBit(d.free.handle, cpu);
      idle--;
      d.running[cpu] = t;
      t.queuedOn = -1;
      t.lastCpu = cpu;
      ran[i] = 1;
      stats.ran++;
      if (home >= 0 && sys.groups.cpuLeaf[cpu] !== home) stats.stolen++;
    }
  } finally {
    for (const h of tk.interned) sys.masks.release(h);
  }
  for (; i < order.length; i++) if (order[i].runnable) stats.waiting++;
  d.order = roundRobin(order, ran);
  return stats;
}

/**
 * Inside each priority level, the LWPs that ran move behind those that did not. Only LWPs up to
 * the last one that ran can move; the levels after it are kept as they are.
 */
function roundRobin(order: Lwp[], ran: Uint8Array): Lwp[] {
  const last = ran.lastIndexOf(1);
  if (last < 0) return order;
  const out: Lwp[] = [];
  let s = 0;
  while (s <= last) {
    let e = s;
    while (e < order.length && order[e].pri === order[s].pri) e++;
    for (let j = s; j < e; j++) if (!ran[j]) out.push(order[j]);
    for (let j = s; j < e; j++) if (ran[j]) out.push(order[j]);
    s = e;
  }
  return s < order.length ? out.concat(order.slice(s)) : out;
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
