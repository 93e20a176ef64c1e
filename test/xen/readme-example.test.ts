// The README's hypervisor and libxenctrl example, through the package's public entry.
import { expect, it } from 'vitest';
import {
  createEngine, createHypervisor, Topology, xc_cpumap_alloc, xc_cpumap_setcpu, xc_interface_open, xc_vcpu_setaffinity,
  XEN_VCPUAFFINITY_SOFT,
} from '../../bindings/index.js';

it('README: create a domain, pin vCPUs, read node affinity, remove a CPU from its pool, libxenctrl', () => {
  const topology = Topology.fromSynthetic('pack:2 node:2 core:8 pu:2');
  const engine = createEngine({ nrCpus: topology.nrCpuIds });
  const hv = createHypervisor({ engine, topology, version: 'REF', dom0: { vcpus: 4 } });
  const domid = hv.createDomain({ maxVcpus: 4 });
  hv.maxVcpus(domid, 4);
  expect(hv.getNodeAffinity(domid).toArray()).toEqual([0, 1, 2, 3]);
  for (let v = 0; v < 4; v++) hv.setVcpuAffinity(domid, v, { hard: engine.nodeCpumask(1) });
  expect(hv.getNodeAffinity(domid).toArray()).toEqual([1]);
  hv.cpupoolRemoveCpu(0, engine.nodeCpumask(1).first());
  expect(hv.getVcpuAffinity(domid, 0).hard.toString()).toBe('16-31');
  const xch = xc_interface_open(hv);
  const soft = xc_cpumap_alloc(xch);
  xc_cpumap_setcpu(17, soft);
  expect(xc_vcpu_setaffinity(xch, domid, 0, null, soft, XEN_VCPUAFFINITY_SOFT)).toBe(0);
  expect(soft[2]).toBe(0x02);
  expect(xc_vcpu_setaffinity(xch, domid, 9, null, soft, XEN_VCPUAFFINITY_SOFT)).toBe(-1);
  expect(xch.errno).toBe(22);
});
