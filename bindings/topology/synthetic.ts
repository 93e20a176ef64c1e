/**
 * Topologies from hwloc's synthetic syntax, e.g. `"pack:4 node:4 core:32 pu:2"` — the same
 * string given to `lstopo -i` / `hwloc-calc -i` describes the same host: same CPU (PU os_index)
 * numbering, same node membership, same ids (tested against hwloc in test/topology).
 *
 * Supported subset (anything else is EINVAL naming the token):
 * - levels, outermost first, separated by spaces: `package|pack|socket`, `numa|node`, `core`,
 *   `pu` (case-insensitive), each `type:count`; the last level is `pu`, written `pu:N` or as a
 *   bare `N` (hwloc's `"node:2 2"`). Package comes before core, NUMA before core;
 * - attributes in parentheses, separated by a blank: `memory=SIZE` on the NUMA level: bytes, or
 *   with kB/KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), as hwloc 2.x reads
 *   them; absent or 0 = 1 GiB (hwloc's default). `indexes=` on any level: the os ids of its
 *   objects in order, either listed (`indexes=0,4,1,5`) or interleaved — `indexes=core:pack`
 *   (the objects of those levels enumerated innermost first, Linux's thread numbering) or
 *   `indexes=2*4:1*2` (loops of step*count). Where hwloc silently falls back to plain numbering
 *   (a list of the wrong length, a bad loop) or builds a broken host (duplicate ids), we refuse;
 * - `[numa]` or `[numa(memory=SIZE)]` after a level: one NUMA node attached to each object of
 *   that level (hwloc's attached-memory notation); at the start: one node for the machine.
 * Without any NUMA level hwloc inserts one node holding every CPU, and so do we.
 *
 * What hwloc does and we mirror: without `indexes=`, objects of every level are numbered
 * 0…width-1 in depth-first order, so the PU os_index is the PU's position, a core's id is its
 * global position (not per package), and a package's id likewise. CPU ids below the highest
 * that `indexes=` leaves out are not present. With no package level every CPU is on socket 0;
 * with no core level every PU is its own core (id = its CPU id).
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
  /** The `indexes=` attribute, resolved once level widths are known. */
  indexes?: string;
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

/** Bytes of a `memory=` value; 0 means hwloc's 1 GiB default. */
function parseMemory(spec: string, token: string, value: string): number {
  const m = /^(\d+)([a-z]*)$/i.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) bad(spec, `memory size "${value}" in "${token}" is not a byte count with an optional kB/MB/GB/TB or KiB/MiB/GiB/TiB unit`);
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) bad(spec, `memory size in "${token}" is too large`);
  return bytes === 0 ? GIB : bytes;
}

/** The `(key=value key=value)` attributes of a token: memory (NUMA only) and indexes. */
function parseAttrs(spec: string, token: string, attrs: string | undefined, isNuma: boolean, allowIndexes: boolean):
  { memory: number; indexes?: string } {
  const out: { memory: number; indexes?: string } = { memory: GIB };
  for (const attr of attrs === undefined ? [] : attrs.split(' ')) {
    const [key, value] = [attr.slice(0, attr.indexOf('=')), attr.slice(attr.indexOf('=') + 1)];
    if (key === 'memory' && isNuma) out.memory = parseMemory(spec, token, value);
    else if (key === 'indexes' && allowIndexes && out.indexes === undefined) out.indexes = value;
    else bad(spec, `unsupported attribute "${attr}" in "${token}" (memory=SIZE on NUMA levels, indexes=… on levels)`);
  }
  return out;
}

/** Tokens separated by blanks; parentheses may hold blanks. */
function tokenize(spec: string): string[] {
  const tokens = spec.trim().match(/(?:[^\s(]+|\([^)]*\))+/g) ?? [];
  if (tokens.join('').replace(/\s+/g, '') !== spec.replace(/\s+/g, '')) bad(spec, 'unbalanced parentheses');
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
      attached = { at: levels.length - 1, memory: parseAttrs(spec, token, mem[2], true, false).memory };
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
    levels.push({ type, count, ...parseAttrs(spec, token, lv[3], type === 'numa', true) });
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

/**
 * The os ids of the objects of level `i`, in order (hwloc's `indexes=` attribute), or undefined
 * for plain numbering 0…width-1. Interleaving loops: object j gets Σ ((j / step) mod count)·mul,
 * mul being the product of the counts of the loops before; a loop named by a level above has
 * step = objects of this level per object of that level and count = objects of that level per
 * object of the next listed level above it. If the loops do not cover the width, one innermost
 * loop of step 1 completes them when it can.
 */
function levelIndexes(spec: string, levels: Level[], w: number[], i: number): number[] | undefined {
  const text = levels[i].indexes;
  if (text === undefined) return undefined;
  const width = w[i];
  const where = `indexes=${text} of the ${levels[i].type} level`;
  let ids: number[];
  if (/^\d+(,\d+)*$/.test(text)) {
    ids = text.split(',').map(Number);
    if (ids.length !== width) bad(spec, `${where} lists ${ids.length} ids for ${width} objects`);
  } else {
    const loops: { step: number; nb: number }[] = [];
    if (/^\d+\*\d+(:\d+\*\d+)*$/.test(text)) {
      for (const l of text.split(':')) {
        const [step, nb] = l.split('*').map(Number);
        if (step === 0 || nb === 0) bad(spec, `${where}: a loop of step or count 0`);
        loops.push({ step, nb });
      }
    } else {
      const depths = text.split(':').map((name) => {
        const t = TYPE_NAMES[name.toLowerCase()];
        const d = levels.findIndex((l, k) => k < i && l.type === t);
        if (d < 0) bad(spec, `${where}: "${name}" is not a level above`);
        return d;
      });
      if (new Set(depths).size !== depths.length) bad(spec, `${where}: a level is named twice`);
      for (const d of depths) {
        const above = Math.max(-1, ...depths.filter((o) => o < d));
        loops.push({ step: width / w[d], nb: w[d] / (above < 0 ? 1 : w[above]) });
      }
    }
    const covered = loops.reduce((n, l) => n * l.nb, 1);
    if (covered !== width) {
      if (width % covered !== 0 || Math.min(...loops.map((l) => l.step)) !== width / covered)
        bad(spec, `${where}: the loops cover ${covered} objects, not ${width}`);
      loops.push({ step: 1, nb: width / covered });
    }
    ids = new Array<number>(width).fill(0);
    let mul = 1;
    for (const { step, nb } of loops) {
      for (let j = 0; j < width; j++) ids[j] += (Math.floor(j / step) % nb) * mul;
      mul *= nb;
    }
    if (ids.some((id) => id >= width)) bad(spec, `${where}: the loops give ids beyond ${width - 1}`);
  }
  if (new Set(ids).size !== width) bad(spec, `${where} repeats an id`);
  return ids;
}

/** The SLIT over node ids, or null for none; `nodes` gives each node's package position. */
function slit(spec: string, nodes: { id: number; pkg: number }[], nrPackages: number, opts: SyntheticOptions): (number | null)[][] | null {
  const rule = opts.distance ?? 'flat';
  if (rule === 'flat') return null;
  if (rule !== 'package-hops') bad(spec, `unknown distance rule ${JSON.stringify(rule)} (flat or package-hops)`);
  const same = opts.samePackageDistance ?? 12;
  const hop = opts.hopDistance ?? 10;
  const size = Math.max(...nodes.map((n) => n.id)) + 1;
  const d = Array.from({ length: size }, () => new Array<number | null>(size).fill(null));
  for (const a of nodes)
    for (const b of nodes) {
      const gap = Math.abs(a.pkg - b.pkg);
      const hops = Math.min(gap, nrPackages - gap);
      d[a.id][b.id] = a.id === b.id ? 10 : hops === 0 ? same : 10 + hops * hop;
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
  const ids = levels.map((_, i) => levelIndexes(spec, levels, w, i));
  /** Position, at level `i`, of the object holding PU `p` (−1 = the machine: 0). */
  const objectOf = (i: number, p: number) => (i < 0 ? 0 : Math.floor(p / (nrPus / w[i])));
  /** os id of that object: its `indexes=` entry, else its position. */
  const idOf = (i: number, p: number) => (i < 0 ? 0 : ids[i]?.[objectOf(i, p)] ?? objectOf(i, p));
  const pkg = levels.findIndex((l) => l.type === 'package');
  const core = levels.findIndex((l) => l.type === 'core');
  const pu = levels.length - 1;
  const cpus: CpuSpec[] = [];
  const nodes = new Map<number, { id: number; pkg: number }>();
  for (let p = 0; p < nrPus; p++) {
    const node = idOf(numaAt, p);
    if (!nodes.has(node)) nodes.set(node, { id: node, pkg: pkg < 0 ? 0 : objectOf(pkg, p) });
    const id = idOf(pu, p);
    cpus.push({ id, socket: pkg < 0 ? 0 : idOf(pkg, p), core: core < 0 ? id : idOf(core, p), node, state: 'online' });
  }
  const nodeSpecs: NodeSpec[] = [...nodes.keys()].map((id) => ({ id, memsize: numaMemory, memfree: numaMemory }));
  const nrPackages = pkg < 0 ? 1 : w[pkg];
  return { cpus, nodes: nodeSpecs, distances: slit(spec, [...nodes.values()], nrPackages, opts), source: `synthetic topology "${spec}"` };
}
