/**
 * Topologies from hwloc's synthetic syntax, e.g. `"pack:4 node:4 core:32 pu:2"` — the same
 * string given to `lstopo -i` / `hwloc-calc -i` describes the same host: same CPU (PU os_index)
 * numbering, same node membership, same ids (tested against hwloc in test/topology).
 *
 * Supported subset (anything else is EINVAL naming the token):
 * - levels, outermost first, separated by spaces: `package|pack|socket`, `numa|node`, `core`,
 *   `pu` (case-insensitive), each `type:count`; the last level is `pu`, written `pu:N` or as a
 *   bare `N` (hwloc's `"node:2 2"`). Package comes before core, NUMA before core;
 * - `(memory=SIZE)` on the NUMA level: bytes, or with kB/KB/MB/GB/TB (powers of 1000) or
 *   KiB/MiB/GiB/TiB (powers of 1024), as hwloc 2.x reads them; absent or 0 = 1 GiB (hwloc's default);
 * - `[numa]` or `[numa(memory=SIZE)]` after a level: one NUMA node attached to each object of
 *   that level (hwloc's attached-memory notation); at the start: one node for the machine.
 * Without any NUMA level hwloc inserts one node holding every CPU, and so do we.
 *
 * What hwloc does and we mirror: objects of every level are numbered 0…width-1 in depth-first
 * order, so the PU os_index is the PU's position, a core's id is its global position (not per
 * package), and a package's id likewise. With no package level every CPU is on socket 0; with
 * no core level every PU is its own core (id = its CPU id).
 *
 * hwloc syntax has no distances; {@link SyntheticOptions.distance} supplies the SLIT.
 */
import { fail } from '../errors.js';
import { MAX_CPUS, MAX_NODES, type CpuSpec, type NodeSpec, type TopologySpec } from './spec.js';

export interface SyntheticOptions {
  /**
   * The SLIT: 'flat' (default) = no SLIT, 10 local / 20 remote, what hwloc's own synthetic
   * topologies imply; 'package-hops' = nodes of one package at {@link samePackageDistance},
   * nodes of packages h hops apart on a ring of packages at 10 + h·{@link hopDistance}.
   */
  distance?: 'flat' | 'package-hops';
  /** Default 12 (sub-NUMA clustering on one die). */
  samePackageDistance?: number;
  /** Default 10. */
  hopDistance?: number;
}

type LevelType = 'package' | 'numa' | 'core' | 'pu';

interface Level {
  type: LevelType;
  count: number;
  memory: number;
}

const TYPE_NAMES: Record<string, LevelType> = {
  package: 'package', pack: 'package', socket: 'package',
  numa: 'numa', node: 'numa',
  core: 'core',
  pu: 'pu',
};

const GIB = 2 ** 30;
const UNITS: Record<string, number> = {
  '': 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: GIB, tib: 2 ** 40,
};

function bad(spec: string, what: string): never {
  fail('EINVAL', `synthetic topology "${spec}": ${what}`);
}

/** `memory=SIZE` (the only attribute this subset has), as bytes; 0 means hwloc's 1 GiB default. */
function parseAttrs(spec: string, token: string, attrs: string | undefined, allowMemory: boolean): number {
  if (attrs === undefined) return GIB;
  const m = /^memory=(\d+)([a-z]*)$/i.exec(attrs);
  if (!m) bad(spec, `unsupported attribute "(${attrs})" in "${token}" (only memory=SIZE)`);
  if (!allowMemory) bad(spec, `memory= is only valid on a NUMA level, not in "${token}"`);
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) bad(spec, `unknown memory unit "${m[2]}" in "${token}"`);
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) bad(spec, `memory size in "${token}" is too large`);
  return bytes === 0 ? GIB : bytes;
}

/** Tokens separated by blanks; parentheses may hold blanks. */
function tokenize(spec: string): string[] {
  const tokens = spec.trim().match(/(?:[^\s(]+|\([^)]*\))+/g) ?? [];
  if (tokens.join('').length !== spec.replace(/\s+/g, '').length) bad(spec, 'unbalanced parentheses');
  return tokens;
}

interface Parsed {
  levels: Level[];
  /** Index into levels of the objects that own one NUMA node each; -1 = the machine. */
  numaAt: number;
  numaMemory: number;
}

function parse(spec: string): Parsed {
  if (typeof spec !== 'string') fail('EINVAL', 'synthetic topology: not a string');
  const levels: Level[] = [];
  let attached: { at: number; memory: number } | undefined;
  const tokens = tokenize(spec);
  if (tokens.length === 0) bad(spec, 'empty description');
  tokens.forEach((token, i) => {
    const mem = /^\[(\w+)(?:\(([^)]*)\))?\]$/.exec(token);
    if (mem) {
      if (TYPE_NAMES[mem[1].toLowerCase()] !== 'numa') bad(spec, `only NUMA nodes can be attached memory, not "${token}"`);
      if (attached) bad(spec, 'several attached NUMA nodes: CPUs would have two nodes');
      attached = { at: levels.length - 1, memory: parseAttrs(spec, token, mem[2], true) };
      return;
    }
    const lv = /^(?:([a-z][a-z0-9]*):)?(\d+)(?:\(([^)]*)\))?$/i.exec(token);
    if (!lv) bad(spec, `cannot parse "${token}" (expected type:count)`);
    const type = lv[1] === undefined ? (i === tokens.length - 1 ? 'pu' : undefined) : TYPE_NAMES[lv[1].toLowerCase()];
    if (type === undefined)
      bad(spec, lv[1] === undefined ? `bare count "${token}" is only allowed for the last (PU) level`
        : `unsupported level type "${lv[1]}" (supported: package|pack|socket, numa|node, core, pu)`);
    const count = Number(lv[2]);
    if (count < 1) bad(spec, `level "${token}" must have at least one object`);
    if (levels.some((l) => l.type === type)) bad(spec, `several ${type} levels`);
    levels.push({ type, count, memory: parseAttrs(spec, token, lv[3], type === 'numa') });
  });
  const at = (t: LevelType) => levels.findIndex((l) => l.type === t);
  if (levels.length === 0 || levels[levels.length - 1].type !== 'pu') bad(spec, 'the last level must be pu');
  if (at('core') >= 0 && (at('package') > at('core') || at('numa') > at('core')))
    bad(spec, 'package and NUMA levels must come before the core level');
  if (attached && at('numa') >= 0) bad(spec, 'both a NUMA level and attached NUMA memory: CPUs would have two nodes');
  if (attached && attached.at >= 0 && levels[attached.at].type === 'pu')
    bad(spec, 'NUMA memory cannot be attached to PUs');
  const numaLevel = at('numa');
  return {
    levels,
    numaAt: attached ? attached.at : numaLevel,
    numaMemory: attached ? attached.memory : numaLevel >= 0 ? levels[numaLevel].memory : GIB,
  };
}

/** Width (total number of objects) of each level. */
function widths(levels: Level[]): number[] {
  let w = 1;
  return levels.map((l) => (w *= l.count));
}

function slit(spec: string, nrNodes: number, nodePackage: number[], nrPackages: number, opts: SyntheticOptions): number[][] | null {
  const rule = opts.distance ?? 'flat';
  if (rule === 'flat') return null;
  if (rule !== 'package-hops') bad(spec, `unknown distance rule ${JSON.stringify(rule)} (flat or package-hops)`);
  const same = opts.samePackageDistance ?? 12;
  const hop = opts.hopDistance ?? 10;
  const d: number[][] = [];
  for (let a = 0; a < nrNodes; a++) {
    d.push([]);
    for (let b = 0; b < nrNodes; b++) {
      const gap = Math.abs(nodePackage[a] - nodePackage[b]);
      const hops = Math.min(gap, nrPackages - gap);
      d[a].push(a === b ? 10 : hops === 0 ? same : 10 + hops * hop);
    }
  }
  return d;
}

/**
 * The spec of a synthetic topology (hwloc synthetic syntax, subset above).
 * hwloc: `hwloc_topology_set_synthetic`.
 */
export function syntheticTopology(spec: string, opts: SyntheticOptions = {}): TopologySpec {
  const { levels, numaAt, numaMemory } = parse(spec);
  const w = widths(levels);
  const nrPus = w[w.length - 1];
  if (nrPus > MAX_CPUS) bad(spec, `${nrPus} PUs, more than ${MAX_CPUS}`);
  const nrNodes = numaAt < 0 ? 1 : w[numaAt];
  if (nrNodes > MAX_NODES) bad(spec, `${nrNodes} NUMA nodes, more than ${MAX_NODES}`);
  /** Index, at level `i`, of the object holding PU `p` (−1 = the machine: index 0). */
  const objectOf = (i: number, p: number) => (i < 0 ? 0 : Math.floor(p / (nrPus / w[i])));
  const pkg = levels.findIndex((l) => l.type === 'package');
  const core = levels.findIndex((l) => l.type === 'core');
  const cpus: CpuSpec[] = [];
  const nodePackage: number[] = new Array(nrNodes);
  for (let p = 0; p < nrPus; p++) {
    const node = objectOf(numaAt, p);
    const socket = pkg < 0 ? 0 : objectOf(pkg, p);
    nodePackage[node] ??= socket;
    cpus.push({ id: p, socket, core: core < 0 ? p : objectOf(core, p), node, state: 'online' });
  }
  const nodes: NodeSpec[] = [];
  for (let id = 0; id < nrNodes; id++) nodes.push({ id, memsize: numaMemory, memfree: numaMemory });
  const nrPackages = pkg < 0 ? 1 : w[pkg];
  return { cpus, nodes, distances: slit(spec, nrNodes, nodePackage, nrPackages, opts), source: `synthetic topology "${spec}"` };
}
