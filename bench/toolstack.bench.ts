/**
 * Toolstack benchmark (issue 6), on a 16384-CPU host with 64 nodes and with 16 nodes (where all
 * 65,535 candidate sets exist), for a stream of 10,000 VMs of 1–64 vCPUs and 1–256 GiB:
 * - the whole chain: VM.create + VM.build (xenopsd, NUMA placement, Xenstore, xenguest,
 *   libxenctrl, the hypervisor model) per VM, timed over the 10,000 builds (one run: each build
 *   changes the host, so it is not a repeatable op for benchmark.js);
 * - the planner alone (NUMA.make once, Softaffinity.plan per VM), sampled by benchmark.js.
 */
import Benchmark from 'benchmark';
import { createEngine } from '../bindings/engine.js';
import { Topology } from '../bindings/topology/topology.js';
import type { TopologySpec } from '../bindings/topology/spec.js';
import { createHypervisor } from '../bindings/xen/hypervisor/hypervisor.js';
import { xc_interface_open } from '../bindings/xen/xenctrl.js';
import { createStore } from '../bindings/xen/xenstore/store.js';
import { createToolstack, dom0Store } from '../bindings/xen/xenopsd/build.js';
import { makeNuma, planPlacement, type NumaHost, type NumaTopology } from '../bindings/xen/xenopsd/planner.js';
import type { ToolstackMode } from '../bindings/xen/xenopsd/policy.js';
import { toolstackXenctrl } from '../bindings/xen/xenopsd/xc.js';

export interface Row {
  subject: string;
  variant: string;
  opsPerSec: number;
  note?: string;
}

const GiB = 2 ** 30;

/** A host of `nodes` nodes with `cpus` CPUs (2 threads per core), SLIT 10 local / 20 + 2·|i−j| remote. */
export function benchHostTopology(nodes: number, cpus: number): NumaTopology {
  const perNode = cpus / nodes;
  return {
    distances: Array.from({ length: nodes }, (_, i) => Array.from({ length: nodes }, (_, j) => (i === j ? 10 : 20 + 2 * Math.abs(i - j)))),
    cpuToNode: Array.from({ length: cpus }, (_, c) => Math.floor(c / perNode)),
    nodeCores: new Array<number>(nodes).fill(perNode / 2),
  };
}

/** 10,000 VMs: vCPUs uniform in 1–64, memory uniform in 1–256 GiB (seeded, the same stream every run). */
export function benchVms(count = 10_000): { vcpus: number; memory: number }[] {
  let seed = 2463534242;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => ({ vcpus: 1 + Math.floor(next() * 64), memory: (1 + Math.floor(next() * 256)) * GiB }));
}

/** The same host as a topology: node k = socket k, 2 threads per core, `memPerNode` bytes per node. */
function benchHostSpec(nodes: number, cpus: number, memPerNode: number): TopologySpec {
  const t = benchHostTopology(nodes, cpus);
  const perNode = cpus / nodes;
  return {
    cpus: t.cpuToNode.map((node, id) => ({ id, socket: node, core: Math.floor((id % perNode) / 2), node, state: 'online' as const })),
    nodes: Array.from({ length: nodes }, (_, id) => ({ id, memsize: memPerNode, memfree: memPerNode })),
    distances: t.distances.map((row) => [...row]),
  };
}

/**
 * Builds every VM through the whole chain; returns VMs per second and the planner's share.
 * `live` bounds the VMs kept at once (older ones are destroyed): reference mode writes a
 * 16 KiB `vcpu/<n>/affinity` string per vCPU on 16384 CPUs, so 10,000 live VMs would hold
 * about 5 GB of Xenstore values.
 */
export function buildChain(nodes: number, mode: ToolstackMode, vms: { vcpus: number; memory: number }[], live: number): { vmsPerSec: number; planMsPerVm: number; placed: number } {
  const memPerNode = 2 ** 51 / nodes;
  const topology = new Topology(benchHostSpec(nodes, 16384, memPerNode));
  const hv = createHypervisor({ engine: createEngine({ nrCpus: 16384, nrNodes: 64 }), topology, scheduler: 'credit', dom0: false });
  // oxenstored refuses reference mode's 16 KiB affinity strings (2048-byte values): C xenstored there.
  const xs = createStore({ flavour: mode === 'reference' ? 'cxenstored' : 'oxenstored' });
  const ts = createToolstack({ mode, xc: toolstackXenctrl(xc_interface_open(hv)), store: dom0Store(xs), numaAffinityPolicy: 'best_effort' });
  ts.numaHost(); // numa_hierarchy is made once per xenopsd; not part of the per-VM cost
  const domids: number[] = [];
  let placed = 0;
  const t0 = performance.now();
  for (const vm of vms) {
    const domid = ts.vmCreate({ vcpusMax: vm.vcpus, memoryStaticMaxMib: vm.memory / 2 ** 20 });
    const r = ts.vmBuild(domid);
    if (r.placement?.affinitySet) placed++;
    domids.push(domid);
    if (domids.length > live) ts.vmDestroy(domids.shift()!);
  }
  const totalMs = performance.now() - t0;
  // The planner's share, replayed on a fresh planner with the same inputs (memory never filters
  // on these hosts, so the replay makes the same plans).
  const host = makeNuma(mode, benchHostTopology(nodes, 16384))!;
  const memfree = new Array<number>(nodes).fill(memPerNode);
  const p0 = performance.now();
  for (const vm of vms) planPlacement(host, memfree, { memory: vm.memory, vcpus: vm.vcpus, cores: mode === 'latest' ? vm.vcpus : 0 });
  const planMs = performance.now() - p0;
  return { vmsPerSec: (vms.length * 1000) / totalMs, planMsPerVm: planMs / vms.length, placed };
}

function planStream(host: NumaHost, memfree: number[], vms: { vcpus: number; memory: number }[]): () => void {
  let i = 0;
  return () => {
    const vm = vms[i++ % vms.length]!;
    planPlacement(host, memfree, { memory: vm.memory, vcpus: vm.vcpus, cores: vm.vcpus });
  };
}

function run(suite: Benchmark.Suite): Promise<Benchmark[]> {
  return new Promise((resolve) => {
    suite.on('complete', function (this: Benchmark.Suite) {
      resolve(Array.from(this as unknown as Benchmark[]));
    });
    suite.run({ async: false });
  });
}

export async function benchToolstack(): Promise<Row[]> {
  const vms = benchVms();
  const rows: Row[] = [];
  for (const nodes of [64, 16]) {
    for (const [mode, live] of [['latest', vms.length], ['reference', 100]] as [ToolstackMode, number][]) {
      const r = buildChain(nodes, mode, vms, live);
      rows.push({
        subject: 'toolstack',
        variant: `VM.create+VM.build, ${nodes} nodes / 16384 CPUs, ${mode}, best_effort`,
        opsPerSec: r.vmsPerSec,
        note: `${(vms.length / r.vmsPerSec).toFixed(2)} s for ${vms.length} VMs (${live === vms.length ? 'all kept' : `${live} kept, older destroyed`}); planner ${(r.planMsPerVm * 1000).toFixed(1)} µs/VM; ${r.placed} VMs got NUMA affinity`,
      });
    }
  }
  const suite = new Benchmark.Suite('toolstack');
  const hosts: { name: string; nodes: number; cpus: number; memPerNode: number }[] = [
    { name: '64 nodes / 16384 CPUs', nodes: 64, cpus: 16384, memPerNode: 1024 * GiB },
    { name: '16 nodes / 16384 CPUs', nodes: 16, cpus: 16384, memPerNode: 4096 * GiB },
  ];
  for (const h of hosts) {
    for (const mode of ['reference', 'latest'] as ToolstackMode[]) {
      const t0 = performance.now();
      const host = makeNuma(mode, benchHostTopology(h.nodes, h.cpus))!;
      const makeMs = performance.now() - t0;
      const memfree = new Array<number>(h.nodes).fill(h.memPerNode);
      suite.add(`plan ${h.name} ${mode}`, planStream(host, memfree, vms));
      rows.push({ subject: 'toolstack', variant: `NUMA.make ${h.name} (${host.candidates.count} candidates) ${mode}`, opsPerSec: 1000 / makeMs, note: `${makeMs.toFixed(1)} ms, once per host` });
      // The worst case: nothing fits (memory beyond the host), rejected by the totals check.
      suite.add(`plan ${h.name} ${mode}, nothing fits`, () => planPlacement(host, memfree, { memory: h.nodes * h.memPerNode + 1, vcpus: 1 }));
    }
    // A VM that needs half the host: the scan walks the candidates until a subset holds it.
    const host = makeNuma('reference', benchHostTopology(h.nodes, h.cpus))!;
    const memfree = new Array<number>(h.nodes).fill(h.memPerNode);
    suite.add(`plan ${h.name} reference, half-host VM`, () => planPlacement(host, memfree, { memory: GiB, vcpus: h.cpus / 2 }));
  }
  for (const b of await run(suite)) {
    rows.push({ subject: 'toolstack', variant: b.name!, opsPerSec: b.hz!, note: `${((1e6 / b.hz!) | 0) || (1e6 / b.hz!).toFixed(2)} µs per plan ±${b.stats.rme.toFixed(1)}%` });
  }
  return rows;
}
