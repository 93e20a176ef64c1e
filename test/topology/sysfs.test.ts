/**
 * Topology.fromSysfs: a fixture tree written here from a small machine description (the
 * description is the oracle), error cases as edits of that tree, and the live /sys.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Topology } from '../../bindings/topology/topology.js';

const base = mkdtempSync(join(tmpdir(), 'topology-sysfs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** 2 sockets × 4 cores × 2 threads, Intel-style numbering: CPU c and c+8 are the two threads of one core. */
interface MachineCpu { id: number; socket: number; core: number; node: number; online: boolean }
const THREADS = 8;
const machine: MachineCpu[] = Array.from({ length: 16 }, (_, id) => {
  const socket = Math.floor((id % THREADS) / 4);
  const core = id % 4;
  // socket 0 is split in two nodes (sub-NUMA clustering), socket 1 is node 2; node 3 has memory only.
  const node = socket === 1 ? 2 : core < 2 ? 0 : 1;
  return { id, socket, core, node, online: id !== 13 };
});
const POSSIBLE = 20; // CPUs 16-19: possible, not present (hot-plug slots)
const nodeMem = [[8 << 20, 6 << 20], [8 << 20, 7 << 20], [16 << 20, 1 << 20], [32 << 20, 32 << 20]]; // kB
const slit = [[10, 11, 21, 31], [11, 10, 21, 31], [21, 21, 10, 41], [31, 31, 41, 10]];

/** Linux cpulist formatting: ascending ids, runs as a-b. */
function cpulist(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** Linux cpumask file formatting: 32-bit hex groups, most significant first, comma-separated. */
function hexmask(ids: number[]): string {
  const groups = Array.from({ length: Math.ceil(POSSIBLE / 32) }, (_, g) =>
    ids.filter((i) => i >> 5 === g).reduce((v, i) => (v | (1 << (i & 31))) >>> 0, 0).toString(16).padStart(8, '0'));
  return groups.reverse().join(',');
}

let fixtures = 0;
/**
 * Writes the machine as sysfs in `<new dir>/sys` (the layout hwloc's fsroot input wants) and
 * returns that sys directory; `edit` may change files afterwards.
 */
function writeTree(edit?: (put: (path: string, text: string) => void, root: string) => void): string {
  const root = join(base, `root${fixtures++}`, 'sys');
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text + '\n');
  };
  const cpu = 'devices/system/cpu';
  put(`${cpu}/possible`, `0-${POSSIBLE - 1}`);
  put(`${cpu}/present`, cpulist(machine.map((c) => c.id)));
  put(`${cpu}/online`, cpulist(machine.filter((c) => c.online).map((c) => c.id)));
  for (const c of machine) {
    if (c.id !== 0) put(`${cpu}/cpu${c.id}/online`, c.online ? '1' : '0'); // cpu0 is not hot-pluggable
    // Linux drops topology/ of an offline CPU but keeps its node link.
    if (c.online) {
      put(`${cpu}/cpu${c.id}/topology/physical_package_id`, `${c.socket}`);
      put(`${cpu}/cpu${c.id}/topology/core_id`, `${c.core}`);
      const siblings = machine.filter((o) => o.socket === c.socket && o.core === c.core && o.online).map((o) => o.id);
      const pkg = machine.filter((o) => o.socket === c.socket && o.online).map((o) => o.id);
      put(`${cpu}/cpu${c.id}/topology/thread_siblings_list`, cpulist(siblings));
      put(`${cpu}/cpu${c.id}/topology/core_cpus_list`, cpulist(siblings));
      put(`${cpu}/cpu${c.id}/topology/package_cpus_list`, cpulist(pkg));
      for (const f of ['thread_siblings', 'core_cpus']) put(`${cpu}/cpu${c.id}/topology/${f}`, hexmask(siblings));
      for (const f of ['core_siblings', 'package_cpus']) put(`${cpu}/cpu${c.id}/topology/${f}`, hexmask(pkg));
    }
    symlinkSync(`../../node/node${c.node}`, join(root, `${cpu}/cpu${c.id}/node${c.node}`));
  }
  for (let k = 0; k < 4; k++) {
    const node = `devices/system/node/node${k}`;
    const cpus = machine.filter((c) => c.node === k && c.online).map((c) => c.id);
    put(`${node}/cpulist`, cpulist(cpus));
    put(`${node}/cpumap`, hexmask(cpus));
    put(`${node}/meminfo`, [`Node ${k} MemTotal:       ${nodeMem[k][0]} kB`, `Node ${k} MemFree:        ${nodeMem[k][1]} kB`,
      `Node ${k} MemUsed:        ${nodeMem[k][0] - nodeMem[k][1]} kB`].join('\n'));
    put(`${node}/distance`, slit[k].join(' '));
  }
  for (const f of ['online', 'possible']) put(`devices/system/node/${f}`, '0-3');
  edit?.(put, root);
  return root;
}

describe('fromSysfs on a written 2-socket, 4-node tree', () => {
  const topo = Topology.fromSysfs(writeTree());

  it('has every possible CPU, the absent ones not present', () => {
    expect(topo.nrCpuIds).toBe(POSSIBLE);
    expect(topo.cpus.slice(16).every((c) => c.state === 'not-present' && c.node === -1)).toBe(true);
  });

  it('reads socket, core, node and state of each present CPU; the offline one keeps only its node', () => {
    for (const m of machine) {
      const c = topo.cpu(m.id);
      expect({ id: c.id, state: c.state, node: c.node, socket: c.socket, core: c.core })
        .toEqual({ id: m.id, state: m.online ? 'online' : 'offline', node: m.node, socket: m.online ? m.socket : -1, core: m.online ? m.core : -1 });
    }
  });

  it('numbers threads within a core in id order', () => {
    expect([topo.cpu(1).thread, topo.cpu(9).thread]).toEqual([0, 1]);
  });

  it('reads memory in bytes, the memory-only node and the SLIT', () => {
    expect(topo.nodes.map((n) => [n.memsize, n.memfree])).toEqual(nodeMem.map(([t, f]) => [t * 1024, f * 1024]));
    expect(topo.nodeCpus(3)).toEqual([]);
    expect(topo.nodeCpus(2)).toEqual([4, 5, 6, 7, 12, 13, 14, 15]);
    expect(topo.distances).toEqual(slit);
  });
});

describe('hwloc reads the same tree', () => {
  it('lstopo on the tree as an fsroot gives the same CPUs, nodes, memory and SLIT', () => {
    const sys = writeTree();
    const xml = execFileSync('lstopo-no-graphics', ['-i', dirname(sys), '--if', 'fsroot', '--of', 'xml', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const ours = Topology.fromSysfs(sys);
    const hwloc = Topology.fromHwlocXml(xml, 'lstopo of the fixture');
    // hwloc records neither possible-but-absent CPUs (16-19), nor free memory, nor the node of
    // an offline CPU (node cpumaps list online CPUs): it knows CPU 13 only as offline.
    expect(hwloc.nrCpuIds).toBe(16);
    expect(hwloc.cpu(13)).toEqual({ ...ours.cpu(13), node: -1 });
    expect(hwloc.cpus.filter((c) => c.id !== 13)).toEqual(ours.cpus.slice(0, 16).filter((c) => c.id !== 13));
    expect(hwloc.nodes.map((n) => n.memsize)).toEqual(ours.nodes.map((n) => n.memsize));
    expect(hwloc.distances).toEqual(ours.distances);
  });
});

describe('fromSysfs rejects inconsistent trees', () => {
  const cases: [string, Parameters<typeof writeTree>[0], string, RegExp][] = [
    ['a CPU in two nodes', (put) => put('devices/system/node/node1/cpulist', '0,2-3,10-11'), 'EINVAL', /node1\/cpulist: CPU 0 is already on node 0/],
    ['a cpulist naming an absent CPU', (put) => put('devices/system/node/node3/cpulist', '17'), 'EINVAL', /node3\/cpulist: CPU 17 is not an online CPU/],
    ['siblings with different cores', (put) => put('devices/system/cpu/cpu9/topology/core_id', '3'), 'EINVAL', /thread_siblings_list: sibling 9 has package 0 core 3/],
    ['siblings not naming the CPU', (put) => put('devices/system/cpu/cpu2/topology/thread_siblings_list', '3,11'), 'EINVAL', /cpu2\/topology\/thread_siblings_list: does not list CPU 2/],
    ['cpuN/online disagreeing with online', (put) => put('devices/system/cpu/cpu5/online', '0'), 'EINVAL', /cpu5\/online says 0 but .*online lists CPU 5/],
    ['a short distance row', (put) => put('devices/system/node/node2/distance', '21 21 10'), 'EINVAL', /node2\/distance: "21 21 10" is not 4 distances/],
    ['an asymmetric SLIT', (put) => put('devices/system/node/node2/distance', '22 21 10 41'), 'EINVAL', /asymmetric: \[2\]\[0\] = 22 but \[0\]\[2\] = 21/],
    ['a malformed list', (put) => put('devices/system/cpu/online', '0-3,x'), 'EINVAL', /cpu\/online "0-3,x": bad element "x"/],
    ['meminfo without MemFree', (put) => put('devices/system/node/node0/meminfo', 'Node 0 MemTotal: 5 kB'), 'EINVAL', /node0\/meminfo: no "Node 0 MemFree/],
    ['a missing core_id', (_put, root) => rmSync(join(root, 'devices/system/cpu/cpu4/topology/core_id')), 'ENOENT', /cpu4\/topology\/core_id: missing/],
  ];
  for (const [what, edit, errno, why] of cases) {
    it(what, () => {
      const root = writeTree(edit);
      expect(() => Topology.fromSysfs(root)).toThrow(why);
      expect(() => Topology.fromSysfs(root)).toThrow(new RegExp(`^${errno}:`));
    });
  }
  it('a directory that is not sysfs', () => {
    expect(() => Topology.fromSysfs(base)).toThrow(/^ENOENT: .*devices\/system\/cpu\/possible: missing/);
  });
});

describe('fromSysfs on the live /sys', () => {
  const topo = Topology.fromSysfs();
  const env = { ...process.env, OMP_NUM_THREADS: '', OMP_THREAD_LIMIT: '' };
  const run = (cmd: string, ...args: string[]) => Number(execFileSync(cmd, args, { encoding: 'utf8', env }).trim());

  it('nproc --all (glibc reads cpu/possible) is nr_cpu_ids', () => {
    expect(run('nproc', '--all')).toBe(topo.nrCpuIds);
  });
  it('getconf _NPROCESSORS_ONLN is the online count', () => {
    expect(run('getconf', '_NPROCESSORS_ONLN')).toBe(topo.onlineCpus().length);
  });
  it('nproc (this process\'s affinity) is at most the online count', () => {
    const n = run('nproc');
    expect(n).toBe(availableParallelism());
    expect(n).toBeLessThanOrEqual(topo.onlineCpus().length);
  });
  it('agrees with hwloc\'s own reading of this machine', () => {
    const hwloc = Topology.fromHwlocXml(execFileSync('lstopo-no-graphics', ['--of', 'xml', '-'], { encoding: 'utf8' }), 'lstopo of this machine');
    const pick = (t: Topology) => t.cpus.filter((c) => c.state === 'online').map(({ id, socket, core, node }) => ({ id, socket, core, node }));
    expect(pick(hwloc)).toEqual(pick(topo));
    expect(hwloc.nodes.map((n) => n.memsize)).toEqual(topo.nodes.map((n) => n.memsize));
  });
  it('every online CPU has a node and a core', () => {
    for (const id of topo.onlineCpus()) expect([topo.cpu(id).node, topo.cpu(id).core].every((v) => v >= 0)).toBe(true);
    expect(topo.nodes.filter((n) => n.online).length).toBeGreaterThan(0);
  });
});
