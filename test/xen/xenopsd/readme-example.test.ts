import { expect, it } from 'vitest';
import { createEngine } from '../../../bindings/engine.js';
import { Topology } from '../../../bindings/topology/topology.js';
import { createHypervisor } from '../../../bindings/xen/hypervisor/hypervisor.js';
import { xc_interface_open } from '../../../bindings/xen/xenctrl.js';
import { createStore } from '../../../bindings/xen/xenstore/store.js';
import { createToolstack, dom0Store } from '../../../bindings/xen/xenopsd/build.js';
import { toolstackXenctrl } from '../../../bindings/xen/xenopsd/xc.js';

// The README's example, run as written (both modes).
it('README: build a VM and read back what each component did', () => {
  const topology = Topology.fromSynthetic('pack:4 node:1(memory=64GiB) core:8 pu:2', { distance: 'package-hops' });
  const out: Record<string, unknown> = {};
  for (const mode of ['reference', 'latest'] as const) {
    const hv = createHypervisor({ engine: createEngine({ nrCpus: topology.nrCpuIds }), topology, scheduler: 'credit', dom0: false });
    const ts = createToolstack({ mode, xc: toolstackXenctrl(xc_interface_open(hv)), store: dom0Store(createStore({ flavour: 'oxenstored' })), numaAffinityPolicy: 'best_effort' });
    const domid = ts.vmCreate({ vcpusMax: 4, memoryStaticMaxMib: 4096, vcpusParams: { weight: '512' } });
    const report = ts.vmBuild(domid);
    const view = ts.inspect(domid);
    out[mode] = {
      policy: report.policy,
      plan: report.placement?.plan?.nodes,
      affinitySet: report.placement?.affinitySet,
      nodeUsage: report.nodeUsage,
      v0: { hard: view.vcpus[0]!.hard.length, soft: `${view.vcpus[0]!.soft[0]}-${view.vcpus[0]!.soft.at(-1)}` },
      nodeAffinity: view.nodeAffinity,
      affinityKey: view.platform['vcpu/0/affinity']?.length ?? null,
      weight: hv.domain(domid).weight,
      memory: [...hv.domain(domid).memory.keys()],
    };
  }
  expect(out).toEqual({
    reference: { policy: 'Best_effort', plan: [0], affinitySet: 'soft', nodeUsage: [1, 0, 0, 0], v0: { hard: 64, soft: '0-15' }, nodeAffinity: [0], affinityKey: 64, weight: 512, memory: [0] },
    latest: { policy: 'Best_effort', plan: [0], affinitySet: 'soft', nodeUsage: [1, 0, 0, 0], v0: { hard: 64, soft: '0-15' }, nodeAffinity: [0], affinityKey: null, weight: 512, memory: [0] },
  });
});
