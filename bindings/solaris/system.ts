/**
 * A booted Solaris host: the CPUs and their states, the partitions (processor sets), the PGs
 * and lgroups, the process table and the dispatcher, over one mask engine and one topology.
 * The system calls in psets.ts, affinity.ts and dispatcher.ts all take this as their first
 * argument.
 */
import { createEngine, type Engine } from '../engine.js';
import type { KernelKind } from '../kernels.js';
import type { CpuMask } from '../mask/cpumask.js';
import type { InternTable } from '../mask/intern.js';
import { fail } from '../errors.js';
import { Topology } from '../topology/topology.js';
import { buildGroups, type GroupOptions, type Groups } from './groups.js';
import { FROM_TOPOLOGY, isActiveState, subscribeTopology } from './psets.js';
import { createProcTable, createProcess, makeCred, type ProcTable } from './process.js';

/** A partition (kernel `cpupart_t`): id 0 is the default one, user psets from 1 (spec §5). */
export interface Partition {
  readonly id: number;
  /** Its active (on-line or no-intr) CPUs — the only ones `pset_info` lists (spec §5). */
  readonly active: CpuMask;
}

export interface SolarisSystem {
  readonly engine: Engine;
  readonly masks: InternTable;
  readonly topology: Topology;
  /** Per CPU id: a P_* state, or NOT_CONFIGURED. */
  readonly state: Int8Array;
  /** Active CPUs (on-line or no-intr): the CPUs that run LWPs. */
  readonly active: CpuMask;
  /** Per CPU id: its partition; an inactive CPU remembers it and rejoins it (spec §5). */
  readonly partOf: Int32Array;
  readonly parts: Map<number, Partition>;
  readonly groups: Groups;
  readonly procs: ProcTable;
  /** Set while this system itself changes the topology (its own listener then stands aside). */
  changingTopology: boolean;
}

export interface BootOptions extends GroupOptions {
  topology: Topology;
  /** An engine as wide as the topology; created when absent. */
  engine?: Engine;
  kernels?: KernelKind;
  seed?: number;
}

/**
 * Boots a host: every configured CPU in the default partition in its topology state, and the
 * boot processes — sched (pid 0) and pageout (pid 2) as system processes, init (pid 1) as root.
 */
export function bootSolaris(opts: BootOptions): SolarisSystem {
  if (opts === null || typeof opts !== 'object' || !(opts.topology instanceof Topology)) {
    fail('EINVAL', 'bootSolaris needs { topology } (a Topology)');
  }
  const topo = opts.topology;
  const engine = opts.engine ?? createEngine({ nrCpus: topo.nrCpuIds, kernels: opts.kernels, seed: opts.seed });
  if (engine.nrCpuIds !== topo.nrCpuIds) fail('EINVAL', `engine has ${engine.nrCpuIds} CPUs, topology ${topo.nrCpuIds}`);
  const state = new Int8Array(topo.nrCpuIds);
  for (const c of topo.cpus) state[c.id] = FROM_TOPOLOGY[c.state];
  const active = engine.cpumaskFrom(topo.cpus.filter((c) => isActiveState(state[c.id])).map((c) => c.id));
  const sys: SolarisSystem = {
    engine, masks: engine.masks, topology: topo, state, active,
    partOf: new Int32Array(topo.nrCpuIds),
    parts: new Map([[0, { id: 0, active: active.clone() }]]),
    groups: buildGroups(engine, topo, opts),
    procs: createProcTable(engine.masks),
    changingTopology: false,
  };
  createProcess(sys.procs, { pid: 0, system: true });
  createProcess(sys.procs, { pid: 1, cred: makeCred(0), projid: 1 });
  createProcess(sys.procs, { pid: 2, ppid: 0, system: true });
  subscribeTopology(sys);
  return sys;
}
