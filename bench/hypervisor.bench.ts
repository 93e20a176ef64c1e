/**
 * Xen hypervisor model at scale (issue 4): a 16384-CPU / 64-node host ('pack:16 node:4 core:128
 * pu:2') with 10,000 domains of 1–64 vCPUs and realistic masks — most all-CPUs, a quarter with a
 * per-node soft mask (half of those also with an explicit node affinity, as libxl's placement
 * does), a few NUMA-strict (hard = one node) and a few with every vCPU pinned to its own CPU.
 * Node 63 (CPUs 16128–16383) is a second cpupool, set up before the domains.
 *
 * (a) XEN_DOMCTL_setvcpuaffinity throughput (soft = a node's CPUs, libxc-sized byte maps);
 * (b) a Pool-0 CPU leaving and coming back (RMCPU + ADDCPU: cpu_disable_scheduler and
 *     domain_update_node_aff for every domain of the pool, twice), and the node-affinity
 *     recompute of the whole pool alone (cpupool_update_node_affinity) — target < 50 ms per
 *     removal, WASM ≥ 5× the TS reference;
 * (c) MOVEDOMAIN of a 512-vCPU domain to the other pool and back;
 * and the resident memory of the host (target < 200 MB).
 * Each on the WASM engine and on the TS reference kernels; each host is built once and reused.
 */
import { createEngine, createRng, type Engine, type KernelKind } from '../bindings/engine.js';
import { Topology } from '../bindings/topology/topology.js';
import { createHypervisor, type Hypervisor } from '../bindings/xen/hypervisor/hypervisor.js';
import { setNodeAffinityDomctl, setVcpuAffinity } from '../bindings/xen/hypervisor/domctl.js';
import { updatePoolNodeAffinity } from '../bindings/xen/hypervisor/node-affinity.js';
import { measure, type Row } from './harness.js';

const SPEC = 'pack:16 node:4 core:128 pu:2';
const DOMAINS = 10_000;
const HARD = 1, SOFT = 2;
/** The CPU that (b) takes out of Pool-0 and puts back: no pin names it, so nothing breaks. */
const LEAVING_CPU = 15_871;
const MB = 2 ** 20;

interface Built {
  kind: KernelKind;
  hv: Hypervisor;
  engine: Engine;
  big: number;
  pool1: number;
  setupSeconds: number;
  rssBefore: number;
  rssAfter: number;
  heapDelta: number;
  engineBefore: number;
  engineAfter: number;
  vcpus: number;
  distinct: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): NodeJS.MemoryUsage {
  gc?.();
  return process.memoryUsage();
}

/** A libxc-sized cpumap (nr_cpu_ids bits) of these CPUs. */
function byteMap(n: number, cpus: Iterable<number>): Uint8Array {
  const m = new Uint8Array(Math.ceil(n / 8));
  for (const c of cpus) m[c >> 3] |= 1 << (c & 7);
  return m;
}

function build(kind: KernelKind): Built {
  const before = memory();
  const t0 = performance.now();
  const topology = Topology.fromSynthetic(SPEC);
  const n = topology.nrCpuIds;
  if (n !== 16384 || topology.nodes.length !== 64) throw new Error(`${SPEC} gives ${n} CPUs / ${topology.nodes.length} nodes`);
  const engine = createEngine({ nrCpus: n, kernels: kind, seed: 7 });
  const hv = createHypervisor({ engine, topology, dom0: { vcpus: 8 } });
  const st = hv.state;
  const engineBefore = engine.memoryBytes;
  const nodeCpus = topology.nodes.map((node) => topology.nodeCpus(node.id));
  const nodeMaps = nodeCpus.map((cpus) => byteMap(n, cpus));
  const setAll = (domid: number, vcpus: number, flags: number, map: (v: number) => Uint8Array) => {
    for (let v = 0; v < vcpus; v++) {
      const m = map(v);
      const rc = setVcpuAffinity(st, domid, v, flags, flags & HARD ? { bytes: m, nrBits: n } : null, flags & SOFT ? { bytes: m.slice(), nrBits: n } : null);
      if (rc !== 0) throw new Error(`setvcpuaffinity d${domid}v${v}: ${rc}`);
    }
  };

  // Pool 1 = node 63, before the domains exist (moving CPUs then is cheap).
  const pool1 = hv.cpupoolCreate();
  for (const c of nodeCpus[63]) {
    hv.cpupoolRemoveCpu(0, c);
    hv.cpupoolAddCpu(pool1, c);
  }
  const rng = createRng(2026);
  let vcpuTotal = 0;
  let nextPin = 0;
  for (let i = 0; i < DOMAINS; i++) {
    const vcpus = 1 + rng.below(64);
    vcpuTotal += vcpus;
    const domid = hv.createDomain({ maxVcpus: vcpus });
    hv.maxVcpus(domid, vcpus);
    const kindOf = rng.below(100);
    const home = rng.below(63);
    if (kindOf < 25) {
      setAll(domid, vcpus, SOFT, () => nodeMaps[home]);
      if (kindOf < 12) setNodeAffinityDomctl(st, domid, { bytes: byteMap(64, [home]), nrBits: 64 });
    } else if (kindOf < 29) {
      setAll(domid, vcpus, HARD, () => nodeMaps[home]);
    } else if (kindOf < 30) {
      setAll(domid, vcpus, HARD, () => {
        // every vCPU on its own CPU of Pool-0, never LEAVING_CPU
        nextPin = (nextPin + 1) % 16128;
        if (nextPin === LEAVING_CPU) nextPin++;
        return byteMap(n, [nextPin]);
      });
    }
  }
  const big = hv.createDomain({ maxVcpus: 512 });
  hv.maxVcpus(big, 512);
  setAll(big, 512, SOFT, (v) => nodeMaps[v % 63]);
  vcpuTotal += 512;
  const setupSeconds = (performance.now() - t0) / 1000;
  const after = memory();
  return {
    kind, hv, engine, big, pool1, setupSeconds, rssBefore: before.rss, rssAfter: after.rss, heapDelta: after.heapUsed - before.heapUsed,
    engineBefore, engineAfter: engine.memoryBytes,
    vcpus: vcpuTotal, distinct: engine.masks.size,
  };
}

export async function benchHypervisor(): Promise<Row[]> {
  const hosts = (['wasm', 'ts'] as const).map(build);
  const rows: Row[] = [];
  const n = 16384;
  const st = (h: Built) => h.hv.state;

  for (const h of hosts) {
    rows.push({
      subject: 'host setup (10,000 domains)',
      variant: h.kind,
      opsPerSec: 1 / h.setupSeconds,
      note: `${h.vcpus} vCPUs, ${h.distinct} distinct masks; rss ${(h.rssBefore / MB).toFixed(0)} → ${(h.rssAfter / MB).toFixed(0)} MB ` +
        `(+${((h.rssAfter - h.rssBefore) / MB).toFixed(0)} MB, JS heap +${(h.heapDelta / MB).toFixed(0)} MB); engine memory ` +
        `${(h.engineBefore / MB).toFixed(1)} → ${(h.engineAfter / MB).toFixed(1)} MB; target < 200 MB` +
        (h.kind === 'ts' ? ' (built second, in the same process)' : ''),
    });
  }

  // (a) soft affinity of random vCPUs to random node masks, through the domctl with byte maps.
  const nodeMaps = Array.from({ length: 63 }, (_, node) => byteMap(n, Array.from({ length: 256 }, (_, i) => node * 256 + i)));
  const picks = hosts.map((h) => {
    const rng = createRng(99);
    const doms = [...st(h).domains.values()].filter((d) => d.pool.id === 0 && !d.isDom0);
    return () => {
      const d = doms[rng.below(doms.length)];
      const rc = setVcpuAffinity(st(h), d.domid, rng.below(d.created), SOFT, null, { bytes: nodeMaps[rng.below(63)], nrBits: n });
      if (rc !== 0) throw new Error(`setvcpuaffinity: ${rc}`);
    };
  });
  rows.push(...measure('(a) setvcpuaffinity (soft = a node)', { wasm: picks[0], ts: picks[1] }, 1));

  // (b) a Pool-0 CPU out and back in: each step recomputes node affinity for all 10,000 domains.
  // A timed loop (each op changes the host, so benchmark.js cannot repeat one alone); the note
  // adds the process CPU time, steadier than wall time on a shared machine.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (const h of hosts) {
    const reps = h.kind === 'wasm' ? 20 : 5;
    const wall = [0, 0], cpu = [0, 0];
    for (let i = 0; i < reps; i++) {
      const steps = [() => h.hv.cpupoolRemoveCpu(0, LEAVING_CPU), () => h.hv.cpupoolAddCpu(0, LEAVING_CPU)];
      steps.forEach((step, j) => {
        const t = performance.now(), c = cpuMs();
        step();
        wall[j] += performance.now() - t;
        cpu[j] += cpuMs() - c;
      });
    }
    const note = (j: number) => `timed loop of ${reps}; CPU time ${(cpu[j] / reps).toFixed(1)} ms per op`;
    rows.push({ subject: '(b) RMCPU of a Pool-0 CPU', variant: h.kind, opsPerSec: (1000 * reps) / wall[0], note: `${note(0)}; target < 50 ms` });
    rows.push({ subject: '(b) ADDCPU of it back', variant: h.kind, opsPerSec: (1000 * reps) / wall[1], note: note(1) });
  }
  const pool0 = hosts.map((h) => () => updatePoolNodeAffinity(st(h), st(h).pools.get(0)!));
  rows.push(...measure('(b) node affinity of every Pool-0 domain (cpupool_update_node_affinity)', { wasm: pool0[0], ts: pool0[1] }, 1));

  // (c) the 512-vCPU domain to pool 1 and back (one op = two moves).
  const moves = hosts.map((h) => () => {
    h.hv.cpupoolMoveDomain(h.pool1, h.big);
    h.hv.cpupoolMoveDomain(0, h.big);
  });
  rows.push(...measure('(c) MOVEDOMAIN of a 512-vCPU domain there and back', { wasm: moves[0], ts: moves[1] }, 1));
  return rows;
}
