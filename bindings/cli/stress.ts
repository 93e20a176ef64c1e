/**
 * `affinity-engine stress [xen|solaris] …`: built-in large-topology profiles. Each is a
 * generated scenario run by the ordinary runner, with the model's invariants checked after
 * every step (a violation stops the run with exit status 1); the report gives throughput.
 *
 * - xen: 16384 CPUs / 64 nodes, 10,000 VMs with churn — build in waves (xenopsd placement,
 *   latest mode, oxenstored), pin a slice of them, move some to a cpupool and back, CPU offline
 *   and online waves, destroy and rebuild a share, destroy all. Pool and offline waves are 8
 *   CPUs each: every CPU leaving or joining Pool-0 recomputes the node affinity of every domain
 *   in it (Xen cpupool_update_node_affinity), ~4 µs per domain, so with 10,000 VMs each CPU
 *   costs ~40 ms and a 256-CPU node would take ten seconds.
 * - solaris: 16384 CPUs / 100,000 LWPs — processes with many LWPs, strong and weak
 *   processor_affinity on groups, a processor set, p_online offline waves, dispatcher ticks.
 */
import { fail } from '../errors.js';
import type { KernelKind } from '../engine.js';
import type { Topology } from '../topology/topology.js';
import { runScenario, type RunOutput, type Systems } from './runner.js';
import { validateScenario, type Step } from './scenario.js';
import { solarisInvariants } from './steps-solaris.js';
import { xenInvariants } from './steps-xen.js';

export interface StressOptions {
  /** Xen: VMs (default 10,000). Solaris: LWPs (default 100,000). */
  size?: number;
  cpus?: number;
  seed?: number;
}

/** hwloc synthetic hosts of `cpus` CPUs on 64 nodes (8 packages × 8 nodes, 2 threads per core). */
function host(cpus: number, memory: string): string {
  if (cpus % 1024 !== 0 || cpus < 1024 || cpus > 16384) fail('EINVAL', `--cpus ${cpus}: expected a multiple of 1024 from 1024 to 16384`);
  return `pack:8 node:8(memory=${memory}) core:${cpus / 128} pu:2`;
}

function xenProfile(o: StressOptions): unknown {
  const vms = o.size ?? 10_000;
  const cpus = o.cpus ?? 16384;
  const last = cpus - 1;
  const waves = 10;
  const per = Math.ceil(vms / waves);
  const steps: Step[] = [];
  for (let w = 0; w < waves; w++) {
    const count = Math.min(per, vms - w * per);
    if (count <= 0) break;
    steps.push({ op: 'createVMs', label: `build-${w}`, name: `wave${w}`, count, vcpus: { choice: [1, 2, 4, 8], weights: [4, 4, 2, 1] }, memoryMib: { uniform: [512, 4096] } });
  }
  steps.push(
    { op: 'setAffinity', label: 'pin', vms: 'wave0', hard: 'nodes:0-7' },
    { op: 'setAffinity', label: 'soft', vms: 'wave1', soft: 'nodes:8-15' },
    { op: 'cpupoolCreate', label: 'pool', name: 'batch', cpus: `${last - 7}-${last}` },
    { op: 'cpupoolMove', label: 'pool-in', vms: 'wave2', pool: 'batch' },
    { op: 'cpuOffline', label: 'offline-wave-1', cpus: `${cpus / 4}-${cpus / 4 + 7}` },
    { op: 'cpuOffline', label: 'offline-wave-2', cpus: '8-15' },
    { op: 'cpuOnline', label: 'online-wave', cpus: `8-15,${cpus / 4}-${cpus / 4 + 7}` },
    { op: 'cpupoolMove', label: 'pool-out', vms: 'wave2', pool: 'Pool-0' },
    { op: 'cpupoolDestroy', label: 'pool-gone', pool: 'batch' },
    { op: 'destroyVMs', label: 'churn-destroy', vms: 'wave3' },
    { op: 'createVMs', label: 'churn-build', name: 'again', count: Math.min(per, vms), vcpus: { uniform: [1, 8] }, memoryMib: { uniform: [512, 4096] } },
  );
  for (let w = 0; w < waves; w++) if (w !== 3 && w * per < vms) steps.push({ op: 'destroyVMs', label: `destroy-${w}`, vms: `wave${w}` });
  steps.push({ op: 'destroyVMs', label: 'destroy-again', vms: 'again' });
  return {
    name: `stress-xen-${vms}`, seed: o.seed ?? 1, host: host(cpus, '1TiB'),
    system: { xen: { mode: 'latest', policy: 'best_effort', xenstored: 'oxenstored' } }, steps,
  };
}

function solarisProfile(o: StressOptions): unknown {
  const lwps = o.size ?? 100_000;
  const perProc = 100;
  const procs = Math.max(1, Math.round(lwps / perProc));
  const groups = 10;
  const per = Math.ceil(procs / groups);
  const steps: Step[] = [];
  for (let g = 0; g < groups && g * per < procs; g++) {
    steps.push({ op: 'spawn', label: `spawn-${g}`, name: `g${g}`, count: Math.min(per, procs - g * per), lwps: perProc });
  }
  steps.push(
    { op: 'processorAffinity', label: 'strong-g0', idtype: 'P_PID', id: 'g0', cpus: 'nodes:0-3', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'] },
    { op: 'processorAffinity', label: 'weak-g1', idtype: 'P_PID', id: 'g1', cpus: 'nodes:4-7', flags: ['PA_TYPE_CPU', 'PA_AFF_WEAK'] },
    { op: 'processorAffinity', label: 'negative-g2', idtype: 'P_PID', id: 'g2', cpus: 'nodes:0-31', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG', 'PA_NEGATIVE'] },
    { op: 'processorAffinity', label: 'lgrp-g3', idtype: 'P_PID', id: 'g3', ids: [1, 2], flags: ['PA_TYPE_LGRP', 'PA_AFF_STRONG'] },
    { op: 'psetCreate', label: 'pset', name: 'batch' },
    { op: 'psetAssign', label: 'pset-cpus', pset: 'batch', cpus: 'nodes:60-63' },
    { op: 'psetBind', label: 'pset-bind', pset: 'batch', idtype: 'P_PID', id: 'g4' },
    { op: 'tick', label: 'ticks-1', count: 5 },
    { op: 'pOnline', label: 'offline-wave', cpus: 'node:1', state: 'offline', forced: true },
    { op: 'tick', label: 'ticks-2', count: 5 },
    { op: 'pOnline', label: 'online-wave', cpus: 'node:1', state: 'online' },
    { op: 'psetAssign', label: 'pset-release', pset: 'PS_NONE', cpus: 'nodes:60-63' },
    { op: 'tick', label: 'ticks-3', count: 5 },
  );
  for (let g = 0; g < groups && g * per < procs; g++) steps.push({ op: 'exit', label: `exit-${g}`, pids: `g${g}` });
  return { name: `stress-solaris-${lwps}`, seed: o.seed ?? 1, host: host(o.cpus ?? 16384, '64GiB'), system: { solaris: {} }, steps };
}

export const PROFILES: Record<string, (o: StressOptions) => unknown> = { xen: xenProfile, solaris: solarisProfile };

/** The invariants of every booted system. */
export function invariants(s: Systems): string[] {
  return [...(s.xen ? xenInvariants(s.xen) : []), ...(s.solaris ? solarisInvariants(s.solaris) : [])];
}

export interface StressRun extends RunOutput {
  /** Wall time of the whole profile (boot, steps, invariant checks), in ms. */
  ms: number;
  /** Time spent checking invariants, in ms (part of {@link ms}). */
  checkMs: number;
  /** Operations performed through the gate (domctls, Xenstore requests, system calls). */
  operations: number;
  violations: string[];
}

/** Builds and runs a profile with the given kernels; invariants after every step. */
export function runStress(profile: string, o: StressOptions, kernels: KernelKind, onStep?: (done: number, total: number) => void): StressRun {
  const make = PROFILES[profile] ?? fail('EINVAL', `unknown stress profile ${JSON.stringify(profile)} (known: ${Object.keys(PROFILES).join(', ')})`);
  const t0 = performance.now();
  const { scenario, topology }: { scenario: ReturnType<typeof validateScenario>['scenario']; topology: Topology } =
    validateScenario(make(o), `stress:${profile}`, process.cwd());
  let operations = 0;
  let checkMs = 0;
  const violations: string[] = [];
  const out = runScenario(scenario, topology, {
    kernels,
    onStep,
    afterStep(systems, ops, index) {
      operations += ops;
      const c0 = performance.now();
      for (const v of invariants(systems)) violations.push(`after step ${index} (${scenario.steps[index].label}): ${v}`);
      checkMs += performance.now() - c0;
      return violations.length === 0;
    },
  });
  return { ...out, ms: performance.now() - t0, checkMs, operations, violations };
}
