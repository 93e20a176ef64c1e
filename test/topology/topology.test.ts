/** The Topology model: validation, the JSON round trip, CPU state changes and their listeners. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Topology, type CpuStateChange, type TopologySpec } from '../../bindings/topology/topology.js';

const spec = (over: Partial<TopologySpec> = {}): TopologySpec => ({
  nodes: [{ id: 0, memsize: 100, memfree: 50 }, { id: 1, memsize: 100, memfree: 100 }],
  cpus: [0, 1, 2, 3].map((id) => ({ id, socket: 0, core: id >> 1, node: id >> 1, state: 'online' as const })),
  ...over,
});

describe('validation', () => {
  const bad: [string, Partial<TopologySpec>, RegExp][] = [
    ['duplicate CPU ids', { cpus: [0, 1, 1].map((id) => ({ id, socket: 0, core: 0, node: 0, state: 'online' as const })) }, /duplicate CPU id 1/],
    ['duplicate node ids', { nodes: [{ id: 0, memsize: 1, memfree: 1 }, { id: 0, memsize: 1, memfree: 1 }, { id: 1, memsize: 1, memfree: 1 }] }, /duplicate node id 0/],
    ['a wrong-size distance matrix', { distances: [[10, 20, 20], [20, 10, 20]] }, /distance row 0 has 3 entries, expected 2/],
    ['a short distance row', { distances: [[10, 20], [20]] }, /distance row 1 has 1 entries, expected 2/],
    ['an asymmetric matrix', { distances: [[10, 20], [21, 10]] }, /asymmetric: \[1\]\[0\] = 21 but \[0\]\[1\] = 20/],
    ['a local distance other than 10', { distances: [[10, 20], [20, 11]] }, /distance\[1\]\[1\] = 11/],
    ['a distance that is not a byte', { distances: [[10, 256], [256, 10]] }, /distance\[0\]\[1\] = 256 is not a byte/],
    ['an unknown state', { cpus: [{ id: 0, socket: 0, core: 0, node: 0, state: 'busy' as never }] }, /CPU 0: unknown state "busy"/],
    ['a CPU on an unlisted node', { cpus: [{ id: 0, socket: 0, core: 0, node: 5, state: 'online' }] }, /CPU 0: node 5 is not a listed node/],
    ['more free memory than memory', { nodes: [{ id: 0, memsize: 1, memfree: 2 }] }, /node 0: memfree 2 exceeds memsize 1/],
    ['more than 16384 CPU ids', { nrCpuIds: 16385 }, /nr_cpu_ids 16385 is not in 1\.\.16384/],
    ['a node id of 64', { nodes: [{ id: 64, memsize: 1, memfree: 1 }] }, /node id 64 is not an integer in 0\.\.63/],
    ['no online CPU', { cpus: [{ id: 0, socket: 0, core: 0, node: 0, state: 'offline' }] }, /no online CPU/],
    ['a not-present CPU with a node', { cpus: [{ id: 0, socket: 0, core: 0, node: 0, state: 'online' }, { id: 1, socket: -1, core: -1, node: 0, state: 'not-present' }] }, /CPU 1: a not-present CPU has no socket, core or node/],
  ];
  for (const [what, over, why] of bad) {
    it(`rejects ${what} (EINVAL)`, () => {
      expect(() => new Topology(spec(over))).toThrow(why);
      expect(() => new Topology(spec(over))).toThrow(/^EINVAL: topology: /);
    });
  }
  it('fills unlisted ids: CPUs not present, nodes offline and unreachable', () => {
    const t = new Topology(spec({ nrCpuIds: 6, nodes: [{ id: 0, memsize: 1, memfree: 1 }, { id: 2, memsize: 1, memfree: 1 }], cpus: [{ id: 0, socket: 0, core: 0, node: 2, state: 'online' }] }));
    expect(t.cpus.map((c) => c.state)).toEqual(['online', ...Array(5).fill('not-present')]);
    expect(t.nodes.map((n) => n.online)).toEqual([true, false, true]);
    expect(t.distances).toEqual([[10, 255, 20], [255, 255, 255], [20, 255, 10]]);
  });
});

describe('JSON', () => {
  const sources: [string, () => Topology][] = [
    ['synthetic with a SLIT', () => Topology.fromSynthetic('pack:4 node:2 core:3 pu:2', { distance: 'package-hops' })],
    ['xl info', () => Topology.fromXlInfo(readFileSync(new URL('./fixtures/xl-info-n.txt', import.meta.url), 'utf8'))],
  ];
  for (const [what, make] of sources) {
    it(`round-trips ${what}, through text too, with CPU states as they are`, () => {
      const t = make();
      t.setCpuState(2, 'faulted');
      const again = Topology.fromJSON(JSON.parse(JSON.stringify(t)));
      expect(again.toJSON()).toEqual(t.toJSON());
      expect(again.cpus).toEqual(t.cpus);
      expect(again.nodes).toEqual(t.nodes);
      expect(Topology.fromJSON(JSON.stringify(t)).distances).toEqual(t.distances);
    });
  }
  it('rejects what is not a topology', () => {
    expect(() => Topology.fromJSON('{')).toThrow(/^EINVAL: topology JSON: /);
    expect(() => Topology.fromJSON({ format: 'other', version: 1 })).toThrow(/format is "other"/);
    expect(() => Topology.fromJSON({ ...Topology.fromSynthetic('pu:2').toJSON(), version: 2 })).toThrow(/unsupported version 2/);
    expect(() => Topology.fromJSON({ ...Topology.fromSynthetic('pu:2').toJSON(), cpus: [null] })).toThrow(/CPU id undefined/);
  });
});

describe('CPU state changes', () => {
  it('go through setCpuState, return the old state, and reach every listener', () => {
    const t = new Topology(spec());
    const xen: CpuStateChange[] = [];
    const solaris: CpuStateChange[] = [];
    t.subscribe((c) => xen.push(c));
    const stop = t.subscribe((c) => solaris.push(c));
    expect(t.setCpuState(1, 'offline')).toBe('online');
    expect(t.setCpuState(1, 'spare')).toBe('offline');
    stop();
    expect(t.setCpuState(1, 'online')).toBe('spare');
    expect(xen).toEqual([{ cpu: 1, from: 'online', to: 'offline' }, { cpu: 1, from: 'offline', to: 'spare' }, { cpu: 1, from: 'spare', to: 'online' }]);
    expect(solaris).toHaveLength(2);
    expect(t.onlineCpus()).toEqual([0, 1, 2, 3]);
  });

  it('are undone when a listener refuses, and the listeners already told hear the reverse', () => {
    const t = new Topology(spec());
    const seen: string[] = [];
    t.subscribe((c) => seen.push(`${c.cpu}:${c.from}->${c.to}`));
    t.subscribe(() => {
      throw new Error('pset would be empty');
    });
    expect(() => t.setCpuState(2, 'offline')).toThrow('pset would be empty');
    expect(t.cpu(2).state).toBe('online');
    expect(seen).toEqual(['2:online->offline', '2:offline->online']);
  });

  it('refuse the last online CPU (EBUSY), not-present CPUs and unknown states (EINVAL)', () => {
    const t = new Topology(spec({ nrCpuIds: 3, cpus: [0, 1].map((id) => ({ id, socket: 0, core: 0, node: 0, state: 'online' as const })) }));
    t.setCpuState(0, 'offline');
    expect(() => t.setCpuState(1, 'faulted')).toThrow(/^EBUSY: CPU 1 is the last online CPU/);
    expect(() => t.setCpuState(2, 'online')).toThrow(/^EINVAL: CPU 2 is not present/);
    expect(() => t.setCpuState(0, 'not-present')).toThrow(/^EINVAL: CPU 0 cannot become not-present/);
    expect(() => t.setCpuState(0, 'on' as never)).toThrow(/^EINVAL: unknown CPU state "on"/);
    expect(() => t.setCpuState(3, 'online')).toThrow(/^EINVAL: CPU 3 is not in 0\.\.2/);
    expect(t.cpus.map((c) => c.state)).toEqual(['offline', 'online', 'not-present']);
  });
});
