/**
 * Solaris benchmark (issue 7) on 16384 CPUs (4 lgroups of 4096) with 100,000 LWPs
 * (10,000 processes × 10 LWPs in 10 tasks): the WASM kernels against the TS reference for
 * - SET of a strong 64-CPU affinity over a procset matching 10,000 LWPs (one task);
 * - off-lining a CPU that 50,000 LWPs have an affinity for (and on-lining it again; each op
 *   takes the next CPU of 1–2047, the CPUs every one of those affinities holds, so each op
 *   really prunes 50,000 affinities; the affinities are set again when the CPUs run out);
 * - one dispatcher tick over all 100,000 LWPs.
 */
import { bootSolaris, type SolarisSystem } from '../bindings/solaris/system.js';
import { createProcess, makeCred, type Lwp } from '../bindings/solaris/process.js';
import { PA_AFF_STRONG, PA_AFF_WEAK, PA_NEGATIVE, PA_TYPE_CPU, PA_TYPE_LGRP, processorAffinity } from '../bindings/solaris/affinity.js';
import { P_ALL, P_TASKID, POP_AND, setprocset } from '../bindings/solaris/procset.js';
import { pOnline, P_OFFLINE, P_ONLINE } from '../bindings/solaris/psets.js';
import { createDispatcher, dispatchTick } from '../bindings/solaris/dispatcher.js';
import { Topology, type CpuSpec } from '../bindings/topology/topology.js';
import { measure, type Row } from './harness.js';

const KINDS = { 'wasm-simd': 'wasm', 'ts-reference': 'ts' } as const;
const NCPUS = 16384;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function topology(): Topology {
  const cpus: CpuSpec[] = range(0, NCPUS - 1).map((id) => ({ id, socket: id >> 12, core: id >> 1, node: id >> 12, state: 'online' }));
  return new Topology({ cpus, nodes: range(0, 3).map((id) => ({ id, memsize: 2 ** 36, memfree: 2 ** 36 })) });
}

function set(sys: SolarisSystem, caller: Lwp, task: number, ids: number[], flags: number): void {
  processorAffinity(sys, caller, setprocset(POP_AND, P_TASKID, task, P_ALL, 0), { value: ids.length }, ids, { value: flags });
}

/** Tasks 0–4 (50,000 LWPs): five distinct affinities, every one holding CPUs 0–2047. */
function baseAffinities(sys: SolarisSystem, root: Lwp): void {
  set(sys, root, 0, [1], PA_TYPE_LGRP | PA_AFF_WEAK);
  set(sys, root, 1, range(0, 2047), PA_TYPE_CPU | PA_AFF_WEAK);
  set(sys, root, 2, range(0, 2047), PA_TYPE_CPU | PA_AFF_STRONG);
  set(sys, root, 3, [2], PA_TYPE_LGRP | PA_AFF_STRONG | PA_NEGATIVE);
  set(sys, root, 4, [1, 3], PA_TYPE_LGRP | PA_AFF_STRONG);
}

export async function benchSolaris(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, kernels] of Object.entries(KINDS)) {
    const sys = bootSolaris({ topology: topology(), kernels });
    const root = createProcess(sys.procs, { cred: makeCred(0, 0, ['PRIV_SYS_RES_CONFIG', 'PRIV_PROC_OWNER']) }).lwps[0];
    root.runnable = false;
    for (let p = 0; p < 10_000; p++) createProcess(sys.procs, { cred: makeCred(500), taskid: p % 10, tids: range(1, 10) });
    baseAffinities(sys, root);

    const masks = [range(8192, 8255), range(12288, 12351)];
    let flip = 0;
    rows.push(...measure('SET strong 64 CPUs, 10,000 of 100,000 LWPs', {
      [label]: () => set(sys, root, 5, masks[(flip ^= 1)], PA_TYPE_CPU | PA_AFF_STRONG),
    }, 1));

    let cpu = 0;
    rows.push(...measure('off-line a CPU 50,000 LWPs have affinity for', {
      [label]: () => {
        if (++cpu > 2047) {
          cpu = 1;
          baseAffinities(sys, root);
        }
        pOnline(sys, root, cpu, P_OFFLINE);
        pOnline(sys, root, cpu, P_ONLINE);
      },
    }, 1));

    const d = createDispatcher(sys);
    dispatchTick(d); // the first tick homes every LWP; measure the steady state
    rows.push(...measure('dispatcher tick, 100,000 LWPs', { [label]: () => void dispatchTick(d) }, 2));
  }
  return rows;
}
