// libxenctrl conventions (spec xen-hypervisor.md §8, §6.3, §7): 0 / -1 with xch.errno, the
// cached max CPUs/nodes, byte cpumaps, maps bounced in and out of xc_vcpu_setaffinity, raw
// read-back, node affinity, the topology sysctls, the cpupool wrappers and the credit1 domctls.
import { describe, expect, it } from 'vitest';
import { createEngine, type KernelKind } from '../../bindings/engine.js';
import { ERRNO } from '../../bindings/errors.js';
import { Topology, type TopologySpec } from '../../bindings/topology/topology.js';
import { createHypervisor, type Hypervisor } from '../../bindings/xen/hypervisor/hypervisor.js';
import type { HypervisorOptions } from '../../bindings/xen/hypervisor/types.js';
import {
  xc_cpumap_alloc, xc_cpumap_clearcpu, xc_cpumap_setcpu, xc_cpumap_testcpu, xc_cpupool_addcpu, xc_cpupool_create,
  xc_cpupool_destroy, xc_cpupool_freeinfo, xc_cpupool_getinfo, xc_cpupool_movedomain, xc_cpupool_removecpu,
  xc_cputopoinfo, xc_domain_create, xc_domain_max_vcpus, xc_domain_node_getaffinity, xc_domain_node_setaffinity,
  xc_get_cpumap_size, xc_get_max_cpus, xc_get_max_nodes, xc_get_nodemap_size, xc_get_online_cpus, xc_interface_open,
  xc_nodemap_alloc, xc_numainfo, xc_physinfo, xc_sched_credit_domain_get, xc_sched_credit_domain_set,
  xc_vcpu_getaffinity, xc_vcpu_setaffinity, type XcInterface,
} from '../../bindings/xen/xenctrl.js';
import type { XenCputopo, XenMeminfo, XenPhysinfo } from '../../bindings/xen/hypervisor/sysctl.js';

// Values from Xen's public headers, written out so a wrong constant in bindings/ is caught.
const HARD = 1, SOFT = 2; // XEN_VCPUAFFINITY_HARD / _SOFT
const SCHED_CREDIT = 5, SCHED_CREDIT2 = 6; // XEN_SCHEDULER_*
const PAR_ANY = 0xffffffff; // XEN_SYSCTL_CPUPOOL_PAR_ANY
const INVALID_U32 = 0xffffffff; // ~0U: XEN_INVALID_{CORE,SOCKET,NODE}_ID, _MEM_SZ, _NODE_DIST
const PAGE = 4096;

const KINDS: KernelKind[] = ['wasm', 'ts'];

interface Host { hv: Hypervisor; topology: Topology; xch: XcInterface }

function host(kernels: KernelKind, topology: Topology | string, opts: Partial<HypervisorOptions> = {}): Host {
  const topo = typeof topology === 'string' ? Topology.fromSynthetic(topology) : topology;
  const engine = createEngine({ nrCpus: topo.nrCpuIds, kernels });
  const hv = createHypervisor({ engine, topology: topo, dom0: false, ...opts });
  return { hv, topology: topo, xch: xc_interface_open(hv) };
}

/** A cpumap of the host's size with these CPUs, built with xc_cpumap_setcpu. */
function cpumap(xch: XcInterface, ...cpus: number[]): Uint8Array {
  const m = xc_cpumap_alloc(xch);
  for (const c of cpus) xc_cpumap_setcpu(c, m);
  return m;
}
/** The CPUs set in a cpumap, read with xc_cpumap_testcpu. */
function cpusIn(m: Uint8Array): number[] {
  return [...Array(m.length * 8).keys()].filter((c) => xc_cpumap_testcpu(c, m));
}
function nodemap(xch: XcInterface, ...nodes: number[]): Uint8Array {
  const m = xc_nodemap_alloc(xch);
  for (const n of nodes) m[n >> 3] |= 1 << (n & 7);
  return m;
}
const nodesIn = (m: Uint8Array) => [...Array(m.length * 8).keys()].filter((n) => m[n >> 3] & (1 << (n & 7)));

/** xc_domain_create + xc_domain_max_vcpus; returns the domid. */
function domain(h: Host, maxVcpus: number, cpupoolId = 0, created = maxVcpus): number {
  const out = { domid: 0 };
  expect(xc_domain_create(h.xch, out, { maxVcpus, cpupoolId })).toBe(0);
  if (created) expect(xc_domain_max_vcpus(h.xch, out.domid, created)).toBe(0);
  return out.domid;
}

function getAffinity(h: Host, domid: number, vcpu: number) {
  const hard = xc_cpumap_alloc(h.xch), soft = xc_cpumap_alloc(h.xch);
  expect(xc_vcpu_getaffinity(h.xch, domid, vcpu, hard, soft, HARD | SOFT)).toBe(0);
  return { hard: cpusIn(hard), soft: cpusIn(soft) };
}

describe.each(KINDS)('libxenctrl (%s kernels)', (kernels) => {
  describe('return convention: 0, or -1 with the positive errno in xch.errno', () => {
    it('a failing call sets errno; a later success returns 0 and leaves errno alone (as C does)', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      expect(xc_vcpu_setaffinity(h.xch, 42, 0, cpumap(h.xch, 0), null, HARD)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.ESRCH);
      const d = domain(h, 2);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, cpumap(h.xch, 0), null, HARD)).toBe(0);
      expect(h.xch.errno).toBe(ERRNO.ESRCH);
      expect(xc_vcpu_setaffinity(h.xch, d, 2, cpumap(h.xch, 0), null, HARD)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
    });
  });

  describe('xc_get_max_cpus / xc_get_max_nodes and the map sizes', () => {
    it.each([
      ['node:2 core:4 pu:1', 8, 1],
      ['node:2 core:5 pu:2', 20, 3],
      ['node:4 core:8 pu:2', 64, 8],
      ['node:5 core:13 pu:1', 65, 9],
    ])('%s: max_cpus = max_cpu_id + 1 = %i, cpumap (max + 7) / 8 = %i bytes, zeroed', (spec, cpus, bytes) => {
      const h = host(kernels, spec);
      const info: Partial<XenPhysinfo> = {};
      expect(xc_physinfo(h.xch, info)).toBe(0);
      expect(xc_get_max_cpus(h.xch)).toBe(info.max_cpu_id! + 1);
      expect(xc_get_max_cpus(h.xch)).toBe(cpus);
      expect(xc_get_cpumap_size(h.xch)).toBe(bytes);
      const m = xc_cpumap_alloc(h.xch);
      expect(m).toHaveLength(bytes);
      expect(m.every((b) => b === 0)).toBe(true);
      expect(xc_get_max_nodes(h.xch)).toBe(info.max_node_id! + 1);
      expect(xc_get_max_nodes(h.xch)).toBe(64);
      expect(xc_get_nodemap_size(h.xch)).toBe(8);
      expect(xc_nodemap_alloc(h.xch)).toEqual(new Uint8Array(8));
    });

    it('max CPUs and nodes are cached after the first call; online CPUs are not', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      expect(h.xch.maxCpus).toBeUndefined();
      expect(h.xch.maxNodes).toBeUndefined();
      xc_get_max_cpus(h.xch);
      xc_get_max_nodes(h.xch);
      expect([h.xch.maxCpus, h.xch.maxNodes]).toEqual([8, 64]);
      expect(xc_get_online_cpus(h.xch)).toBe(8);
      h.topology.setCpuState(5, 'offline');
      expect(xc_get_online_cpus(h.xch)).toBe(7);
      expect(xc_get_max_cpus(h.xch)).toBe(8);
    });
  });

  describe('xc_cpumap_setcpu / clearcpu / testcpu', () => {
    it('bit c is bit c % 8 of byte c / 8, the layout Xen reads', () => {
      const h = host(kernels, 'node:2 core:5 pu:2');
      const m = cpumap(h.xch, 0, 9, 19);
      expect(Array.from(m)).toEqual([0x01, 0x02, 0x08]);
      expect([xc_cpumap_testcpu(9, m), xc_cpumap_testcpu(8, m), xc_cpumap_testcpu(19, m)]).toEqual([1, 0, 1]);
      xc_cpumap_clearcpu(9, m);
      expect(Array.from(m)).toEqual([0x01, 0x00, 0x08]);
      const d = domain(h, 1);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, cpumap(h.xch, 3, 11, 19), null, HARD)).toBe(0);
      expect(getAffinity(h, d, 0).hard).toEqual([3, 11, 19]);
      // nr_bits = cpumap size · 8 = 24: bits 20-23 are above nr_cpu_ids, dropped in and masked out.
      const all = new Uint8Array([0xff, 0xff, 0xff]);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, all, null, HARD)).toBe(0);
      expect(Array.from(all)).toEqual([0xff, 0xff, 0x0f]);
    });
  });

  describe('xc_vcpu_setaffinity', () => {
    // Pool 1 owns CPUs 4-7 (node 1); the domain lives there.
    const pooled = () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const pool = { value: PAR_ANY };
      expect(xc_cpupool_create(h.xch, pool, SCHED_CREDIT2)).toBe(0);
      for (const c of [4, 5, 6, 7]) {
        expect(xc_cpupool_removecpu(h.xch, 0, c)).toBe(0);
        expect(xc_cpupool_addcpu(h.xch, pool.value, c)).toBe(0);
      }
      return { h, d: domain(h, 2, pool.value) };
    };

    it('vcpu -1 is 0xFFFFFFFF in the domctl: EINVAL, maps untouched', () => {
      const { h, d } = pooled();
      const hard = cpumap(h.xch, 5), soft = cpumap(h.xch, 6);
      expect(xc_vcpu_setaffinity(h.xch, d, -1, hard, soft, HARD | SOFT)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect([cpusIn(hard), cpusIn(soft)]).toEqual([[5], [6]]);
    });

    it('a NULL map with its flag set is EINVAL; nothing changes', () => {
      const { h, d } = pooled();
      expect(xc_vcpu_setaffinity(h.xch, d, 0, null, cpumap(h.xch, 5), HARD | SOFT)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, cpumap(h.xch, 5), null, HARD | SOFT)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect(getAffinity(h, d, 0)).toEqual({ hard: [0, 1, 2, 3, 4, 5, 6, 7], soft: [0, 1, 2, 3, 4, 5, 6, 7] });
    });

    it('flags are not derived from the maps: a non-NULL hard map without HARD is ignored and left as passed', () => {
      const { h, d } = pooled();
      const hard = cpumap(h.xch, 5), soft = cpumap(h.xch, 4, 6);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, hard, soft, SOFT)).toBe(0);
      expect(cpusIn(hard)).toEqual([5]);
      expect(cpusIn(soft)).toEqual([4, 6]);
      expect(getAffinity(h, d, 0)).toEqual({ hard: [0, 1, 2, 3, 4, 5, 6, 7], soft: [4, 6] });
    });

    it('maps are copied back: hard ∩ pool, soft ∩ pool ∩ new hard; the stored masks stay raw', () => {
      const { h, d } = pooled();
      const hard = cpumap(h.xch, 2, 3, 4, 5), soft = cpumap(h.xch, 0, 5, 6);
      expect(xc_vcpu_setaffinity(h.xch, d, 1, hard, soft, HARD | SOFT | 0x100)).toBe(0); // unknown bit ignored
      expect(cpusIn(hard)).toEqual([4, 5]);
      expect(cpusIn(soft)).toEqual([5]);
      expect(getAffinity(h, d, 1)).toEqual({ hard: [2, 3, 4, 5], soft: [0, 5, 6] });
      expect(getAffinity(h, d, 0)).toEqual({ hard: [0, 1, 2, 3, 4, 5, 6, 7], soft: [0, 1, 2, 3, 4, 5, 6, 7] });
    });

    it('an early error (hard with no CPU of the pool) leaves both maps and both masks unchanged', () => {
      const { h, d } = pooled();
      const hard = cpumap(h.xch, 0, 1), soft = cpumap(h.xch, 5);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, hard, soft, HARD | SOFT)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect([cpusIn(hard), cpusIn(soft)]).toEqual([[0, 1], [5]]);
      expect(getAffinity(h, d, 0)).toEqual({ hard: [0, 1, 2, 3, 4, 5, 6, 7], soft: [0, 1, 2, 3, 4, 5, 6, 7] });
    });

    it('soft failing after hard succeeded: hard is rolled back in Xen, but the hard map holds the new effective hard', () => {
      const h = host(kernels, 'node:2 core:5 pu:2'); // 20 CPUs: a 3-byte cpumap
      const d = domain(h, 1);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, cpumap(h.xch, 1, 2), null, HARD)).toBe(0);
      const hard = cpumap(h.xch, 12, 13);
      const shortSoft = new Uint8Array(1); // shorter than the cpumap size: Xen's copy faults
      expect(xc_vcpu_setaffinity(h.xch, d, 0, hard, shortSoft, HARD | SOFT)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EFAULT);
      expect(cpusIn(hard)).toEqual([12, 13]);
      expect(getAffinity(h, d, 0).hard).toEqual([1, 2]);
    });
  });

  describe('xc_vcpu_getaffinity', () => {
    it('returns the raw masks: defaults are every CPU below nr_cpu_ids, out-of-pool CPUs are kept', () => {
      const h = host(kernels, 'node:2 core:5 pu:2');
      const d = domain(h, 2);
      const hard = new Uint8Array([0xaa, 0xaa, 0xaa]), soft = new Uint8Array([0xaa, 0xaa, 0xaa]);
      expect(xc_vcpu_getaffinity(h.xch, d, 1, hard, soft, HARD | SOFT)).toBe(0);
      expect([Array.from(hard), Array.from(soft)]).toEqual([[0xff, 0xff, 0x0f], [0xff, 0xff, 0x0f]]);
      for (const c of [18, 19]) expect(xc_cpupool_removecpu(h.xch, 0, c)).toBe(0);
      expect(xc_vcpu_setaffinity(h.xch, d, 1, cpumap(h.xch, 0, 18, 19), cpumap(h.xch, 19), HARD | SOFT)).toBe(0);
      expect(getAffinity(h, d, 1)).toEqual({ hard: [0, 18, 19], soft: [19] });
    });

    it('only the flagged map is written; vCPU checks as for set', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const d = domain(h, 3, 0, 2);
      const hard = new Uint8Array([0x5a]), soft = new Uint8Array([0x5a]);
      expect(xc_vcpu_getaffinity(h.xch, d, 0, hard, soft, SOFT)).toBe(0);
      expect([hard[0], soft[0]]).toEqual([0x5a, 0xff]);
      expect(xc_vcpu_getaffinity(h.xch, d, 2, hard, soft, HARD)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.ESRCH);
      expect(xc_vcpu_getaffinity(h.xch, d, 3, hard, soft, HARD)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
    });
  });

  describe('xc_domain_node_setaffinity / getaffinity', () => {
    it('raw nodemaps of 64 bits: all before vCPUs, explicit masks verbatim, "all" back to automatic', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const d = domain(h, 2, 0, 0);
      const got = xc_nodemap_alloc(h.xch);
      expect(xc_domain_node_getaffinity(h.xch, d, got)).toBe(0);
      expect(Array.from(got)).toEqual(Array(8).fill(0xff));
      expect(xc_domain_max_vcpus(h.xch, d, 2)).toBe(0);
      expect(xc_domain_node_getaffinity(h.xch, d, got)).toBe(0);
      expect(nodesIn(got)).toEqual([0, 1]);
      expect(xc_domain_node_setaffinity(h.xch, d, nodemap(h.xch, 1, 5))).toBe(0);
      expect(xc_domain_node_getaffinity(h.xch, d, got)).toBe(0);
      expect(nodesIn(got)).toEqual([1, 5]);
      expect(xc_domain_node_setaffinity(h.xch, d, nodemap(h.xch, 5, 63))).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect(xc_vcpu_setaffinity(h.xch, d, 0, cpumap(h.xch, 0), null, HARD)).toBe(0);
      expect(xc_vcpu_setaffinity(h.xch, d, 1, cpumap(h.xch, 1), null, HARD)).toBe(0);
      expect(xc_domain_node_getaffinity(h.xch, d, got)).toBe(0);
      expect(nodesIn(got)).toEqual([1, 5]);
      expect(xc_domain_node_setaffinity(h.xch, d, new Uint8Array(8).fill(0xff))).toBe(0);
      expect(xc_domain_node_getaffinity(h.xch, d, got)).toBe(0);
      expect(nodesIn(got)).toEqual([0]);
    });

    it('unknown domain: -1 with ESRCH for both', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      expect(xc_domain_node_setaffinity(h.xch, 7, nodemap(h.xch, 0))).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.ESRCH);
      h.xch.errno = 0;
      expect(xc_domain_node_getaffinity(h.xch, 7, xc_nodemap_alloc(h.xch))).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.ESRCH);
    });
  });

  describe('xc_physinfo', () => {
    it('max_cpu_id = nr_cpu_ids - 1, max_node_id = 63, nr_cpus = online CPUs, free_pages follows the heap', () => {
      const h = host(kernels, 'node:2 core:4 pu:2');
      const before: Partial<XenPhysinfo> = {};
      expect(xc_physinfo(h.xch, before)).toBe(0);
      expect(before).toMatchObject({ max_cpu_id: 15, max_node_id: 63, nr_cpus: 16, nr_nodes: 2, threads_per_core: 2, cores_per_socket: 8 });
      expect(before.total_pages).toBe((2 * 2 ** 30) / PAGE);
      expect(before.free_pages).toBe(before.total_pages);
      h.topology.setCpuState(9, 'offline');
      const d = domain(h, 1);
      h.hv.populateMemory(d, 2 ** 30);
      const after: Partial<XenPhysinfo> = {};
      expect(xc_physinfo(h.xch, after)).toBe(0);
      expect(after.nr_cpus).toBe(15);
      expect(after.max_cpu_id).toBe(15);
      expect(after.free_pages).toBe(before.free_pages! - 2 ** 30 / PAGE);
    });
  });

  describe('xc_numainfo', () => {
    // Nodes 0 and 2 online, node 1 offline (a hole in the ids).
    const holed = (): TopologySpec => ({
      cpus: [...Array(8).keys()].map((id) => ({ id, socket: id >> 2, core: id, node: id < 4 ? 0 : 2, state: 'online' as const })),
      nodes: [{ id: 0, memsize: 2 ** 30, memfree: 2 ** 30 }, { id: 2, memsize: 2 ** 31, memfree: 2 ** 31 }],
    });

    it('N = last online node + 1; offline node sizes are XEN_INVALID_MEM_SZ; distance stride is the returned N', () => {
      const h = host(kernels, new Topology(holed()));
      const max = { value: 8 };
      const meminfo: XenMeminfo[] = [], distance: number[] = [];
      expect(xc_numainfo(h.xch, max, meminfo, distance)).toBe(0);
      expect(max.value).toBe(3);
      expect(meminfo).toEqual([
        { memsize: 2 ** 30, memfree: 2 ** 30 },
        { memsize: INVALID_U32, memfree: INVALID_U32 },
        { memsize: 2 ** 31, memfree: 2 ** 31 },
      ]);
      expect(distance).toHaveLength(9);
      expect([distance[0 * 3 + 0], distance[0 * 3 + 2], distance[2 * 3 + 0], distance[2 * 3 + 2]]).toEqual([10, 20, 20, 10]);
    });

    it('a smaller capacity clamps N and the stride; memfree follows the heap', () => {
      const h = host(kernels, new Topology(holed()));
      const d = domain(h, 1);
      expect(xc_domain_node_setaffinity(h.xch, d, nodemap(h.xch, 2))).toBe(0);
      h.hv.populateMemory(d, 2 ** 30);
      const all = { value: 3 }, full: XenMeminfo[] = [], fullDistance: number[] = [];
      expect(xc_numainfo(h.xch, all, full, fullDistance)).toBe(0);
      expect(full[2]).toEqual({ memsize: 2 ** 31, memfree: 2 ** 30 });
      expect(full[0].memfree).toBe(2 ** 30);
      const max = { value: 2 };
      const meminfo: XenMeminfo[] = [], distance: number[] = [];
      expect(xc_numainfo(h.xch, max, meminfo, distance)).toBe(0);
      expect(max.value).toBe(2);
      expect(meminfo).toEqual(full.slice(0, 2));
      expect(distance).toEqual([fullDistance[0], fullDistance[1], fullDistance[3], fullDistance[4]]);
    });
  });

  describe('xc_cputopoinfo', () => {
    it('a null array asks only for the count (last present CPU + 1); otherwise min(count, capacity) entries', () => {
      const spec = new Topology({
        nrCpuIds: 12,
        cpus: [...Array(10).keys()].map((id) => ({ id, socket: id >> 2, core: id >> 1, node: 0, state: 'online' as const }))
          .filter((c) => c.id !== 8),
        nodes: [{ id: 0, memsize: 2 ** 30, memfree: 2 ** 30 }],
      });
      const h = host(kernels, spec);
      const n = { value: 0 };
      expect(xc_cputopoinfo(h.xch, n, null)).toBe(0);
      expect(n.value).toBe(10);
      const all = { value: 12 }, topo: XenCputopo[] = [];
      expect(xc_cputopoinfo(h.xch, all, topo)).toBe(0);
      expect(all.value).toBe(10);
      expect(topo[3]).toEqual({ core: 1, socket: 0, node: 0 });
      expect(topo[8]).toEqual({ core: INVALID_U32, socket: INVALID_U32, node: INVALID_U32 });
      const few = { value: 3 }, three: XenCputopo[] = [];
      expect(xc_cputopoinfo(h.xch, few, three)).toBe(0);
      expect([few.value, three.length]).toEqual([3, 3]);
    });
  });

  describe('cpupool wrappers', () => {
    it('create with PAR_ANY returns the id; cpu < 0 means any for addcpu and the last CPU for removecpu', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const p = { value: PAR_ANY };
      expect(xc_cpupool_create(h.xch, p, SCHED_CREDIT2)).toBe(0);
      expect(p.value).toBe(1);
      expect(xc_cpupool_removecpu(h.xch, 0, -1)).toBe(0); // Pool-0's last CPU, 7
      expect(xc_cpupool_removecpu(h.xch, 0, 2)).toBe(0);
      expect(cpusIn(xc_cpupool_freeinfo(h.xch)!)).toEqual([2, 7]);
      expect(xc_cpupool_addcpu(h.xch, p.value, -1)).toBe(0); // the first free CPU, 2
      expect(cpusIn(xc_cpupool_freeinfo(h.xch)!)).toEqual([7]);
      const info = xc_cpupool_getinfo(h.xch, p.value)!;
      expect(info).toMatchObject({ cpupoolId: 1, schedId: SCHED_CREDIT2, nDom: 0 });
      expect(cpusIn(info.cpumap)).toEqual([2]);
      expect(cpusIn(xc_cpupool_getinfo(h.xch, 0)!.cpumap)).toEqual([0, 1, 3, 4, 5, 6]);
    });

    it('getinfo returns the first pool whose id is at least the one asked for; past the last: NULL, ENOENT', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const five = { value: 5 };
      expect(xc_cpupool_create(h.xch, five, SCHED_CREDIT2)).toBe(0);
      expect(five.value).toBe(5);
      expect(xc_cpupool_getinfo(h.xch, 1)!.cpupoolId).toBe(5);
      expect(xc_cpupool_getinfo(h.xch, 5)!.cpupoolId).toBe(5);
      expect(xc_cpupool_getinfo(h.xch, 6)).toBeNull();
      expect(h.xch.errno).toBe(ERRNO.ENOENT);
      expect(xc_cpupool_create(h.xch, five, SCHED_CREDIT2)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EEXIST);
    });

    it('removecpu with cpu < 0 on a pool without CPUs: cpumask_last is nr_cpu_ids, so EINVAL (§6.1 RMCPU)', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const p = { value: PAR_ANY };
      expect(xc_cpupool_create(h.xch, p, SCHED_CREDIT2)).toBe(0);
      expect(xc_cpupool_removecpu(h.xch, p.value, -1)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
    });

    it('movedomain, and destroy refused while the pool has a domain or CPUs', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const p = { value: PAR_ANY };
      expect(xc_cpupool_create(h.xch, p, SCHED_CREDIT2)).toBe(0);
      expect(xc_cpupool_removecpu(h.xch, 0, 6)).toBe(0);
      expect(xc_cpupool_addcpu(h.xch, p.value, 6)).toBe(0);
      const d = domain(h, 2);
      expect(xc_cpupool_movedomain(h.xch, p.value, d)).toBe(0);
      expect(getAffinity(h, d, 1)).toEqual({ hard: [0, 1, 2, 3, 4, 5, 6, 7], soft: [0, 1, 2, 3, 4, 5, 6, 7] });
      const nodes = xc_nodemap_alloc(h.xch);
      expect(xc_domain_node_getaffinity(h.xch, d, nodes)).toBe(0);
      expect(nodesIn(nodes)).toEqual([1]);
      expect(xc_cpupool_getinfo(h.xch, p.value)!.nDom).toBe(1);
      expect(xc_cpupool_destroy(h.xch, p.value)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EBUSY);
      expect(xc_cpupool_removecpu(h.xch, p.value, 6)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EBUSY);
      expect(xc_cpupool_movedomain(h.xch, 0, d)).toBe(0);
      expect(xc_cpupool_destroy(h.xch, p.value)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EBUSY);
      expect(xc_cpupool_removecpu(h.xch, p.value, 6)).toBe(0);
      expect(xc_cpupool_destroy(h.xch, p.value)).toBe(0);
      expect(xc_cpupool_destroy(h.xch, p.value)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.ENOENT);
    });
  });

  describe('xc_sched_credit_domain_get / set', () => {
    it('EINVAL for a domain in a credit2 pool', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const d = domain(h, 1);
      expect(xc_sched_credit_domain_get(h.xch, d, { weight: 0, cap: 0 })).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
      expect(xc_sched_credit_domain_set(h.xch, d, { weight: 512, cap: 0 })).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
    });

    it('credit1: defaults 256 / 0; weight 0 and cap 0xFFFF leave values; both are uint16 in the domctl', () => {
      const h = host(kernels, 'node:2 core:4 pu:1', { scheduler: 'credit' });
      const d = domain(h, 1);
      const get = () => {
        const out = { weight: -1, cap: -1 };
        expect(xc_sched_credit_domain_get(h.xch, d, out)).toBe(0);
        return out;
      };
      expect(get()).toEqual({ weight: 256, cap: 0 });
      expect(xc_sched_credit_domain_set(h.xch, d, { weight: 512, cap: 50 })).toBe(0);
      expect(get()).toEqual({ weight: 512, cap: 50 });
      expect(xc_sched_credit_domain_set(h.xch, d, { weight: 0, cap: 0xffff })).toBe(0);
      expect(get()).toEqual({ weight: 512, cap: 50 });
      expect(xc_sched_credit_domain_set(h.xch, d, { weight: 0x10000 + 100, cap: 0x10000 + 7 })).toBe(0);
      expect(get()).toEqual({ weight: 100, cap: 7 });
      expect(xc_sched_credit_domain_set(h.xch, d, { weight: 0x10000, cap: 0x1ffff })).toBe(0);
      expect(get()).toEqual({ weight: 100, cap: 7 });
    });

    it('a credit1 pool on a credit2 host: the domain moved there is served, EINVAL again after moving back', () => {
      const h = host(kernels, 'node:2 core:4 pu:1');
      const p = { value: PAR_ANY };
      expect(xc_cpupool_create(h.xch, p, SCHED_CREDIT)).toBe(0);
      expect(xc_cpupool_getinfo(h.xch, p.value)!.schedId).toBe(SCHED_CREDIT);
      expect(xc_cpupool_removecpu(h.xch, 0, 7)).toBe(0);
      expect(xc_cpupool_addcpu(h.xch, p.value, 7)).toBe(0);
      const d = domain(h, 1, p.value);
      const out = { weight: 0, cap: 0 };
      expect(xc_sched_credit_domain_get(h.xch, d, out)).toBe(0);
      expect(out).toEqual({ weight: 256, cap: 0 });
      expect(xc_cpupool_movedomain(h.xch, 0, d)).toBe(0);
      expect(xc_sched_credit_domain_get(h.xch, d, out)).toBe(-1);
      expect(h.xch.errno).toBe(ERRNO.EINVAL);
    });
  });
});
