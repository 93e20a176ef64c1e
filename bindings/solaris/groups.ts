/**
 * Processor groups (PGs) and locality groups (lgroups) derived from the host topology.
 * Spec solaris-affinity.md §6: PG ids from 1 (0 is the pseudo-root "System" that tools synthesise),
 * hardware relationships per core and per socket, the Pg.pm hierarchy rule; lgroup 0 is the root,
 * leaves are the NUMA nodes, intermediate lgroups come from the SLIT's middle latency levels.
 */
import type { Engine } from '../engine.js';
import type { CpuMask } from '../mask/cpumask.js';
import { LOCAL_DISTANCE, type Topology } from '../topology/topology.js';

/** PG relationships as pginfo prints them (spec §6.1); `System` is the pseudo root. */
export type PgRelationship =
  | 'System' | 'Integer_Pipeline' | 'Cache' | 'Floating_Point_Unit' | 'Data_Pipe_to_memory' | 'Socket'
  | 'Memory' | 'CPU_PM_Active_Power_Domain' | 'CPU_PM_Idle_Power_Domain';

/** Pg.pm tie-break weights (spec §6.1): among PGs with equal CPU sets the heavier is the parent. */
const WEIGHT: Record<PgRelationship, number> = {
  CPU_PM_Idle_Power_Domain: 1, Integer_Pipeline: 2, Cache: 3, CPU_PM_Active_Power_Domain: 4,
  Floating_Point_Unit: 5, Data_Pipe_to_memory: 6, Memory: 7, Socket: 8, System: 9,
};

export interface Pg {
  readonly id: number;
  readonly relationship: PgRelationship;
  /** Configured member CPUs, online or not (pginfo lists both, spec §6.1). */
  readonly cpus: CpuMask;
  parent: number;
  readonly children: number[];
}

export interface Lgroup {
  readonly id: number;
  /** -1 for the root. */
  readonly parent: number;
  readonly children: number[];
  readonly leaf: boolean;
  /** NUMA nodes it spans. */
  readonly nodes: number[];
  /** Configured CPUs (all states); lgroup CPU lists show only the active ones (spec §6.4). */
  readonly cpus: CpuMask;
}

export interface Groups {
  /** Indexed by PG id; index 0 is the pseudo root `System`. */
  readonly pgs: Pg[];
  /** Indexed by lgroup id; 0 is the root. */
  readonly lgroups: Lgroup[];
  /** CPU → leaf lgroup id (-1 for a CPU that is not configured). */
  readonly cpuLeaf: Int32Array;
  /** CPU → smallest PG containing it (0 when it shares nothing). */
  readonly cpuLeafPg: Int32Array;
}

export interface GroupOptions {
  /** Relationships created per core with more than one CPU (default Integer_Pipeline). */
  corePgs?: PgRelationship[];
  /** Relationships created per socket with more than one CPU (default Socket). */
  socketPgs?: PgRelationship[];
}

/** Builds PGs and lgroups for a topology (spec §6.1, §6.3, §6.4). */
export function buildGroups(engine: Engine, topo: Topology, opts: GroupOptions = {}): Groups {
  const cpuLeaf = new Int32Array(topo.nrCpuIds).fill(-1);
  const lgroups = buildLgroups(engine, topo, cpuLeaf);
  const pgs = buildPgs(engine, topo, opts);
  const cpuLeafPg = new Int32Array(topo.nrCpuIds);
  // PGs are sorted smallest-first in hierarchy order, so the first containing one is the leaf.
  for (const pg of hierarchyOrder(pgs).reverse()) for (const c of pg.cpus.toArray()) cpuLeafPg[c] = pg.id;
  return { pgs, lgroups, cpuLeaf, cpuLeafPg };
}

function configured(topo: Topology): number[] {
  return topo.cpus.filter((c) => c.state !== 'not-present').map((c) => c.id);
}

/**
 * PG ids are allocated from 1 in creation order: per socket its socket-wide PGs, then per core
 * of that socket its core-wide PGs (the H1 fixture's numbering, spec §12.1). The hierarchy is
 * Pg.pm's: ordered by (CPU count, weight), a PG's parent is the first later PG whose CPUs are a
 * superset; parentless PGs hang under the root 0.
 */
function buildPgs(engine: Engine, topo: Topology, opts: GroupOptions): Pg[] {
  const socketRels = opts.socketPgs ?? ['Socket'];
  const coreRels = opts.corePgs ?? ['Integer_Pipeline'];
  const sockets = new Map<number, Map<number, number[]>>();
  for (const id of configured(topo)) {
    const c = topo.cpus[id];
    let cores = sockets.get(c.socket);
    if (!cores) sockets.set(c.socket, (cores = new Map()));
    const core = cores.get(c.core) ?? [];
    core.push(id);
    cores.set(c.core, core);
  }
  const pgs: Pg[] = [{ id: 0, relationship: 'System', cpus: engine.cpumaskFrom(configured(topo)), parent: -1, children: [] }];
  const add = (relationship: PgRelationship, ids: number[]) => {
    pgs.push({ id: pgs.length, relationship, cpus: engine.cpumaskFrom(ids), parent: 0, children: [] });
  };
  for (const s of [...sockets.keys()].sort((a, b) => a - b)) {
    const cores = sockets.get(s)!;
    const all = [...cores.values()].flat().sort((a, b) => a - b);
    if (all.length > 1) for (const r of socketRels) add(r, all);
    for (const k of [...cores.keys()].sort((a, b) => a - b)) {
      const ids = cores.get(k)!;
      if (ids.length > 1) for (const r of coreRels) add(r, ids);
    }
  }
  linkPgs(pgs, topo.nrCpuIds);
  return pgs;
}

/** Non-root PGs in Pg.pm order: by CPU count, then weight, then id. */
function hierarchyOrder(pgs: Pg[]): Pg[] {
  const n = pgs.map((p) => p.cpus.weight());
  return pgs.slice(1).sort((a, b) => n[a.id] - n[b.id] || WEIGHT[a.relationship] - WEIGHT[b.relationship] || a.id - b.id);
}

function linkPgs(pgs: Pg[], nrCpus: number): void {
  const order = hierarchyOrder(pgs);
  // Candidates for a parent must contain the PG's first CPU: index PGs by CPU to stay O(n·depth).
  const byCpu: number[][] = Array.from({ length: nrCpus }, () => []);
  order.forEach((pg, i) => {
    for (const c of pg.cpus.toArray()) byCpu[c].push(i);
  });
  order.forEach((pg, i) => {
    const parent = byCpu[pg.cpus.first()].find((j) => j > i && pg.cpus.isSubsetOf(order[j].cpus));
    pg.parent = parent === undefined ? 0 : order[parent].id;
    pgs[pg.parent].children.push(pg.id);
  });
  for (const pg of pgs) pg.children.sort((a, b) => a - b);
}

/**
 * Root 0; one leaf per online NUMA node holding CPUs, ids 1… in node order; a UMA host has only
 * the root, which is then also the leaf. Intermediate lgroups: for each SLIT latency level
 * strictly between local and the farthest, the groups of nodes connected at that distance (more
 * than one node, fewer than all), ids after the leaves (spec §6.4, §12.1 H2).
 */
function buildLgroups(engine: Engine, topo: Topology, cpuLeaf: Int32Array): Lgroup[] {
  const nodes = topo.nodes.filter((n) => n.online && topo.nodeCpus(n.id).length > 0).map((n) => n.id);
  const all = configured(topo);
  const mk = (id: number, parent: number, leaf: boolean, ns: number[], ids: number[]): Lgroup =>
    ({ id, parent, children: [], leaf, nodes: ns, cpus: engine.cpumaskFrom(ids) });
  if (nodes.length <= 1) {
    for (const c of all) cpuLeaf[c] = 0;
    return [mk(0, -1, true, nodes, all)];
  }
  const clusters = intermediateClusters(topo, nodes);
  // Parent of a group: the smallest intermediate strictly containing its nodes, else the root.
  const parentOf = (ns: number[]): number => {
    let best = -1;
    clusters.forEach((cl, i) => {
      if (cl.length > ns.length && ns.every((n) => cl.includes(n)) && (best < 0 || cl.length < clusters[best].length)) best = i;
    });
    return best < 0 ? 0 : 1 + nodes.length + best;
  };
  const lgroups: Lgroup[] = [mk(0, -1, false, nodes, all)];
  nodes.forEach((n, i) => {
    const ids = topo.nodeCpus(n).filter((c) => topo.cpus[c].state !== 'not-present');
    for (const c of ids) cpuLeaf[c] = i + 1;
    lgroups.push(mk(i + 1, parentOf([n]), true, [n], ids));
  });
  for (const cl of clusters) {
    lgroups.push(mk(lgroups.length, parentOf(cl), false, cl, cl.flatMap((n) => topo.nodeCpus(n))));
  }
  for (const g of lgroups) if (g.parent >= 0) lgroups[g.parent].children.push(g.id);
  return lgroups;
}

function intermediateClusters(topo: Topology, nodes: number[]): number[][] {
  const levels = new Set<number>();
  for (const a of nodes) for (const b of nodes) if (a !== b) levels.add(topo.distance(a, b));
  const far = Math.max(...levels);
  const out: number[][] = [];
  const seen = new Set<string>();
  for (const d of [...levels].filter((x) => x > LOCAL_DISTANCE && x < far).sort((a, b) => a - b)) {
    const done = new Set<number>();
    for (const start of nodes) {
      if (done.has(start)) continue;
      const comp = [start];
      done.add(start);
      for (let i = 0; i < comp.length; i++) {
        for (const m of nodes) if (!done.has(m) && topo.distance(comp[i], m) <= d) (done.add(m), comp.push(m));
      }
      comp.sort((a, b) => a - b);
      const key = comp.join(',');
      if (comp.length > 1 && comp.length < nodes.length && !seen.has(key)) (seen.add(key), out.push(comp));
    }
  }
  return out;
}

/** Is `id` an lgroup processor_affinity accepts — the root or a leaf (REF, spec §6.4)? */
export function isRootOrLeaf(g: Groups, id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < g.lgroups.length && (id === 0 || g.lgroups[id].leaf);
}

/** Is `id` a PG processor_affinity accepts — an existing kernel PG, not the pseudo root 0 (REF)? */
export function isUsablePg(g: Groups, id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id < g.pgs.length;
}
