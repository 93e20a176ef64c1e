/**
 * What a run's report shows, gathered as steps run: placements per node set, the node-affinity
 * distribution, failures by errno, per-node load and node co-occurrence. Plain data, part of
 * the results file (so it is deterministic: no times here — those are in {@link Timings}).
 */

export interface Metrics {
  /** VMs placed per node set (cpulist of nodes → count). */
  placements: Record<string, number>;
  /** Domains per node-affinity set (cpulist of nodes → count). */
  nodeAffinity: Record<string, number>;
  /** Failed operations per errno name. */
  failures: Record<string, number>;
  /** Per node: vCPUs (Xen) / LWPs (Solaris) whose affinity is on that node. */
  nodeLoad: number[];
  /** nodePairs[a][b]: node-affinity sets holding both a and b (a node × node heatmap). */
  nodePairs: number[][];
}

export function emptyMetrics(nrNodes: number): Metrics {
  return {
    placements: {},
    nodeAffinity: {},
    failures: {},
    nodeLoad: new Array<number>(nrNodes).fill(0),
    nodePairs: Array.from({ length: nrNodes }, () => new Array<number>(nrNodes).fill(0)),
  };
}

export function count(table: Record<string, number>, key: string, n = 1): void {
  table[key] = (table[key] ?? 0) + n;
}

/** Records one node-affinity set (its node ids) in the distribution and the pair heatmap. */
export function recordNodeAffinity(m: Metrics, nodes: readonly number[], key: string): void {
  count(m.nodeAffinity, key);
  for (const a of nodes) for (const b of nodes) m.nodePairs[a][b]++;
}

/** Wall-clock time per phase (step op), in milliseconds; reported, never written to results. */
export type Timings = Map<string, { ms: number; steps: number }>;
