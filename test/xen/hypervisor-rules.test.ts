// The numbered rules and error tables of spec xen-hypervisor.md §3-6, one test each,
// through the idiomatic Hypervisor API (errors as AffinityError.errno).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/engine.js';
import { errnoOf } from '../helpers.js';
import { Topology } from '../../bindings/topology/topology.js';
import { createHypervisor, type Hypervisor } from '../../bindings/xen/hypervisor/hypervisor.js';
import type { Dom0Options, HypervisorOptions } from '../../bindings/xen/hypervisor/types.js';
import { setVcpuAffinity, XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT } from '../../bindings/xen/hypervisor/domctl.js';
import { SCHED_CREDIT } from '../../bindings/xen/hypervisor/types.js';

function host(spec = 'node:2 core:4 pu:1', opts: Partial<HypervisorOptions> & { dom0?: Dom0Options | false } = { dom0: false }) {
  const topology = Topology.fromSynthetic(spec);
  const engine = createEngine({ nrCpus: topology.nrCpuIds });
  const hv = createHypervisor({ engine, topology, ...opts });
  const m = (...cpus: number[]) => engine.cpumaskFrom(cpus);
  return { hv, engine, topology, m };
}
const aff = (hv: Hypervisor, d: number, v: number) => {
  const a = hv.getVcpuAffinity(d, v);
  return { hard: a.hard.toArray(), soft: a.soft.toArray() };
};
const nodes = (hv: Hypervisor, d: number) => hv.getNodeAffinity(d).toArray();
const ALL8 = [0, 1, 2, 3, 4, 5, 6, 7];

function domU(hv: Hypervisor, vcpus = 2, max = vcpus) {
  const d = hv.createDomain({ maxVcpus: max });
  hv.maxVcpus(d, vcpus);
  return d;
}

describe('§3.1 defaults at vCPU creation', () => {
  it('a domU gets hard = soft = all', () => {
    const { hv } = host();
    const d = domU(hv);
    expect(aff(hv, d, 1)).toEqual({ hard: ALL8, soft: ALL8 });
  });
  it('dom0 with dom0_nodes (strict): hard = CPUs of those nodes, soft = all, node affinity fixed', () => {
    const { hv } = host(undefined, { dom0: { nodes: [1], vcpus: 2 } });
    expect(aff(hv, 0, 0)).toEqual({ hard: [4, 5, 6, 7], soft: ALL8 });
    expect(nodes(hv, 0)).toEqual([1]);
    expect(hv.domain(0).autoNodeAffinity).toBe(false);
  });
  it('dom0 relaxed: hard = all, soft = dom0_cpus', () => {
    const { hv } = host(undefined, { dom0: { nodes: [0], relaxed: true, vcpus: 2 } });
    expect(aff(hv, 0, 1)).toEqual({ hard: ALL8, soft: [0, 1, 2, 3] });
  });
  it('dom0_vcpus_pin: each vCPU hard-pinned to its initial processor', () => {
    const { hv } = host(undefined, { dom0: { vcpusPin: true, vcpus: 3 } });
    expect([0, 1, 2].map((v) => aff(hv, 0, v).hard)).toEqual([[0], [1], [2]]);
    expect(hv.domain(0).unitPinned[0]).toBe(1);
  });
  it('dom0 without dom0_nodes: auto node affinity over Pool-0', () => {
    const { hv } = host(undefined, { dom0: {} });
    expect(hv.domain(0).created).toBe(8);
    expect(hv.domain(0).autoNodeAffinity).toBe(true);
    expect(nodes(hv, 0)).toEqual([0, 1]);
  });
});

describe('§3.2-3.4 setting affinity', () => {
  it('masks are stored raw; soft_aff_effective and the pinned flag follow', () => {
    const { hv, m, engine } = host();
    const d = domU(hv);
    const p = hv.cpupoolCreate();
    void p;
    hv.cpupoolRemoveCpu(0, 7);
    const eff = hv.setVcpuAffinity(d, 0, { hard: m(6, 7), soft: m(6) });
    expect(eff.hard!.toArray()).toEqual([6]); // write-back: hard ∩ res_valid
    expect(aff(hv, d, 0).hard).toEqual([6, 7]); // stored raw
    const dom = hv.domain(d);
    expect(dom.unitSoftEffective[0]).toBe(1);
    expect(dom.unitPinned[0]).toBe(0);
    hv.setVcpuAffinity(d, 0, { hard: m(6) });
    expect(dom.unitPinned[0]).toBe(1);
    expect(dom.unitSoftEffective[0]).toBe(0); // hard ⊆ soft
    void engine;
  });
  it('hard must meet the pool; soft is never validated', () => {
    const { hv, m } = host();
    const d = domU(hv);
    hv.cpupoolRemoveCpu(0, 7);
    expect(errnoOf(() => hv.setVcpuAffinity(d, 0, { hard: m(7) }))).toBe('EINVAL');
    expect(errnoOf(() => hv.setVcpuAffinity(d, 0, { hard: m() }))).toBe('EINVAL');
    expect(aff(hv, d, 0).hard).toEqual(ALL8);
    expect(errnoOf(() => hv.setVcpuAffinity(d, 0, { soft: m() }))).toBe('ok');
    expect(errnoOf(() => hv.setVcpuAffinity(d, 0, { hard: m(0), soft: m(7) }))).toBe('ok');
    expect(aff(hv, d, 0)).toEqual({ hard: [0], soft: [7] });
  });
  it('sched-gran=core: a mask of only second hyperthreads is EINVAL; write-back holds only masters', () => {
    const { hv, m } = host('pack:1 node:2 core:2 pu:2', { dom0: false, schedGran: 'core' });
    expect(hv.state.granularity).toBe(2);
    expect(hv.state.pools.get(0)!.resValid.toArray()).toEqual([0, 2, 4, 6]);
    const d = domU(hv, 4);
    expect(hv.unitOf(d, 1)).toBe(0);
    expect(hv.unitOf(d, 2)).toBe(1);
    expect(errnoOf(() => hv.setVcpuAffinity(d, 0, { hard: m(1, 3, 5, 7) }))).toBe('EINVAL');
    expect(hv.setVcpuAffinity(d, 0, { hard: m(2, 3) }).hard!.toArray()).toEqual([2]);
    // Affinity is per unit: vCPU 1 shares vCPU 0's.
    expect(aff(hv, d, 1).hard).toEqual([2, 3]);
  });
  it('an asymmetric host falls back to sched-gran=cpu', () => {
    const topology = new Topology({
      cpus: [0, 1, 2].map((id) => ({ id, socket: 0, core: id < 2 ? 0 : 1, node: 0, state: 'online' as const })),
      nodes: [{ id: 0, memsize: 2 ** 30, memfree: 2 ** 30 }],
      distances: [[10]],
    });
    const hv = createHypervisor({ engine: createEngine({ nrCpus: 3 }), topology, schedGran: 'core', dom0: false });
    expect(hv.state.schedGran).toBe('cpu');
    expect(hv.state.log[0]).toMatch(/Asymmetric/);
  });
});

describe('§3.5 temporary pinning (SCHEDOP_pin_override)', () => {
  const setup = () => {
    const h = host(undefined, { dom0: { vcpus: 2 } });
    return h;
  };
  it('pins save hard, make setters EBUSY (node affinity still recomputed), undo restores', () => {
    const { hv, m } = setup();
    hv.setVcpuAffinity(0, 0, { hard: m(0, 1, 2, 3), soft: m(0) });
    hv.pinOverride(0, 0, 5);
    expect(aff(hv, 0, 0)).toEqual({ hard: [5], soft: [0] });
    // Make node affinity stale, then show the EBUSY path recomputes it (§3.3 step 4).
    hv.domain(0).nodeAffinity.clearAll();
    expect(errnoOf(() => hv.setVcpuAffinity(0, 0, { hard: m(1) }))).toBe('EBUSY');
    expect(nodes(hv, 0)).toEqual([0, 1]);
    expect(errnoOf(() => hv.pinOverride(0, 0, 5))).toBe('EBUSY');
    hv.pinOverride(0, 0, -1);
    expect(aff(hv, 0, 0)).toEqual({ hard: [0, 1, 2, 3], soft: [0] });
    expect(errnoOf(() => hv.pinOverride(0, 0, -1))).toBe('EINVAL');
  });
  it('pins never touch node affinity', () => {
    const { hv, m } = setup();
    hv.setVcpuAffinity(0, 0, { hard: m(0) });
    hv.setVcpuAffinity(0, 1, { hard: m(1) });
    expect(nodes(hv, 0)).toEqual([0]);
    hv.pinOverride(0, 0, 6);
    expect(nodes(hv, 0)).toEqual([0]);
  });
  it('errors: non-hardware domain EPERM, pcpu ≥ NR_CPUS or ≥ nr_cpu_ids EINVAL, CPU outside the pool EINVAL', () => {
    const { hv } = setup();
    const d = domU(hv);
    expect(errnoOf(() => hv.pinOverride(d, 0, 1))).toBe('EPERM');
    expect(errnoOf(() => hv.pinOverride(0, 0, 16384))).toBe('EINVAL');
    expect(errnoOf(() => hv.pinOverride(0, 0, 8))).toBe('EINVAL');
    hv.cpupoolRemoveCpu(0, 7);
    expect(errnoOf(() => hv.pinOverride(0, 0, 7))).toBe('EINVAL');
  });
  it('setvcpuaffinity FORCE undoes the override pin first', () => {
    const { hv, m } = setup();
    hv.pinOverride(0, 1, 3);
    expect(errnoOf(() => hv.setVcpuAffinity(0, 1, { hard: m(2) }))).toBe('EBUSY');
    hv.setVcpuAffinity(0, 1, { hard: m(2), force: true });
    expect(aff(hv, 0, 1).hard).toEqual([2]);
    expect(hv.domain(0).affinityBroken[1]).toBe(0);
  });
  it('a pinned vCPU blocks CPU removal (EADDRINUSE) and pool moves (EBUSY), changing nothing', () => {
    const { hv, m } = setup();
    hv.setVcpuAffinity(0, 0, { hard: m(5) });
    hv.pinOverride(0, 0, 5);
    expect(errnoOf(() => hv.cpupoolRemoveCpu(0, 5))).toBe('EADDRINUSE');
    expect(hv.cpupoolInfo(0).cpuValid).toEqual(ALL8);
    expect(aff(hv, 0, 0).hard).toEqual([5]);
    hv.cpupoolRemoveCpu(0, 7);
    const p = hv.cpupoolCreate();
    hv.cpupoolAddCpu(p, 7);
    // dom0 cannot move itself (EPERM) — use the state-level op with another caller to reach EBUSY.
    expect(errnoOf(() => hv.cpupoolMoveDomain(p, 0))).toBe('EPERM');
  });
});

describe('§3.6-3.7 node affinity and initial processors', () => {
  it('"all" before vCPUs exist leaves the explicit value until max_vcpus', () => {
    const { hv, engine } = host();
    const d = hv.createDomain({ maxVcpus: 2 });
    hv.setNodeAffinity(d, engine.nodemaskOf(1));
    hv.setNodeAffinity(d, engine.nodemaskAll());
    expect(nodes(hv, d)).toEqual([1]);
    expect(hv.domain(d).autoNodeAffinity).toBe(true);
    hv.maxVcpus(d, 2);
    expect(nodes(hv, d)).toEqual([0, 1]);
  });
  it('new vCPUs are spread round-robin from the pool\'s first CPU, or over the nodes set before max_vcpus', () => {
    const { hv, engine } = host();
    const a = domU(hv, 3);
    expect(Array.from(hv.domain(a).processor)).toEqual([0, 1, 2]);
    const b = hv.createDomain({ maxVcpus: 6 });
    hv.setNodeAffinity(b, engine.nodemaskOf(1));
    hv.maxVcpus(b, 6);
    expect(Array.from(hv.domain(b).processor)).toEqual([4, 5, 6, 7, 4, 5]);
  });
  it('max_vcpus: only grows, within the creation max (OPEN choice)', () => {
    const { hv } = host();
    const d = domU(hv, 2, 4);
    expect(errnoOf(() => hv.maxVcpus(d, 5))).toBe('EINVAL');
    expect(errnoOf(() => hv.maxVcpus(d, 1))).toBe('EINVAL');
    hv.maxVcpus(d, 4);
    expect(hv.domain(d).created).toBe(4);
  });
});

describe('§3.8-3.9, §6 cpupools', () => {
  it('CPU removal breaks only units left with no pool CPU that held the CPU; soft unchanged; node affinity recomputed', () => {
    const { hv, m } = host();
    const d = domU(hv, 3);
    hv.setVcpuAffinity(d, 0, { hard: m(3), soft: m(3) });
    hv.setVcpuAffinity(d, 1, { hard: m(2, 3) });
    hv.setVcpuAffinity(d, 2, { hard: m(3, 4) });
    hv.cpupoolRemoveCpu(0, 4);
    hv.cpupoolRemoveCpu(0, 3);
    expect(aff(hv, d, 0)).toEqual({ hard: ALL8, soft: [3] });
    expect(aff(hv, d, 1).hard).toEqual([2, 3]);
    expect(aff(hv, d, 2).hard).toEqual(ALL8); // lost 4 then 3: broken at the second removal
    expect(hv.state.log.filter((l) => l.startsWith('Breaking'))).toEqual([`Breaking affinity for d${d}v0`, `Breaking affinity for d${d}v2`]);
    expect(hv.cpupoolFreeinfo()).toEqual([3, 4]);
    // Re-adding does not restore the lost pins.
    hv.cpupoolAddCpu(0, 3);
    expect(aff(hv, d, 0).hard).toEqual(ALL8);
  });
  it('CREATE / DESTROY / INFO errnos and PAR_ANY', () => {
    const { hv } = host();
    expect(hv.cpupoolCreate()).toBe(1);
    expect(hv.cpupoolCreate(5)).toBe(5);
    expect(hv.cpupoolCreate()).toBe(6);
    expect(errnoOf(() => hv.cpupoolCreate(5))).toBe('EEXIST');
    expect(errnoOf(() => hv.cpupoolCreate(7, 99))).toBe('ENOENT');
    expect(hv.cpupoolInfo(2).cpupoolId).toBe(5);
    expect(errnoOf(() => hv.cpupoolInfo(7))).toBe('ENOENT');
    expect(errnoOf(() => hv.cpupoolDestroy(9))).toBe('ENOENT');
    hv.cpupoolRemoveCpu(0, 6);
    hv.cpupoolAddCpu(5, 6);
    expect(errnoOf(() => hv.cpupoolDestroy(5))).toBe('EBUSY');
    hv.cpupoolRemoveCpu(5, 6);
    hv.cpupoolDestroy(5);
    expect(errnoOf(() => hv.cpupoolDestroy(0))).toBe('EBUSY');
  });
  it('ADDCPU / RMCPU errnos', () => {
    const { hv, topology } = host();
    const p = hv.cpupoolCreate();
    expect(errnoOf(() => hv.cpupoolAddCpu(p, 8))).toBe('EINVAL');
    expect(errnoOf(() => hv.cpupoolAddCpu(p, 2))).toBe('ENODEV'); // in Pool-0, not free
    expect(errnoOf(() => hv.cpupoolAddCpu(p))).toBe('ENODEV'); // PAR_ANY with nothing free
    expect(errnoOf(() => hv.cpupoolRemoveCpu(0, 0))).toBe('EINVAL');
    expect(errnoOf(() => hv.cpupoolRemoveCpu(0, 8))).toBe('EINVAL');
    expect(errnoOf(() => hv.cpupoolRemoveCpu(p, 2))).toBe('EADDRNOTAVAIL');
    expect(hv.cpupoolRemoveCpu(0)).toBe(7); // PAR_ANY: the pool's last
    topology.setCpuState(7, 'offline');
    expect(errnoOf(() => hv.cpupoolAddCpu(p, 7))).toBe('ENODEV');
    expect(errnoOf(() => hv.cpupoolRemoveCpu(0, 7))).toBe('EINVAL');
    expect(hv.cpupoolRemoveCpu(0, 6)).toBe(6);
    expect(hv.cpupoolAddCpu(p)).toBe(6);
    const d = hv.createDomain({ maxVcpus: 1, cpupoolId: p });
    hv.maxVcpus(d, 1);
    expect(errnoOf(() => hv.cpupoolRemoveCpu(p, 6))).toBe('EBUSY'); // last CPU of a pool with domains
  });
  it('MOVEDOMAIN: errnos, no-op to the same pool, hard = soft = all after a move', () => {
    const { hv, m } = host();
    const d = domU(hv);
    const p = hv.cpupoolCreate();
    expect(errnoOf(() => hv.cpupoolMoveDomain(p, 99))).toBe('ESRCH');
    expect(errnoOf(() => hv.cpupoolMoveDomain(p, d))).toBe('ENOENT'); // no CPUs
    expect(errnoOf(() => hv.cpupoolMoveDomain(9, d))).toBe('ENOENT');
    hv.setVcpuAffinity(d, 0, { hard: m(1), soft: m(1) });
    hv.cpupoolMoveDomain(0, d);
    expect(aff(hv, d, 0).hard).toEqual([1]);
    hv.cpupoolRemoveCpu(0, 7);
    hv.cpupoolAddCpu(p, 7);
    hv.cpupoolMoveDomain(p, d);
    expect(aff(hv, d, 0)).toEqual({ hard: ALL8, soft: ALL8 });
    expect(Array.from(hv.domain(d).processor)).toEqual([7, 7]);
    expect(nodes(hv, d)).toEqual([1]);
    expect(hv.cpupoolInfo(p).nDom).toBe(1);
  });
  it('createdomain: unknown pool ESRCH, pool without CPUs ENODEV', () => {
    const { hv } = host();
    expect(errnoOf(() => hv.createDomain({ maxVcpus: 1, cpupoolId: 3 }))).toBe('ESRCH');
    const p = hv.cpupoolCreate();
    expect(errnoOf(() => hv.createDomain({ maxVcpus: 1, cpupoolId: p }))).toBe('ENODEV');
  });
});

describe('§6.2 CPU offline/online through the topology', () => {
  it('offlining a Pool-0 CPU breaks affinity and recomputes node affinity; onlining returns it to Pool-0', () => {
    const { hv, m, topology } = host();
    const d = domU(hv);
    hv.setVcpuAffinity(d, 0, { hard: m(5) });
    hv.setVcpuAffinity(d, 1, { hard: m(5) });
    expect(nodes(hv, d)).toEqual([1]);
    expect(hv.physinfo().nr_cpus).toBe(8); // cached until a CPU changes state
    topology.setCpuState(5, 'offline');
    expect(aff(hv, d, 0).hard).toEqual(ALL8);
    expect(nodes(hv, d)).toEqual([0, 1]);
    expect(hv.physinfo().nr_cpus).toBe(7);
    topology.setCpuState(5, 'online');
    expect(hv.cpupoolInfo(0).cpuValid).toEqual(ALL8);
  });
  it('a CPU of another pool cannot go offline (ENODEV) and the topology keeps it online', () => {
    const { hv, topology } = host();
    hv.cpupoolRemoveCpu(0, 3);
    const p = hv.cpupoolCreate();
    hv.cpupoolAddCpu(p, 3);
    expect(errnoOf(() => topology.setCpuState(3, 'offline'))).toBe('ENODEV');
    expect(topology.cpu(3).state).toBe('online');
  });
  it('a temporarily pinned vCPU in Pool-0 blocks offlining (EADDRINUSE)', () => {
    const { hv, topology } = host(undefined, { dom0: { vcpus: 1 } });
    hv.pinOverride(0, 0, 2);
    expect(errnoOf(() => topology.setCpuState(6, 'offline'))).toBe('EADDRINUSE');
    expect(topology.cpu(6).state).toBe('online');
  });
});

describe('§5.3 setvcpuaffinity details', () => {
  it('a failing soft map rolls the hard change back; unknown flag bits are ignored; flags 0 is EINVAL', () => {
    const { hv, m } = host();
    const d = domU(hv);
    hv.setVcpuAffinity(d, 0, { hard: m(1) });
    const hard = { bytes: new Uint8Array([0x0c]), nrBits: 8 };
    const shortSoft = { bytes: new Uint8Array(0), nrBits: 8 }; // the copy would fault: EFAULT
    expect(setVcpuAffinity(hv.state, d, 0, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, hard, shortSoft)).toBe(-14);
    expect(aff(hv, d, 0).hard).toEqual([1]);
    expect(hard.bytes[0]).toBe(0x0c); // written back before soft failed, as libxc callers see it
    expect(setVcpuAffinity(hv.state, d, 0, XEN_VCPUAFFINITY_HARD | 0x80, { bytes: new Uint8Array([0x10]), nrBits: 8 }, null)).toBe(0);
    expect(aff(hv, d, 0).hard).toEqual([4]);
    expect(setVcpuAffinity(hv.state, d, 0, 0, null, null)).toBe(-22);
    expect(setVcpuAffinity(hv.state, d, 0, XEN_VCPUAFFINITY_SOFT, null, null)).toBe(-22);
  });
});

describe('memory (§4.3) and credit parameters', () => {
  it('guest memory goes to the node-affinity nodes, spills to others, and ENOMEM changes nothing', () => {
    const { hv, engine } = host();
    const d = domU(hv);
    hv.setNodeAffinity(d, engine.nodemaskOf(1));
    expect([...hv.populateMemory(d, 2 ** 29)]).toEqual([[1, 2 ** 29]]);
    // A whole 1 GiB extent no longer fits node 1: it comes from node 0 (outside M), not split.
    expect([...hv.populateMemory(d, 2 ** 30)]).toEqual([[0, 2 ** 30]]);
    // Nothing holds 1 GiB any more: 2 MiB extents fill what node 1 has left.
    expect([...hv.populateMemory(d, 2 ** 28)]).toEqual([[1, 2 ** 28]]);
    const free = Array.from(hv.state.nodeFree);
    expect(errnoOf(() => hv.populateMemory(d, 2 ** 31))).toBe('ENOMEM');
    expect(Array.from(hv.state.nodeFree)).toEqual(free);
    hv.destroyDomain(d);
    expect(Array.from(hv.state.nodeFree)).toEqual([2 ** 30, 2 ** 30]);
    expect(hv.physinfo().free_pages).toBe(2 ** 31 / 4096);
  });
  it('a credit1 boot puts Pool-0 on SCHED_CREDIT', () => {
    const { hv } = host(undefined, { dom0: false, scheduler: 'credit' });
    expect(hv.cpupoolInfo(0).schedId).toBe(SCHED_CREDIT);
  });
});
