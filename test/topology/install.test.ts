/** installTopology: the engine's CPU→node table and per-node masks are the topology's. */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/engine.js';
import { installTopology } from '../../bindings/topology/install.js';
import { Topology } from '../../bindings/topology/topology.js';

// Node 1 memory-only, CPU 5 without node, CPUs 6-7 not present, CPU 3 offline.
const topo = new Topology({
  nrCpuIds: 8,
  nodes: [{ id: 0, memsize: 1, memfree: 1 }, { id: 1, memsize: 1, memfree: 1 }, { id: 2, memsize: 1, memfree: 1 }],
  cpus: [0, 1, 2, 3, 4, 5].map((id) => ({ id, socket: 0, core: id, node: id === 5 ? -1 : id < 3 ? 0 : 2, state: id === 3 ? 'offline' as const : 'online' as const })),
});

describe('installTopology', () => {
  for (const kernels of ['wasm', 'ts'] as const) {
    it(`fills cpu_to_node and node masks (${kernels} kernels)`, () => {
      const engine = createEngine({ nrCpus: 8, kernels });
      installTopology(engine, topo);
      expect([...Array(8).keys()].map((c) => engine.cpuToNode(c))).toEqual(topo.cpus.map((c) => c.node));
      for (const n of [0, 1, 2]) expect(engine.nodeCpumask(n).toArray()).toEqual(topo.nodeCpus(n));
      expect(engine.nodeCpumask(2).toArray()).toEqual([3, 4]); // offline CPU 3 keeps its node, as in Xen
    });
  }

  it('a 16384-CPU, 64-node host from hwloc syntax', () => {
    const big = Topology.fromSynthetic('pack:16 node:4 core:128 pu:2');
    const engine = createEngine({ nrCpus: big.nrCpuIds });
    installTopology(engine, big);
    for (const n of [0, 31, 63]) expect(engine.nodeCpumask(n).toString()).toBe(`${n * 256}-${n * 256 + 255}`);
  });

  it('refuses a mismatched engine and leaves its table as it was', () => {
    const engine = createEngine({ nrCpus: 8, nrNodes: 2 });
    engine.setCpuToNode([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(() => installTopology(engine, topo)).toThrow(/^EINVAL: topology has node ids up to 2, engine node masks only 2 bits/);
    expect(() => installTopology(createEngine({ nrCpus: 16 }), topo)).toThrow(/^EINVAL: engine has 16 CPUs, the topology 8/);
    expect(engine.nodeCpumask(1).toArray()).toEqual([4, 5, 6, 7]);
  });
});
