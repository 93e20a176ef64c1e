// Spec solaris-affinity.md §12.1 fixtures, built through the public API.
import { Topology, type CpuSpec } from '../../bindings/topology/topology.js';
import { bootSolaris, type SolarisSystem } from '../../bindings/solaris/system.js';
import { createProcess, makeCred, type Lwp } from '../../bindings/solaris/process.js';
import type { KernelKind } from '../../bindings/kernels.js';

/** sockets × coresPerSocket × threads, `nodes` equal NUMA nodes in CPU order; optional SLIT. */
export function host(sockets: number, cores: number, threads: number, nodes: number, distances?: number[][], holes: number[] = []): Topology {
  const n = sockets * cores * threads;
  const cpus: CpuSpec[] = [];
  for (let id = 0; id < n; id++) {
    if (holes.includes(id)) continue;
    cpus.push({ id, socket: Math.floor(id / (cores * threads)), core: Math.floor(id / threads), node: Math.floor(id / (n / nodes)), state: 'online' });
  }
  const ns = Array.from({ length: nodes }, (_, id) => ({ id, memsize: 1 << 30, memfree: 1 << 30 }));
  return new Topology({ nrCpuIds: n, cpus, nodes: ns, distances });
}

export interface H1 {
  sys: SolarisSystem;
  /** 100/1, the caller of spec §12 (uid 500, no PRIV_PROC_OWNER). */
  me: Lwp;
  lwp(pid: number, tid: number): Lwp;
}

/** H1: 16 CPUs, 2 sockets × 4 cores × 2 strands, lgroups 1 = 0–7, 2 = 8–15; pids 100, 200, 300. */
export function h1(kernels: KernelKind = 'wasm'): H1 {
  const sys = bootSolaris({ topology: host(2, 4, 2, 2), kernels });
  const p100 = createProcess(sys.procs, { pid: 100, cred: makeCred(500), tids: [1, 2, 3] });
  createProcess(sys.procs, { pid: 200, cred: makeCred(500), tids: [1, 2] });
  createProcess(sys.procs, { pid: 300, cred: makeCred(600) });
  const lwp = (pid: number, tid: number) => sys.procs.byPid.get(pid)!.lwps.find((t) => t.tid === tid)!;
  return { sys, me: p100.lwps[0], lwp };
}

/** H2 (spec §12.1): 8 sockets × 32 cores × 8 strands, ids 2040–2047 absent, 2 intermediate lgroups. */
export function h2(): SolarisSystem {
  const slit = Array.from({ length: 8 }, (_, a) => Array.from({ length: 8 }, (_, b) =>
    a === b ? 10 : Math.floor(a / 4) === Math.floor(b / 4) ? 20 : 30));
  const holes = Array.from({ length: 8 }, (_, i) => 2040 + i);
  return bootSolaris({ topology: host(8, 32, 8, 8, slit, holes), corePgs: ['Integer_Pipeline', 'Floating_Point_Unit'] });
}

/** A privileged admin LWP (uid 0, PRIV_SYS_RES_CONFIG, PRIV_PROC_OWNER). */
export function admin(sys: SolarisSystem): Lwp {
  return createProcess(sys.procs, { cred: makeCred(0, 0, ['PRIV_SYS_RES_CONFIG', 'PRIV_PROC_OWNER', 'PRIV_PROC_ZONE']) }).lwps[0];
}

export { errnoOf } from '../helpers.js';

import { processorAffinity, PA_QUERY, PA_TYPE_CPU, type Ref } from '../../bindings/solaris/affinity.js';
import { P_LWPID, P_MYID, P_PID, POP_AND, setprocset, type ProcSet } from '../../bindings/solaris/procset.js';

export const ref = (value: number): Ref<number> => ({ value });
/** The spec §12.1 default target: the calling LWP. */
export const SELF: ProcSet = setprocset(POP_AND, P_PID, P_MYID, P_LWPID, P_MYID);

/** processor_affinity SET of `ids` with `flags`. */
export function paSet(sys: SolarisSystem, caller: Lwp, ps: ProcSet | null, ids: number[], flags: number): void {
  processorAffinity(sys, caller, ps, ref(ids.length), ids, ref(flags));
}

/** Example 6's two-step query: the count with ids NULL, then the ids. */
export function paQuery(sys: SolarisSystem, caller: Lwp, ps: ProcSet = SELF, type = PA_TYPE_CPU): { ids: number[]; flags: number } {
  const n = ref(0);
  processorAffinity(sys, caller, ps, n, null, ref(PA_QUERY | type));
  const ids = new Array<number>(n.value).fill(-1);
  const flags = ref(PA_QUERY | type);
  processorAffinity(sys, caller, ps, n, ids, flags);
  return { ids, flags: flags.value };
}

/** The CPUs an LWP has affinity for ([] for none), read from the model's state. */
export function cpusOf(sys: SolarisSystem, t: Lwp): number[] {
  return t.aff.mask < 0 ? [] : sys.masks.view(t.aff.mask).toArray();
}
