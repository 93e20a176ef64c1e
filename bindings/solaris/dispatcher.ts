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
import { partitionOf, type Lwp } from './process.js';
import type { Lgroup } from './groups.js';
import type { SolarisSystem } from './system.js';

/** Global priorities 0…169 (TS/IA 0–59, SYS 60–99, RT 100–159, interrupts 160–169). */
export const MAX_PRI = 169;

export interface TickStats {
  tick: number;
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
  /** Per LWP (by object): the CPU whose queue it waits on after the last tick. */
  readonly queued: WeakMap<Lwp, number>;
  /** Runnable-order: by priority level, round-robin inside a level. */
  order: Lwp[];
  readonly free: CpuMask;
  readonly tmp: CpuMask;
  readonly tmp2: CpuMask;
}

/** A dispatcher over a booted system; it follows LWPs as they are created and exit. */
export function createDispatcher(sys: SolarisSystem): Dispatcher {
  const e = sys.engine;
  const d: Dispatcher = {
    sys, tick: 0, running: new Array(e.nrCpuIds).fill(null), queued: new WeakMap(),
    order: sys.procs.lwps.filter((t) => !t.proc.system), free: e.cpumask(), tmp: e.cpumask(), tmp2: e.cpumask(),
  };
  sys.procs.listeners.push((ev, t) => {
    if (ev === 'create' && !t.proc.system) d.order.push(t);
  });
  return d;
}

/** Sets an LWP's global priority (0…MAX_PRI). */
export function setPriority(t: Lwp, pri: number): void {
  if (!Number.isInteger(pri) || pri < 0 || pri > MAX_PRI) fail('EINVAL', `priority ${pri} is not in 0..${MAX_PRI}`);
  t.pri = pri;
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
 * The home lgroup an LWP's CPUs suggest (spec §8.2-1): the leaf holding most of them, ties to
 * the lowest id. Unbound LWPs keep the one they were given while it has CPUs in their set,
 * else they get the leaf of their set with fewest LWPs homed there (lgrp_choose by load).
 */
function homeOf(d: Dispatcher, t: Lwp, allowed: number, memo: Map<number, number>, load: Int32Array, leaves: Lgroup[]): number {
  const { sys } = d;
  const k = sys.engine.k;
  const n = sys.engine.nrCpuIds;
  if (t.aff.mask < 0 && t.home >= 0 && k.intersects(sys.groups.lgroups[t.home].cpus.handle, allowed, n)) return t.home;
  let h = t.aff.mask >= 0 ? memo.get(allowed) : undefined;
  if (h === undefined) {
    let best = -1;
    let bestScore = -1;
    for (const g of leaves) {
      k.and(d.tmp2.handle, g.cpus.handle, allowed, sys.engine.cpuWords);
      const w = k.weight(d.tmp2.handle, n);
      if (w === 0) continue;
      const score = t.aff.mask >= 0 ? w : -load[g.id];
      if (best < 0 || score > bestScore) (best = g.id, bestScore = score);
    }
    h = best;
    if (t.aff.mask >= 0) memo.set(allowed, h);
  }
  return h;
}

/**
 * An idle CPU in `allowed` for `t`: its last CPU, else one of its home lgroup, else any; -1 if
 * none. `exhausted` remembers sets with no idle CPU left this tick (idle CPUs only get fewer).
 */
function idleCpu(d: Dispatcher, t: Lwp, allowed: number, home: number, exhausted: Set<number>): number {
  if (exhausted.has(allowed)) return -1;
  const e = d.sys.engine;
  const k = e.k;
  const n = e.nrCpuIds;
  const free = d.free.handle;
  if (t.lastCpu >= 0 && k.testBit(free, t.lastCpu) && k.testBit(allowed, t.lastCpu)) return t.lastCpu;
  const tmp = d.tmp.handle;
  k.and(tmp, allowed, free, e.cpuWords);
  if (home >= 0) {
    k.and(d.tmp2.handle, tmp, d.sys.groups.lgroups[home].cpus.handle, e.cpuWords);
    const c = k.first(d.tmp2.handle, n);
    if (c < n) return c;
  }
  const c = k.first(tmp, n);
  if (c < n) return c;
  exhausted.add(allowed);
  return -1;
}

/** Runs one tick (spec §8.2): returns what happened; `whereIs` reads the placement. */
export function dispatchTick(d: Dispatcher): TickStats {
  const { sys } = d;
  const k = sys.engine.k;
  const n = sys.engine.nrCpuIds;
  const stats: TickStats = { tick: ++d.tick, ran: 0, waiting: 0, spilled: 0, stolen: 0 };
  d.running.fill(null);
  d.free.copy(sys.active);
  let idle = d.free.weight();
  const order = byPriority(d.order);
  const ran = new Uint8Array(order.length);
  const exhausted = new Set<number>();
  const spillSets = new Map<number, number>();
  const homeMemo = new Map<number, number>();
  const load = new Int32Array(sys.groups.lgroups.length);
  const leaves = sys.groups.lgroups.filter((g) => g.leaf);
  const interned: number[] = [];
  for (const t of order) if (t.home >= 0 && t.aff.mask < 0) load[t.home]++;
  let i = 0;
  try {
    for (; i < order.length && idle > 0; i++) {
      const t = order[i];
      if (!t.runnable) continue;
      const part = sys.parts.get(partitionOf(t))!.active.handle;
      const allowed = t.aff.mask >= 0 ? t.aff.mask : part;
      const home = homeOf(d, t, allowed, homeMemo, load, leaves);
      if (t.aff.mask < 0 && home !== t.home) {
        if (t.home >= 0) load[t.home]--;
        load[home]++;
      }
      t.home = home;
      let cpu = idleCpu(d, t, allowed, home, exhausted);
      const weak = t.aff.mask >= 0 && !(t.aff.flags & PA_AFF_STRONG);
      if (cpu < 0 && weak) {
        // best-effort spill: the rest of its processor set (interned once per preferred set)
        let rest = spillSets.get(t.aff.mask);
        if (rest === undefined) {
          k.andNot(d.tmp.handle, part, t.aff.mask, sys.engine.cpuWords);
          rest = k.empty(d.tmp.handle, n) ? -1 : sys.masks.intern(d.tmp.handle);
          if (rest >= 0) interned.push(rest);
          spillSets.set(t.aff.mask, rest);
        }
        if (rest >= 0) cpu = idleCpu(d, t, rest, -1, exhausted);
        if (cpu >= 0) stats.spilled++;
      }
      if (cpu < 0) {
        stats.waiting++;
        d.queued.set(t, queueCpu(d, t, allowed, home));
        continue;
      }
      k.clearBit(d.free.handle, cpu);
      idle--;
      d.running[cpu] = t;
      d.queued.delete(t);
      t.lastCpu = cpu;
      ran[i] = 1;
      stats.ran++;
      if (home >= 0 && sys.groups.cpuLeaf[cpu] !== home) stats.stolen++;
    }
  } finally {
    for (const h of interned) sys.masks.release(h);
  }
  for (; i < order.length; i++) if (order[i].runnable) stats.waiting++;
  d.order = roundRobin(order, ran);
  return stats;
}

/** The CPU whose queue a waiting LWP sits on: its last CPU if allowed, else the first of its home lgroup. */
function queueCpu(d: Dispatcher, t: Lwp, allowed: number, home: number): number {
  const e = d.sys.engine;
  const k = e.k;
  if (t.lastCpu >= 0 && k.testBit(allowed, t.lastCpu)) return t.lastCpu;
  if (home >= 0) {
    k.and(d.tmp.handle, allowed, d.sys.groups.lgroups[home].cpus.handle, e.cpuWords);
    const c = k.first(d.tmp.handle, e.nrCpuIds);
    if (c < e.nrCpuIds) return c;
  }
  return k.first(allowed, e.nrCpuIds);
}

/** Inside each priority level, the LWPs that ran move behind those that did not. */
function roundRobin(order: Lwp[], ran: Uint8Array): Lwp[] {
  const out: Lwp[] = [];
  for (let s = 0; s < order.length;) {
    let e = s;
    while (e < order.length && order[e].pri === order[s].pri) e++;
    for (let j = s; j < e; j++) if (!ran[j]) out.push(order[j]);
    for (let j = s; j < e; j++) if (ran[j]) out.push(order[j]);
    s = e;
  }
  return out;
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
  return { state: 'waiting', cpu: d.queued.get(t) ?? -1 };
}
