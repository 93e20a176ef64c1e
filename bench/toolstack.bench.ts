/**
 * Toolstack benchmark (issue 6): the NUMA placement planner (NUMA.make + Softaffinity.plan) on
 * a 64-node and a 16-node host, for a stream of 10,000 VMs of 1–64 vCPUs and 1–256 GiB.
 *
 * The planner is stateful (its placement counters grow), so one "op" is one plan in a long
 * stream of plans, not a repeatable pure call; benchmark.js samples that stream.
 */
import Benchmark from 'benchmark';
import { makeNuma, planPlacement, type NumaHost, type NumaTopology } from '../bindings/xen/xenopsd/planner.js';
import type { ToolstackMode } from '../bindings/xen/xenopsd/policy.js';

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
