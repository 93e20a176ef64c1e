/**
 * Topology.fromXlInfo on a paste in the format xl prints (fixtures/xl-info-n.txt, written from
 * tools/xl/xl_info.c's printf formats): the imported host, printed back through the Xen views in
 * xl's own row formats, must give the fixture's rows again.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Topology } from '../../bindings/topology/topology.js';
import { cputopoinfo, numainfo, XEN_INVALID_ID, XEN_INVALID_MEM_SZ, XEN_INVALID_NODE_DIST } from '../../bindings/topology/views.js';

const fixture = readFileSync(new URL('./fixtures/xl-info-n.txt', import.meta.url), 'utf8');
const topo = Topology.fromXlInfo(fixture);

/** C printf %Nd (right-aligned), and %d of a uint32 (~0U prints -1). */
const d = (v: number, w = 0) => String(v === XEN_INVALID_ID ? -1 : v).padStart(w);
const section = (name: string) => {
  const lines = fixture.split('\n');
  const start = lines.indexOf(lines.find((l) => l.startsWith(name))!) + 2;
  const end = lines.findIndex((l, i) => i >= start && !/^\s*\d+:/.test(l));
  return lines.slice(start, end);
};

describe('fromXlInfo on an xl info -n paste', () => {
  it('sizes CPU ids by max_cpu_id; ids without a row are not present', () => {
    expect(topo.nrCpuIds).toBe(24);
    expect(topo.presentCpus()).toEqual([...Array(16).keys()]);
    expect(topo.cpus.slice(16).every((c) => c.state === 'not-present')).toBe(true);
  });

  it('reads the `-` node as no node, and the missing node row as an offline node', () => {
    expect(topo.cpu(15).node).toBe(-1);
    expect(topo.nodes.map((n) => n.online)).toEqual([true, false, true]);
    expect(topo.nodeCpus(2)).toEqual([8, 9, 10, 11, 12, 13, 14]);
    expect(topo.node(0).memsize).toBe(16383 * 2 ** 20);
    expect(topo.distance(0, 2)).toBe(21);
    expect(topo.distance(0, 1)).toBe(0xff);
  });

  it('printed back with xl\'s formats, cputopoinfo gives the cpu_topology rows', () => {
    const { cputopo } = cputopoinfo(topo, 1 << 14);
    const rows = cputopo!.map((t, i) => ({ t, i })).filter(({ t }) => t.core !== XEN_INVALID_ID)
      .map(({ t, i }) => `${d(i, 3)}:    ${d(t.core, 4)}     ${d(t.socket, 4)}     ${d(t.node, 4)}`);
    expect(rows).toEqual(section('cpu_topology').map((l) => l.replace(/ -$/, '-1')));
  });

  it('printed back with xl\'s formats, numainfo gives the numa_info rows', () => {
    const info = numainfo(topo, 64, { meminfo: true, distance: true });
    const n = info.num_nodes;
    const rows = info.meminfo!.map((m, i) => ({ m, i })).filter(({ m }) => m.memsize !== XEN_INVALID_MEM_SZ)
      .map(({ m, i }) => `${d(i, 4)}:    ${d(m.memsize / 2 ** 20, 6)}     ${d(m.memfree / 2 ** 20, 6)}      ` +
        info.distance!.slice(i * n, i * n + n).map((v) => (v === XEN_INVALID_NODE_DIST ? -1 : v)).join(','));
    expect(rows).toEqual(section('numa_info'));
  });
});

describe('fromXlInfo rejects', () => {
  const cases: [string, string, RegExp][] = [
    ['a paste without -n', fixture.replace(/cpu_topology[\s\S]*?device topology/, 'device topology'), /no cpu_topology rows/],
    ['nr_cpus disagreeing with the rows', fixture.replace('nr_cpus                : 16', 'nr_cpus                : 15'), /nr_cpus is 15 but cpu_topology has 16 rows/],
    ['nr_nodes disagreeing with the rows', fixture.replace('nr_nodes               : 2', 'nr_nodes               : 3'), /nr_nodes is 3 but numa_info has 2 rows/],
    ['a duplicate CPU row', fixture.replace(' 14:       3        1        2', '  3:       3        1        2'), /xl info: duplicate CPU id 3/],
    ['a short distance row', fixture.replace('10,-1,21', '10,-1'), /numa_info row of node 2 has 3 distances, node 0 has 2/],
    ['an asymmetric SLIT', fixture.replace('21,-1,10', '22,-1,10'), /asymmetric: \[2\]\[0\] = 22 but \[0\]\[2\] = 21/],
    ['a garbled row', fixture.replace('  5:       2        0        0', '  5:       2        zero        0'), /line \d+ socket "zero" is not a number/],
    ['a CPU beyond max_cpu_id', fixture.replace('max_cpu_id             : 23', 'max_cpu_id             : 7'), /CPU 15 is not below nr_cpu_ids 8/],
  ];
  for (const [what, text, why] of cases) {
    it(what, () => {
      expect(() => Topology.fromXlInfo(text)).toThrow(why);
    });
  }
});
