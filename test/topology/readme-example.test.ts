// The README's topology example, through the package's public entry.
import { expect, it } from 'vitest';
import { createEngine, hostViews, installTopology, Topology } from '../../bindings/index.js';

it('README: synthetic host with Linux-style thread numbering, JSON round trip, engine install', () => {
  const host = Topology.fromSynthetic('pack:4 node:4 core:32 pu:2(indexes=core:pack)', { distance: 'package-hops' });
  const engine = createEngine({ nrCpus: host.nrCpuIds });
  installTopology(engine, host);
  expect(engine.nodeCpumask(5).toString()).toBe('160-191,672-703');
  expect(Topology.fromJSON(JSON.stringify(host)).toJSON()).toEqual(host.toJSON());
  expect(hostViews.physinfo(host).max_node_id).toBe(63);
});
