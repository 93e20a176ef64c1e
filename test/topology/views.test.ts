/**
 * The Xen sysctl views (spec xen-hypervisor.md §7) and the socket/core hierarchy, each quirk
 * asserted on small hosts whose answer is evident from their description.
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../bindings/topology/topology.js';
import {
  cputopoinfo, numainfo, physinfo, sockets, XEN_INVALID_ID, XEN_INVALID_MEM_SZ, XEN_INVALID_NODE_DIST,
} from '../../bindings/topology/views.js';

const GIB = 2 ** 30;

describe('physinfo', () => {
  const topo = () => Topology.fromSynthetic('pack:2 node:2 core:4 pu:2');

  it('counts threads and cores of CPU 0, online CPUs and nodes', () => {
    expect(physinfo(topo())).toEqual({
      threads_per_core: 2, cores_per_socket: 8, nr_cpus: 32, nr_nodes: 4,
      max_cpu_id: 31, max_node_id: 63, total_pages: 4 * GIB / 4096, free_pages: 4 * GIB / 4096, outstanding_pages: 0,
    });
  });

  it('max_node_id is MAX_NUMNODES - 1, not the highest node', () => {
    expect(physinfo(topo(), 8).max_node_id).toBe(7);
  });

  it('uses online siblings: offlining CPU 1 makes threads_per_core 1 and cores_per_socket 15 (15 online / 1)', () => {
    const t = topo();
    t.setCpuState(1, 'offline');
    const p = physinfo(t);
    expect([p.threads_per_core, p.cores_per_socket, p.nr_cpus]).toEqual([1, 15, 31]);
  });

  it('max_cpu_id counts not-present ids; nr_cpus only online ones', () => {
    const t = new Topology({
      nrCpuIds: 8, nodes: [{ id: 0, memsize: 8192, memfree: 4096 }],
      cpus: [0, 1, 2, 3].map((id) => ({ id, socket: 0, core: id, node: 0, state: id === 3 ? 'offline' as const : 'online' as const })),
    });
    const p = physinfo(t);
    expect([p.max_cpu_id, p.nr_cpus, p.threads_per_core, p.total_pages, p.free_pages]).toEqual([7, 3, 1, 2, 1]);
  });
});

describe('cputopoinfo', () => {
  // CPUs 0-3 and 5 present (4 a hole, 6-7 hot-plug slots); 3 offline; 5 has no node.
  const topo = new Topology({
    nrCpuIds: 8, nodes: [{ id: 0, memsize: GIB, memfree: GIB }],
    cpus: [
      { id: 0, socket: 0, core: 0, node: 0, state: 'online' }, { id: 1, socket: 0, core: 0, node: 0, state: 'online' },
      { id: 2, socket: 0, core: 1, node: 0, state: 'online' }, { id: 3, socket: 0, core: 1, node: 0, state: 'offline' },
      { id: 5, socket: 1, core: 0, node: -1, state: 'online' },
    ],
  });
  const I = XEN_INVALID_ID;

  it('a null handle returns only N = last present CPU + 1', () => {
    expect(cputopoinfo(topo, null)).toEqual({ num_cpus: 6 });
  });
  it('writes N entries when the buffer is larger, ~0U for the hole, the offline CPU keeps only its node', () => {
    expect(cputopoinfo(topo, 100)).toEqual({
      num_cpus: 6,
      cputopo: [
        { core: 0, socket: 0, node: 0 }, { core: 0, socket: 0, node: 0 }, { core: 1, socket: 0, node: 0 },
        { core: I, socket: I, node: 0 }, { core: I, socket: I, node: I }, { core: 0, socket: 1, node: I },
      ],
    });
  });
  it('writes only as many as the caller has room for, and says so', () => {
    const r = cputopoinfo(topo, 2);
    expect([r.num_cpus, r.cputopo!.length]).toEqual([2, 2]);
  });
  it('~0U is 0xFFFFFFFF', () => {
    expect(I).toBe(2 ** 32 - 1);
  });
});

describe('numainfo', () => {
  // Nodes 0 and 2 online, node 1 not: N = 3.
  const topo = new Topology({
    nodes: [{ id: 0, memsize: 4 * GIB + 100, memfree: GIB }, { id: 2, memsize: 2 * GIB, memfree: 2 * GIB }],
    cpus: [{ id: 0, socket: 0, core: 0, node: 0, state: 'online' }, { id: 1, socket: 0, core: 1, node: 2, state: 'online' }],
    distances: [[10, null, 30], [null, null, null], [30, null, 10]],
  });

  it('asked for nothing, returns N = last online node + 1 whatever the caller passed', () => {
    expect(numainfo(topo, 1, { meminfo: false, distance: false })).toEqual({ num_nodes: 3 });
  });
  it('an offline node has memsize = memfree = XEN_INVALID_MEM_SZ = 0xFFFFFFFF (~0U in a u64, not all ones)', () => {
    const m = numainfo(topo, 64, { meminfo: true, distance: false }).meminfo!;
    expect(m[1]).toEqual({ memsize: XEN_INVALID_MEM_SZ, memfree: XEN_INVALID_MEM_SZ });
    expect(XEN_INVALID_MEM_SZ).toBe(0xffffffff);
    expect(XEN_INVALID_MEM_SZ).not.toBe(Number(2n ** 64n - 1n));
  });
  it('memory is reported in whole pages', () => {
    expect(numainfo(topo, 64, { meminfo: true, distance: false }).meminfo![0]).toEqual({ memsize: 4 * GIB, memfree: GIB });
  });
  it('distances use the returned count as stride, unknown ones XEN_INVALID_NODE_DIST', () => {
    const r = numainfo(topo, 64, { meminfo: false, distance: true });
    expect(r.num_nodes).toBe(3);
    const D = XEN_INVALID_NODE_DIST;
    expect(r.distance).toEqual([10, D, 30, D, D, D, 30, D, 10]);
  });
  it('a smaller caller count clamps N, and the stride with it', () => {
    const r = numainfo(topo, 2, { meminfo: true, distance: true });
    expect([r.num_nodes, r.meminfo!.length, r.distance]).toEqual([2, 2, [10, XEN_INVALID_NODE_DIST, XEN_INVALID_NODE_DIST, XEN_INVALID_NODE_DIST]]);
  });
});

describe('sockets (the PG hierarchy data)', () => {
  it('groups present CPUs with known ids by socket and core; an offline CPU stays in its core', () => {
    const t = Topology.fromSynthetic('pack:2 core:2 pu:2');
    t.setCpuState(3, 'offline');
    expect(sockets(t)).toEqual([
      { id: 0, cpus: [0, 1, 2, 3], cores: [{ id: 0, cpus: [0, 1] }, { id: 1, cpus: [2, 3] }] },
      { id: 1, cpus: [4, 5, 6, 7], cores: [{ id: 2, cpus: [4, 5] }, { id: 3, cpus: [6, 7] }] },
    ]);
  });
  it('core ids repeat across sockets on Linux: cores are per socket', () => {
    const t = new Topology({
      nodes: [{ id: 0, memsize: 0, memfree: 0 }],
      cpus: [0, 1, 2, 3].map((id) => ({ id, socket: id >> 1, core: 0, node: 0, state: 'online' as const })),
    });
    expect(sockets(t).map((s) => s.cores)).toEqual([[{ id: 0, cpus: [0, 1] }], [{ id: 0, cpus: [2, 3] }]]);
    expect(t.cpus.map((c) => c.thread)).toEqual([0, 1, 0, 1]);
  });
});
