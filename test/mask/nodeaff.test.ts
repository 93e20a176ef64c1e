// domain_update_node_aff (spec xen-hypervisor.md §3.6): the worked examples of §11 and random
// domains, each kernel build against a naive model written here from the spec text.
import { describe, expect, it } from 'vitest';
import { createEngine, createRng, type Engine } from '../../bindings/engine.js';

const KINDS = ['wasm', 'wasm-scalar', 'ts'] as const;

/** The spec, step by step, over plain arrays. */
function naiveNodeAff(hard: number[][], soft: number[][], online: number[], cpuToNode: number[]): number[] {
  const H = new Set(hard.flat().filter((c) => online.includes(c)));
  const S = new Set(soft.flat().filter((c) => H.has(c)));
  const D = S.size ? S : H;
  return [...new Set([...D].map((c) => cpuToNode[c]).filter((n) => n >= 0))].sort((a, b) => a - b);
}

function nodeAff(e: Engine, hard: number[][], soft: number[][], online: number[]) {
  const hs = hard.map((ids) => e.cpumaskFrom(ids));
  const ss = soft.map((ids) => e.cpumaskFrom(ids));
  const on = e.cpumaskFrom(online);
  const out = e.nodemaskAll();
  const emptyH = e.updateNodeAff(hs.map((m) => m.handle), ss.map((m) => m.handle), on.handle, out.handle);
  const r = { nodes: out.toArray(), emptyH };
  [...hs, ...ss, on, out].forEach((m) => m.free());
  return r;
}

describe.each(KINDS)('updateNodeAff (%s kernels)', (kernels) => {
  // §11 host: node0 = CPUs 0-3, node1 = CPUs 4-7, one pool with all CPUs.
  const host = () => {
    const e = createEngine({ nrCpus: 8, kernels });
    e.setCpuToNode([0, 0, 0, 0, 1, 1, 1, 1]);
    return e;
  };
  const all = [0, 1, 2, 3, 4, 5, 6, 7];

  it('§11: defaults (hard = soft = all) give both nodes', () => {
    expect(nodeAff(host(), [all, all], [all, all], all).nodes).toEqual([0, 1]);
  });
  it('§11: soft {4,5} on both vCPUs gives node 1', () => {
    expect(nodeAff(host(), [all, all], [[4, 5], [4, 5]], all).nodes).toEqual([1]);
  });
  it('§11: union before intersection — v0 hard {0-3} keeps S = {4,5} through v1', () => {
    expect(nodeAff(host(), [[0, 1, 2, 3], all], [[4, 5], [4, 5]], all).nodes).toEqual([1]);
  });
  it('§11: soft ∩ hard empty for the whole domain falls back to hard', () => {
    expect(nodeAff(host(), [[0, 1, 2, 3], [0, 1, 2, 3]], [[4, 5], [4, 5]], all).nodes).toEqual([0]);
  });
  it('§3.6 note: per-vCPU soft on different nodes unites to both', () => {
    expect(nodeAff(host(), [all, all], [[0, 1], [6]], all).nodes).toEqual([0, 1]);
  });
  it('the pool (res_valid) restricts hard before soft is considered', () => {
    expect(nodeAff(host(), [all], [[0, 1]], [4, 5, 6, 7]).nodes).toEqual([1]);
  });
  it('hard disjoint from the pool: the ASSERT case, empty node affinity', () => {
    expect(nodeAff(host(), [[0, 1]], [all], [4, 5])).toEqual({ nodes: [], emptyH: true });
  });
  it('CPUs without a node contribute nothing', () => {
    const e = createEngine({ nrCpus: 8, kernels });
    e.setCpuToNode([0, 0, -1, -1, 1, 1, 1, 1]);
    expect(nodeAff(e, [[2, 3, 4]], [[2, 3]], all).nodes).toEqual([]);
    expect(nodeAff(e, [[2, 3, 4]], [[5]], all).nodes).toEqual([1]);
  });

  it('random domains of 1-512 vCPUs match the naive model; batch equals one by one', () => {
    const rng = createRng(99);
    for (const [nrCpus, nrNodes] of [[96, 3], [4096, 64], [4100, 7], [16384, 256]] as const) {
      const e = createEngine({ nrCpus, nrNodes, kernels });
      // Uneven nodes, some node-less CPUs, nodes that straddle 64-bit words.
      const c2n = Array.from({ length: nrCpus }, (_, c) => (c % 97 === 5 ? -1 : Math.floor((c * nrNodes) / nrCpus)));
      e.setCpuToNode(c2n);
      const randomSet = () => {
        const style = rng.below(4);
        if (style === 0) return Array.from({ length: nrCpus }, (_, c) => c);
        const n = style === 1 ? 1 + rng.below(3) : 1 + rng.below(64);
        return Array.from({ length: n }, () => rng.below(nrCpus));
      };
      const jobs = [];
      const expected = [];
      for (let d = 0; d < 12; d++) {
        const vcpus = [1, 2, 7, 64, 512][rng.below(5)];
        const distinct = Array.from({ length: 1 + rng.below(4) }, randomSet);
        const hard = Array.from({ length: vcpus }, () => distinct[rng.below(distinct.length)]);
        const soft = Array.from({ length: vcpus }, () => (rng.below(2) ? randomSet() : distinct[0]));
        const online = rng.below(3) ? Array.from({ length: nrCpus }, (_, c) => c) : randomSet();
        const want = naiveNodeAff(hard, soft, online, c2n);
        expect(nodeAff(e, hard, soft, online).nodes).toEqual(want);
        expected.push(want);
        jobs.push({ hard, soft, online });
      }
      const masks = jobs.map((j) => ({
        hard: j.hard.map((ids) => e.cpumaskFrom(ids).handle),
        soft: j.soft.map((ids) => e.cpumaskFrom(ids).handle),
        online: e.cpumaskFrom(j.online).handle,
        out: e.nodemask(),
      }));
      e.updateNodeAffBatch(masks.map((m) => ({ ...m, out: m.out.handle })));
      expect(masks.map((m) => m.out.toArray())).toEqual(expected);
    }
  });
});
