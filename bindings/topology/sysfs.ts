/**
 * Topologies from a Linux sysfs tree: the live `/sys`, or a snapshot of it (a directory holding
 * `devices/system/{cpu,node}`, as `tar` of `/sys` gives).
 *
 * Read (Linux ABI, Documentation/ABI sysfs-devices-system-cpu and sysfs-devices-node):
 * - `cpu/possible` → nr_cpu_ids (ids not `present` are 'not-present'); `cpu/present`;
 *   `cpu/online`, and each `cpuN/online` where it exists (cpu0 often has none) — the two must agree;
 * - `cpuN/topology/{physical_package_id,core_id,thread_siblings_list}`: required for online CPUs;
 *   Linux removes `topology/` of an offline CPU, whose socket and core are then unknown;
 * - `node/nodeK/{cpulist,meminfo,distance}` for every node directory (the online nodes):
 *   cpulist holds the node's online CPUs; meminfo's `Node K MemTotal`/`MemFree` in kB; distance
 *   is one SLIT row over the online nodes in id order. An offline CPU's node is the `cpuN/nodeK`
 *   link Linux keeps for it. A node with an empty cpulist is memory-only.
 * - no `node/` directory (kernel without NUMA): one node 0 holding every CPU, memory unknown (0).
 *
 * Inconsistent lists (a CPU in two nodes, a sibling with another core, cpulists naming absent
 * CPUs, rows of the wrong length) are EINVAL naming the file; missing files are ENOENT.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { parseIdList } from '../mask/formats/cpulist.js';
import { MAX_CPUS, NO_ID, type CpuSpec, type CpuState, type NodeSpec, type TopologySpec } from './spec.js';

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? 'ENOENT' : 'EIO', `${file}: ${code === 'ENOENT' ? 'missing' : (e as Error).message}`);
  }
}

/** A Linux cpulist file ("0-3,8,10-11"; empty = none), as ascending ids. */
function parseList(text: string, file: string): number[] {
  return parseIdList(text, MAX_CPUS, file).sort((a, b) => a - b);
}

function readInt(file: string): number {
  const text = read(file);
  if (!/^-?\d+$/.test(text)) fail('EINVAL', `${file}: "${text}" is not an integer`);
  return Number(text);
}

function entries(dir: string, pattern: RegExp): number[] {
  return readdirSync(dir).map((n) => pattern.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** Bytes of a meminfo line `Node K <key>: <n> kB`. */
function meminfo(text: string, node: number, key: string, file: string): number {
  const m = new RegExp(`^Node\\s+${node}\\s+${key}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  if (!m) fail('EINVAL', `${file}: no "Node ${node} ${key}: … kB" line`);
  return Number(m[1]) * 1024;
}

/** The spec of the sysfs tree under `root` (default the live `/sys`). */
export function sysfsTopology(root = '/sys'): TopologySpec {
  const cpuDir = join(root, 'devices/system/cpu');
  const nodeDir = join(root, 'devices/system/node');
  const file = (f: string) => join(cpuDir, f);
  const possible = parseList(read(file('possible')), file('possible'));
  const present = new Set(parseList(read(file('present')), file('present')));
  const online = new Set(parseList(read(file('online')), file('online')));
  if (possible.length === 0) fail('EINVAL', `${file('possible')}: no CPUs`);
  const nrCpuIds = possible[possible.length - 1] + 1;
  for (const [name, set] of [['present', present], ['online', online]] as const)
    for (const c of set) if (c >= nrCpuIds) fail('EINVAL', `${file(name)}: CPU ${c} is not possible`);
  for (const c of online) if (!present.has(c)) fail('EINVAL', `${file('online')}: CPU ${c} is online but not present`);

  const cpus: CpuSpec[] = [];
  const siblings = new Map<number, string>();
  for (const id of present) {
    const onlineFile = file(`cpu${id}/online`);
    if (existsSync(onlineFile)) {
      const flag = readInt(onlineFile);
      if ((flag === 1) !== online.has(id))
        fail('EINVAL', `${onlineFile} says ${flag} but ${file('online')} ${online.has(id) ? 'lists' : 'does not list'} CPU ${id}`);
    }
    const topo = file(`cpu${id}/topology`);
    const state: CpuState = online.has(id) ? 'online' : 'offline';
    if (state === 'offline' && !existsSync(topo)) {
      cpus.push({ id, socket: NO_ID, core: NO_ID, node: NO_ID, state });
      continue;
    }
    cpus.push({ id, socket: readInt(join(topo, 'physical_package_id')), core: readInt(join(topo, 'core_id')), node: NO_ID, state });
    const sibFile = join(topo, 'thread_siblings_list');
    const sib = parseList(read(sibFile), sibFile);
    if (!sib.includes(id)) fail('EINVAL', `${sibFile}: does not list CPU ${id} itself`);
    siblings.set(id, sib.join());
  }
  cpus.sort((a, b) => a.id - b.id);
  const byId = new Map(cpus.map((c) => [c.id, c]));
  for (const c of cpus) {
    if (c.state !== 'online') continue;
    const sibFile = file(`cpu${c.id}/topology/thread_siblings_list`);
    for (const s of siblings.get(c.id)!.split(',').map(Number)) {
      const o = byId.get(s);
      if (!o) fail('EINVAL', `${sibFile}: sibling ${s} is not present`);
      if (o.state === 'online' && (o.socket !== c.socket || o.core !== c.core || siblings.get(s) !== siblings.get(c.id)))
        fail('EINVAL', `${sibFile}: sibling ${s} has package ${o.socket} core ${o.core} siblings ${siblings.get(s)}, CPU ${c.id} has ${c.socket}/${c.core}/${siblings.get(c.id)}`);
    }
  }

  if (!existsSync(nodeDir)) {
    for (const c of cpus) c.node = 0;
    return { nrCpuIds, cpus, nodes: [{ id: 0, memsize: 0, memfree: 0 }], source: root };
  }
  const nodeIds = entries(nodeDir, /^node(\d+)$/);
  if (nodeIds.length === 0) fail('EINVAL', `${nodeDir}: no node directories`);
  const nodes: NodeSpec[] = [];
  const distances: number[][] = [];
  for (const k of nodeIds) {
    const dir = join(nodeDir, `node${k}`);
    const listFile = join(dir, 'cpulist');
    for (const c of parseList(read(listFile), listFile)) {
      const cpu = byId.get(c);
      if (!cpu || cpu.state !== 'online') fail('EINVAL', `${listFile}: CPU ${c} is not an online CPU`);
      if (cpu.node !== NO_ID) fail('EINVAL', `${listFile}: CPU ${c} is already on node ${cpu.node}`);
      cpu.node = k;
    }
    const memFile = join(dir, 'meminfo');
    const mem = read(memFile);
    nodes.push({ id: k, memsize: meminfo(mem, k, 'MemTotal', memFile), memfree: meminfo(mem, k, 'MemFree', memFile) });
    const distFile = join(dir, 'distance');
    const row = read(distFile).split(/\s+/);
    if (row.length !== nodeIds.length || !row.every((v) => /^\d+$/.test(v)))
      fail('EINVAL', `${distFile}: "${row.join(' ')}" is not ${nodeIds.length} distances (one per node)`);
    distances.push(row.map(Number));
  }
  for (const c of cpus) {
    if (c.state === 'online' || c.node !== NO_ID) continue;
    const links = entries(file(`cpu${c.id}`), /^node(\d+)$/);
    if (links.length > 1) fail('EINVAL', `${file(`cpu${c.id}`)}: links to several nodes (${links.join(', ')})`);
    if (links.length === 1 && !nodeIds.includes(links[0])) fail('EINVAL', `${file(`cpu${c.id}/node${links[0]}`)}: no such node`);
    c.node = links[0] ?? NO_ID;
  }
  // Rows cover the online nodes only; spread them over node ids (missing ids are unreachable).
  const size = nodeIds[nodeIds.length - 1] + 1;
  const matrix = Array.from({ length: size }, () => new Array<number | null>(size).fill(null));
  nodeIds.forEach((a, i) => nodeIds.forEach((b, j) => (matrix[a][b] = distances[i][j])));
  return { nrCpuIds, cpus, nodes, distances: matrix, source: root };
}
