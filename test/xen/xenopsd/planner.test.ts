import { describe, expect, it } from 'vitest';
import type { ToolstackMode } from '../../../bindings/xen/xenopsd/policy.js';
import {
  UNREACHABLE_DISTANCE as E,
  makeNuma,
  numaCandidates,
  planPlacement,
  type NumaHost,
  type NumaTopology,
} from '../../../bindings/xen/xenopsd/planner.js';
import { errorOf, exampleSlit, GiB, OPTERON_SLIT, range } from './fixtures.js';

const MODES: ToolstackMode[] = ['reference', 'latest'];

/** upstream test_topology.ml `make_numa`: CPU i on node i / (cpus/nodes), 2 threads per core. */
function example(nodes: number, cpus: number): NumaTopology {
  const perNode = cpus / nodes;
  return {
    distances: exampleSlit(nodes),
    cpuToNode: Array.from({ length: cpus }, (_, c) => Math.floor(c / perNode)),
    nodeCores: Array.from({ length: nodes }, () => perNode / 2),
  };
}

function opteron(cpusPerNode: number): NumaTopology {
  return {
    distances: OPTERON_SLIT,
    cpuToNode: Array.from({ length: 8 * cpusPerNode }, (_, c) => Math.floor(c / cpusPerNode)),
    nodeCores: new Array(8).fill(Math.floor(cpusPerNode / 2)),
  };
}

function mustMake(mode: ToolstackMode, t: NumaTopology): NumaHost {
  const host = makeNuma(mode, t);
  if (host === null) throw new Error('NUMA.make returned None');
  return host;
}

function candidatesOf(mode: ToolstackMode, distances: number[][]) {
  const host = mustMake(mode, { distances, cpuToNode: distances.map((_, i) => i) });
  return numaCandidates(host).map((c) => [c.avg, c.nodes]);
}

function expectErrno(f: () => unknown, errno: string, message: RegExp) {
  const e = errorOf(f);
  expect(e.errno).toBe(errno);
  expect(e.message).toMatch(message);
}

describe.each(MODES)('NUMA.make candidate lists of the upstream unit tests (spec §4.5), %s mode', (mode) => {
  it('last node unreachable', () => {
    expect(candidatesOf(mode, [[10, E], [E, E]])).toEqual([[10, [0]]]);
  });
  it('middle node unreachable', () => {
    expect(candidatesOf(mode, [[10, E, 20], [E, E, E], [20, E, 10]])).toEqual([
      [10, [0]],
      [10, [2]],
      [15, [0, 2]],
    ]);
  });
  it('first two nodes unreachable', () => {
    expect(candidatesOf(mode, [[E, E, 20], [E, E, E], [10, E, 10]])).toEqual([[10, [2]]]);
  });
  it('no node reachable ⇒ None', () => {
    expect(makeNuma(mode, { distances: [[E, E], [E, E]], cpuToNode: [0, 1] })).toBeNull();
  });
});

/** The per-VM access cost of upstream's property checks: over the plan's CPUs, distances to the used nodes. */
interface Cost {
  worst: number;
  best: number;
  average: number;
}
function accessCost(t: NumaTopology, cpus: readonly number[], nodes: readonly number[]): Cost {
  let worst = -Infinity;
  let best = Infinity;
  let sum = 0;
  for (const c of cpus) {
    const row = nodes.map((n) => t.distances[t.cpuToNode[c]!]![n]!);
    worst = Math.max(worst, ...row);
    best = Math.min(best, ...row);
    sum += row.reduce((a, b) => a + b, 0) / nodes.length;
  }
  return { worst, best, average: sum / cpus.length };
}
function expectNotWorse(plan: Cost, dflt: Cost) {
  expect(plan.worst).toBeLessThanOrEqual(dflt.worst);
  expect(plan.best).toBeLessThanOrEqual(dflt.best);
  expect(plan.average).toBeLessThanOrEqual(dflt.average + 1e-3);
}

/** Runs upstream's `test_allocate`: vms VMs of max(2, cpus/vms) vCPUs on 16 GiB nodes; returns the plans. */
function allocate(mode: ToolstackMode, t: NumaTopology, vms: number, memory = GiB) {
  const host = mustMake(mode, t);
  const memfree = new Array(host.nrNodes).fill(2 ** 34);
  const allCpus = host.nodeCpus.flat();
  const allNodes = host.nodeCpus.map((_, k) => k);
  const vcpus = Math.max(2, Math.floor(allCpus.length / vms));
  const plans: (readonly number[])[] = [];
  const used = new Set<number>();
  const covered = new Set<number>();
  for (let i = 0; i < vms; i++) {
    const plan = planPlacement(host, memfree, { memory, vcpus });
    expect(plan).not.toBeNull();
    plans.push(plan!.nodes);
    plan!.nodes.forEach((n) => used.add(n));
    plan!.cpus.forEach((c) => covered.add(c));
    // Per VM: worst and best access distance not worse than the default (all nodes, all CPUs), average not worse.
    expectNotWorse(accessCost(t, plan!.cpus, [...plan!.nodes].sort((a, b) => a - b)), accessCost(t, allCpus, allNodes));
    // The CPUs are exactly those of the chosen nodes.
    expect(plan!.cpus).toEqual(allCpus.filter((c) => plan!.nodes.includes(t.cpuToNode[c]!)));
  }
  // Aggregated: balancing (distinct nodes used) at least min(vms, nodes), and every CPU used by some plan.
  expect(used.size).toBeGreaterThanOrEqual(Math.min(vms, allNodes.length));
  expect(covered.size).toBe(allCpus.length);
  return { plans, usage: Array.from(host.nodeUsage) };
}

const singles = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => [from + i]);

describe.each(MODES)('allocation tests of spec §4.5 with their derived plans, %s mode', (mode) => {
  it('1 VM, 1 node, 2 CPUs', () => {
    expect(allocate(mode, example(1, 2), 1)).toEqual({ plans: [[0]], usage: [1] });
  });
  it('10 VMs, 1 node, 8 CPUs', () => {
    expect(allocate(mode, example(1, 8), 10)).toEqual({ plans: new Array(10).fill([0]), usage: [10] });
  });
  it('1 VM, 2 nodes, 4 CPUs', () => {
    expect(allocate(mode, example(2, 4), 1)).toEqual({ plans: [[1, 0]], usage: [1, 1] });
  });
  it('10 VMs, 2 nodes, 4 CPUs alternate', () => {
    expect(allocate(mode, example(2, 4), 10)).toEqual({ plans: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1].map((n) => [n]), usage: [5, 5] });
  });
  it('1 VM, 4 nodes, 16 CPUs', () => {
    expect(allocate(mode, example(4, 16), 1)).toEqual({ plans: [[3, 2, 1, 0]], usage: [1, 1, 1, 1] });
  });
  it('10 VMs, 4 nodes, 16 CPUs', () => {
    expect(allocate(mode, example(4, 16), 10)).toEqual({ plans: [0, 1, 2, 3, 0, 1, 2, 3, 0, 1].map((n) => [n]), usage: [3, 3, 2, 2] });
  });
  it('40 VMs, 16 nodes, 256 CPUs', () => {
    expect(allocate(mode, example(16, 256), 40)).toEqual({
      plans: [...singles(0, 16), ...singles(0, 16), ...singles(0, 8)],
      usage: [...new Array(8).fill(3), ...new Array(8).fill(2)],
    });
  });
  it('40 VMs, 32 nodes (singles only)', () => {
    expect(allocate(mode, example(32, 256), 40)).toEqual({
      plans: [...singles(0, 32), ...singles(0, 8)],
      usage: [...new Array(8).fill(2), ...new Array(24).fill(1)],
    });
  });
  it('80 VMs, 64 nodes', () => {
    expect(allocate(mode, example(64, 256), 80)).toEqual({
      plans: [...singles(0, 64), ...singles(0, 16)],
      usage: [...new Array(16).fill(2), ...new Array(48).fill(1)],
    });
  });
  it('AMD Opteron, 10 VMs of 3 vCPUs', () => {
    expect(allocate(mode, opteron(4), 10)).toEqual({ plans: [...singles(0, 8), [0], [1]], usage: [2, 2, 1, 1, 1, 1, 1, 1] });
  });
  it('AMD Opteron, 6 VMs of 5 vCPUs and 4/3 of a node of memory', () => {
    expect(allocate(mode, opteron(4), 6, Math.floor((4 * 2 ** 34) / 3))).toEqual({
      plans: [[1, 0], [3, 2], [5, 4], [7, 6], [1, 0], [3, 2]],
      usage: [2, 2, 2, 2, 1, 1, 1, 1],
    });
  });
});

describe('derived vectors of spec §4.6', () => {
  it('Opteron candidate order: singles, 18 pairs (16,13), 12 triples (16,14), then (16,14.5) quads; [0,1,2] is #54', () => {
    const c = numaCandidates(mustMake('reference', opteron(1)));
    expect(c).toHaveLength(255);
    expect(c.slice(0, 8)).toEqual(singles(0, 8).map((nodes) => ({ avg: 10, nodes })));
    expect(c.slice(8, 26).map((x) => x.nodes)).toEqual([
      [0, 1], [0, 2], [1, 3], [2, 3], [0, 4], [1, 4], [2, 4], [3, 4], [2, 5],
      [3, 5], [4, 5], [0, 6], [2, 6], [4, 6], [1, 7], [2, 7], [5, 7], [6, 7],
    ]);
    expect(c.slice(8, 26).every((x) => x.avg === 13)).toBe(true);
    expect(c.slice(26, 38).map((x) => x.nodes)).toEqual([
      [0, 1, 4], [0, 2, 4], [1, 3, 4], [2, 3, 4], [2, 3, 5], [2, 4, 5],
      [3, 4, 5], [0, 2, 6], [0, 4, 6], [2, 4, 6], [2, 5, 7], [2, 6, 7],
    ]);
    expect(c.slice(26, 38).every((x) => x.avg === 14)).toBe(true);
    expect(c.slice(38, 40)).toEqual([{ avg: 14.5, nodes: [2, 3, 4, 5] }, { avg: 14.5, nodes: [0, 2, 4, 6] }]);
    expect(c[54]!.nodes).toEqual([0, 1, 2]);
    expect(c[54]!.avg).toBeCloseTo(15.333, 3);
  });

  it('example 4: full candidate order; three 10-vCPU VMs → [2,1,0] [3,2,1] [2,1,0]', () => {
    const host = mustMake('reference', example(4, 16));
    const c = numaCandidates(host);
    expect(c.map((x) => x.nodes)).toEqual([
      [0], [1], [2], [3], [0, 1], [1, 2], [2, 3], [0, 1, 2], [1, 2, 3], [0, 2], [1, 3], [0, 1, 2, 3], [0, 1, 3], [0, 2, 3], [0, 3],
    ]);
    expect(c.map((x) => Number(x.avg.toFixed(3)))).toEqual([10, 10, 10, 10, 15.5, 15.5, 15.5, 19.778, 19.778, 21, 21, 23.75, 24.667, 24.667, 26.5]);
    const memfree = new Array(4).fill(16 * GiB);
    const plans = [0, 1, 2].map(() => planPlacement(host, memfree, { memory: GiB, vcpus: 10 })!.nodes);
    expect(plans).toEqual([[2, 1, 0], [3, 2, 1], [2, 1, 0]]);
    expect(Array.from(host.nodeUsage)).toEqual([2, 3, 3, 1]);
  });

  const twoBy32: NumaTopology = {
    distances: [[10, 21], [21, 10]],
    cpuToNode: Array.from({ length: 64 }, (_, c) => (c < 32 ? 0 : 1)),
    nodeCores: [16, 16],
  };
  it('cores (latest): 32 vCPUs with 0 cores → [0]; with 32 cores → [1,0]; 16 vCPUs with 16 cores → [0]', () => {
    const memfree = [64 * GiB, 64 * GiB];
    const p0 = planPlacement(mustMake('latest', twoBy32), memfree, { memory: 8 * GiB, vcpus: 32, cores: 0 });
    expect(p0).toMatchObject({ nodes: [0], cpus: range(0, 32) });
    const p1 = planPlacement(mustMake('latest', twoBy32), memfree, { memory: 8 * GiB, vcpus: 32, cores: 32 });
    expect(p1).toMatchObject({ nodes: [1, 0], cpus: range(0, 64) });
    const p2 = planPlacement(mustMake('latest', twoBy32), memfree, { memory: 8 * GiB, vcpus: 16, cores: 16 });
    expect(p2!.nodes).toEqual([0]);
  });

  it('reference mode ignores cores (its NUMARequest has none)', () => {
    const p = planPlacement(mustMake('reference', twoBy32), [64 * GiB, 64 * GiB], { memory: 8 * GiB, vcpus: 32, cores: 32 });
    expect(p!.nodes).toEqual([0]);
  });

  it('memory spill: free [4,4] GiB, VM 6 GiB / 2 vCPUs → [1,0]', () => {
    for (const mode of MODES) expect(planPlacement(mustMake(mode, twoBy32), [4 * GiB, 4 * GiB], { memory: 6 * GiB, vcpus: 2 })!.nodes).toEqual([1, 0]);
  });

  it('balancing ignores free memory: [100,2] GiB → [0][1][0][1]; [0.5,100] GiB → [1][1][1], usage [0,3]', () => {
    const host = mustMake('reference', twoBy32);
    const a = [0, 1, 2, 3].map(() => planPlacement(host, [100 * GiB, 2 * GiB], { memory: GiB, vcpus: 2 })!.nodes);
    expect(a).toEqual([[0], [1], [0], [1]]);
    const host2 = mustMake('reference', twoBy32);
    const b = [0, 1, 2].map(() => planPlacement(host2, [GiB / 2, 100 * GiB], { memory: GiB, vcpus: 2 })!.nodes);
    expect(b).toEqual([[1], [1], [1]]);
    expect(Array.from(host2.nodeUsage)).toEqual([0, 3]);
  });

  it('claims (latest): 2×4 CPUs, free−claimed = [2,10] GiB, VM 4 GiB / 2 vCPUs / 2 cores → [1]', () => {
    const host = mustMake('latest', { distances: [[10, 21], [21, 10]], cpuToNode: [0, 0, 0, 0, 1, 1, 1, 1], nodeCores: [2, 2] });
    expect(planPlacement(host, [2 * GiB, 10 * GiB], { memory: 4 * GiB, vcpus: 2, cores: 2 })!.nodes).toEqual([1]);
  });

  it('CPU-less node: candidate order and plan [2,0] with CPUs {0,1}', () => {
    const t: NumaTopology = { distances: [[10, 21, 17], [21, 10, 17], [17, 17, 10]], cpuToNode: [0, 0, 1, 1] };
    const host = mustMake('reference', t);
    expect(numaCandidates(host).map((c) => [c.nodes, Number(c.avg.toFixed(3))])).toEqual([
      [[0], 10], [[1], 10], [[2], 10], [[0, 2], 13.5], [[1, 2], 13.5], [[0, 1], 15.5], [[0, 1, 2], 15.556],
    ]);
    expect(host.nodeCpus).toEqual([[0, 1], [2, 3], []]);
    expect(planPlacement(host, [0, 0, 64 * GiB], { memory: GiB, vcpus: 2 })).toMatchObject({ nodes: [2, 0], cpus: [0, 1] });
  });

  it('more than 16 nodes: singles only, so a VM larger than a node gets no plan', () => {
    const host = mustMake('reference', example(17, 34));
    expect(host.candidates.count).toBe(17);
    expect(planPlacement(host, new Array(17).fill(16 * GiB), { memory: GiB, vcpus: 3 })).toBeNull();
    expect(Array.from(host.nodeUsage)).toEqual(new Array(17).fill(0));
  });

  it('16 nodes: all 65,535 subsets are candidates', () => {
    const host = mustMake('reference', example(16, 32));
    expect(host.candidates.count).toBe(65535);
    // A VM needing every CPU of the host is only held by the full set.
    expect(planPlacement(host, new Array(16).fill(GiB), { memory: GiB, vcpus: 32 })!.nodes).toEqual(range(0, 16).reverse());
  });
});

describe('balancing by the placement counters', () => {
  it('100 identical VMs on 4 equal nodes land 25/25/25/25', () => {
    const d = [[10, 20, 20, 20], [20, 10, 20, 20], [20, 20, 10, 20], [20, 20, 20, 10]];
    for (const mode of MODES) {
      const host = mustMake(mode, { distances: d, cpuToNode: range(0, 32).map((c) => c >> 3), nodeCores: [4, 4, 4, 4] });
      const landed = [0, 0, 0, 0];
      for (let i = 0; i < 100; i++) {
        const p = planPlacement(host, new Array(4).fill(64 * GiB), { memory: 2 * GiB, vcpus: 4, cores: 4 });
        landed[p!.nodes[0]!]!++;
      }
      expect(landed).toEqual([25, 25, 25, 25]);
      expect(Array.from(host.nodeUsage)).toEqual([25, 25, 25, 25]);
    }
  });

  it('a failed plan changes no counter; counters only grow', () => {
    const host = mustMake('reference', example(4, 16));
    planPlacement(host, new Array(4).fill(GiB), { memory: GiB, vcpus: 2 });
    const before = Array.from(host.nodeUsage);
    expect(planPlacement(host, new Array(4).fill(GiB), { memory: 5 * GiB, vcpus: 2 })).toBeNull();
    expect(planPlacement(host, new Array(4).fill(GiB), { memory: GiB, vcpus: 17 })).toBeNull();
    expect(Array.from(host.nodeUsage)).toEqual(before);
  });
});

describe('SLIT validation (spec §4.2)', () => {
  const cpus = [0, 1];
  it.each(MODES)('%s: a self distance other than 10 ⇒ None', (mode) => {
    expect(makeNuma(mode, { distances: [[11, 20], [20, 10]], cpuToNode: cpus })).toBeNull();
  });
  it.each(MODES)('%s: an entry below 10 ⇒ None', (mode) => {
    expect(makeNuma(mode, { distances: [[10, 9], [20, 10]], cpuToNode: cpus })).toBeNull();
  });
  it.each(MODES)('%s: asymmetric matrices are accepted', (mode) => {
    const host = mustMake(mode, { distances: [[10, 20], [30, 10]], cpuToNode: cpus });
    expect(numaCandidates(host)).toEqual([{ avg: 10, nodes: [0] }, { avg: 10, nodes: [1] }, { avg: 17.5, nodes: [0, 1] }]);
  });
  it('unreachable: reference = exactly 0xFFFFFFFF; latest = above 255 or negative', () => {
    // 300 off the diagonal: a (large) valid distance in reference mode, unreachable in latest mode — both accepted.
    expect(numaCandidates(mustMake('reference', { distances: [[10, 300], [300, 10]], cpuToNode: cpus })).at(-1)).toEqual({ avg: 155, nodes: [0, 1] });
    expect(numaCandidates(mustMake('latest', { distances: [[10, 300], [300, 10]], cpuToNode: cpus })).at(-1)).toEqual({ avg: 155, nodes: [0, 1] });
    // A node whose self distance is 256 is unreachable in latest mode (dropped), invalid in reference mode (None).
    expect(makeNuma('reference', { distances: [[10, 20], [20, 256]], cpuToNode: cpus })).toBeNull();
    expect(numaCandidates(mustMake('latest', { distances: [[10, 20], [20, 256]], cpuToNode: cpus }))).toEqual([{ avg: 10, nodes: [0] }]);
    // A 64-bit -1: unreachable in latest mode, invalid (below 10) in reference mode.
    expect(makeNuma('reference', { distances: [[10, -1], [-1, -1]], cpuToNode: cpus })).toBeNull();
    expect(numaCandidates(mustMake('latest', { distances: [[10, -1], [-1, -1]], cpuToNode: cpus }))).toEqual([{ avg: 10, nodes: [0] }]);
  });
  it('logs why NUMA is not enabled', () => {
    const log: string[] = [];
    makeNuma('reference', { distances: [[E]], cpuToNode: [0] }, (m) => log.push(m));
    makeNuma('reference', { distances: [[12]], cpuToNode: [0] }, (m) => log.push(m));
    expect(log).toEqual([
      'Not enabling NUMA: the ACPI SLIT only contains unreachable nodes.',
      'Not enabling NUMA: the ACPI SLIT table contains values that are invalid.',
    ]);
  });
  it('malformed topologies are EINVAL', () => {
    expectErrno(() => makeNuma('reference', { distances: [], cpuToNode: [] }), 'EINVAL', /non-empty/);
    expectErrno(() => makeNuma('reference', { distances: [[10, 20], [20]], cpuToNode: cpus }), 'EINVAL', /square/);
    expectErrno(() => makeNuma('reference', { distances: [[10, 20.5], [20, 10]], cpuToNode: cpus }), 'EINVAL', /not an integer/);
    expectErrno(() => makeNuma('reference', { distances: [[10, 20], [20, 10]], cpuToNode: [0, 2] }), 'EINVAL', /CPU 1 is on node 2/);
    expectErrno(() => makeNuma('reference', { distances: [[10, 20], [20, 10]], cpuToNode: [0, E] }), 'EINVAL', /not in the 2-node SLIT/);
    expectErrno(() => makeNuma('latest', { distances: [[10, 20], [20, 10]], cpuToNode: cpus, nodeCores: [1] }), 'EINVAL', /one entry per node/);
    expectErrno(() => makeNuma('latest', { distances: [[10, 20], [20, 10]], cpuToNode: cpus, nodeCores: [1, -1] }), 'EINVAL', /nodeCores\[1\]/);
  });
  it('bad plan inputs are EINVAL', () => {
    const host = mustMake('latest', example(2, 4));
    expectErrno(() => planPlacement(host, [GiB], { memory: 1, vcpus: 1 }), 'EINVAL', /each of the 2 nodes/);
    expectErrno(() => planPlacement(host, [GiB, -1], { memory: 1, vcpus: 1 }), 'EINVAL', /node 1/);
    expectErrno(() => planPlacement(host, [GiB, GiB], { memory: -1, vcpus: 1 }), 'EINVAL', /memory/);
    expectErrno(() => planPlacement(host, [GiB, GiB], { memory: 1, vcpus: 1.5 }), 'EINVAL', /vcpus/);
    expectErrno(() => planPlacement(host, [GiB, GiB], { memory: 1, vcpus: 1, cores: -2 }), 'EINVAL', /cores/);
    expect(Array.from(host.nodeUsage)).toEqual([0, 0]);
  });
});

/**
 * The reference model of spec §9, written directly from its pseudocode (sharing no code with the
 * planner): exhaustive candidates, filter, group by average, choose by (usage, descending list).
 */
function modelMake(mode: ToolstackMode, D: number[][], cpuToNode: number[], cores: number[]) {
  const unreachable = (d: number) => (mode === 'reference' ? d === E : d > 255 || d < 0);
  const nodeCpus = D.map((_, k) => cpuToNode.flatMap((n, i) => (n === k && !unreachable(D[k]![k]!) ? [i] : [])));
  if (nodeCpus.every((c) => c.length === 0)) return null;
  if (!D.every((row, i) => (row[i] === 10 || unreachable(row[i]!)) && row.every((d) => d >= 10 || unreachable(d)))) return null;
  const valid = D.map((_, k) => k).filter((k) => !unreachable(D[k]![k]!));
  const items: { key: [number, number]; S: number[] }[] = [];
  if (valid.length > 16) for (const k of valid) items.push({ key: [D[k]![k]!, D[k]![k]!], S: [k] });
  else
    for (let mask = 1; mask < 2 ** valid.length; mask++) {
      const S = valid.filter((_, b) => (mask >> b) & 1);
      const ds = S.flatMap((a) => S.map((b) => D[a]![b]!));
      items.push({ key: [Math.max(...ds), ds.reduce((x, y) => x + y, 0) / ds.length], S });
    }
  const cands = items
    .map((x, i) => ({ ...x, i }))
    .sort((x, y) => x.key[0] - y.key[0] || x.key[1] - y.key[1] || x.i - y.i)
    .map((x) => ({ avg: x.key[1], S: x.S }));
  return { nodeCpus, cores, cands, usage: D.map(() => 0) };
}
function modelPlan(h: NonNullable<ReturnType<typeof modelMake>>, mode: ToolstackMode, memfree: number[], mem: number, vcpus: number, cores: number) {
  const sum = (S: number[], f: (k: number) => number) => S.reduce((a, k) => a + f(k), 0);
  const valid = h.cands.filter(
    ({ S }) => sum(S, (k) => memfree[k]!) >= mem && sum(S, (k) => h.nodeCpus[k]!.length) >= vcpus && (mode === 'reference' || sum(S, (k) => h.cores[k]!) >= cores),
  );
  if (valid.length === 0) return null;
  const group = [valid[0]!];
  for (const v of valid.slice(1)) {
    if (Math.abs(v.avg - valid[0]!.avg) < 1e-3) group.push(v);
    else break;
  }
  const lexLess = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
    return a.length < b.length;
  };
  let best = { u: Infinity, desc: [] as number[] };
  for (const { S } of group) {
    const u = sum(S, (k) => h.usage[k]!);
    const desc = [...S].reverse();
    if (u < best.u || (u === best.u && lexLess(desc, best.desc))) best = { u, desc };
  }
  for (const k of best.desc) h.usage[k]!++;
  return best.desc;
}

describe('differential test against the spec §9 model on random hosts', () => {
  // A small seeded generator keeps the test reproducible.
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  it.each(MODES)('%s: 60 random hosts × 30 VMs agree plan by plan', (mode) => {
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + rand(6);
      const choices = [10, 12, 16, 20, 21, 22, 30, E, 300];
      const D = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => (i === j ? (rand(8) === 0 ? E : 10) : choices[rand(choices.length)]!)),
      );
      const cpuToNode = Array.from({ length: 1 + rand(12) }, () => rand(n));
      const cores = Array.from({ length: n }, () => rand(4));
      const model = modelMake(mode, D, cpuToNode, cores);
      const host = makeNuma(mode, { distances: D, cpuToNode, nodeCores: cores });
      expect(host === null).toBe(model === null);
      if (!host || !model) continue;
      expect(numaCandidates(host).map((c) => c.nodes)).toEqual(model.cands.map((c) => c.S));
      for (let vm = 0; vm < 30; vm++) {
        const memfree = Array.from({ length: n }, () => rand(8) * GiB);
        const req = { memory: rand(10) * GiB, vcpus: rand(6), cores: rand(5) };
        const got = planPlacement(host, memfree, req);
        const want = modelPlan(model, mode, memfree, req.memory, req.vcpus, req.cores);
        expect(got?.nodes ?? null).toEqual(want);
        expect(Array.from(host.nodeUsage)).toEqual(model.usage);
      }
    }
  });
});
