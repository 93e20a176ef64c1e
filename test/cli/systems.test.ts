/**
 * The Xen and Solaris steps end to end through the built CLI, with expectations taken from the
 * specs (not from our own output): the scenario's `expect` fields make the CLI itself check
 * them (exit status 1 and an `unmet` entry when one fails).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from './cli.js';

beforeAll(ensureBuilt);

const dir = mkdtempSync(join(tmpdir(), 'ae-sys-'));
let n = 0;

interface StepOut { op: string; ok: boolean; errno?: string; result?: Record<string, unknown>; unmet?: unknown }

/** Runs a scenario document; returns the exit status and the results. */
function run(doc: unknown, ...extra: string[]): { status: number | null; steps: StepOut[]; stderr: string; results: Record<string, unknown> } {
  const file = join(dir, `s${n}.json`);
  const out = join(dir, `r${n++}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const r = cli(['run', file, '--out', out, '--quiet', ...extra]);
  const results = JSON.parse(readFileSync(out, 'utf8'));
  return { status: r.status, steps: results.steps, stderr: r.stderr, results };
}

// 4 nodes × 16 CPUs; node n = CPUs 16n…16n+15.
const HOST = 'pack:2 node:2(memory=64GiB) core:8 pu:2';

describe('Xen steps', () => {
  const xen = (extra: object = {}) => ({ xen: { mode: 'reference', policy: 'best_effort', xenstored: 'cxenstored', ...extra } });

  it('user hard masks decide node affinity; pool moves reset affinity; CPU offline in a pool is refused', () => {
    const { status, steps } = run({
      name: 'x', host: HOST, system: xen(),
      steps: [
        // §3.6: node affinity = nodes of the hard affinity (no soft).
        { op: 'createVMs', name: 'pinned', count: 3, vcpus: 2, cpus: 'node:2', expect: { built: 3, vcpus: 6, nodeAffinity: { 2: 3 } } },
        { op: 'inspect', vm: 1, expect: { hard: ['32-47', '32-47'], pool: 0, nodeAffinity: '2' } },
        // Soft affinity inside hard narrows node affinity (soft ∩ hard).
        { op: 'setAffinity', vms: 1, soft: '40-47', expect: { vcpus: 2, nodeAffinity: { 2: 1 } } },
        { op: 'setAffinity', vms: 2, hard: '0-3', expect: { nodeAffinity: { 0: 1 } } },
        { op: 'cpupoolCreate', name: 'p', cpus: 'node:3', expect: { pool: 1, cpus: '48-63' } },
        // cpupool_move_domain resets every vCPU's affinity to all (spec §6).
        { op: 'cpupoolMove', vms: 'pinned', pool: 'p', expect: { moved: 3 } },
        { op: 'inspect', vm: 1, expect: { pool: 1, hard: ['0-63', '0-63'], nodeAffinity: '3' } },
        // A CPU of a pool other than Pool-0 cannot go offline.
        { op: 'cpuOffline', cpus: '50', expect: { errno: 'ENODEV' } },
        // The boot CPU cannot go offline (Xen cpu_down(0): EINVAL); others can.
        { op: 'cpuOffline', cpus: '0', expect: { errno: 'EINVAL' } },
        { op: 'cpuOffline', cpus: '1-4', expect: { offlined: 4, online: 60 } },
        { op: 'checkInvariants', expect: { violations: 0 } },
        { op: 'destroyVMs', vms: 'pinned', expect: { destroyed: 3 } },
        { op: 'cpupoolDestroy', pool: 'p', expect: { returned: 16 } },
        { op: 'checkInvariants', expect: { violations: 0 } },
      ],
    });
    expect(steps.filter((s) => !s.ok)).toEqual([]);
    expect(status).toBe(0);
  });

  it('reference xenopsd on a 4096-CPU host: the 4096-character affinity strings are over oxenstored\'s 2048-byte limit', () => {
    const doc = (xenstored: string) => ({
      name: 'x', host: 'pack:4 node:16 core:32 pu:2', system: xen({ xenstored }),
      steps: [{ op: 'createVMs', count: 2, vcpus: 1, memoryMib: 256 }],
    });
    const ox = run(doc('oxenstored')).steps[0];
    expect(ox.result).toMatchObject({ built: 0, failures: { E2BIG: 2 } });
    const cx = run(doc('cxenstored')).steps[0];
    expect(cx.result).toMatchObject({ built: 2 });
    expect(cx.result!.failures).toBeUndefined();
  });

  it('memory exhaustion fails the VM (ENOMEM), the domain is gone, the run continues', () => {
    const { steps, results } = run({
      name: 'x', host: HOST, system: xen(),
      steps: [
        { op: 'createVMs', vcpus: 1, memoryMib: 64 * 1024 * 1024, expect: { built: 0, failures: { ENOMEM: 1 } } },
        { op: 'createVMs', vcpus: 1, memoryMib: 512, expect: { built: 1 } },
        { op: 'xenstore', ops: [{ directory: '/local/domain' }], expect: { replies: [['2']] } },
        { op: 'checkInvariants', expect: { violations: 0 } },
      ],
    });
    expect(steps.every((s) => s.ok)).toBe(true);
    expect((results.metrics as { failures: object }).failures).toEqual({ ENOMEM: 1 });
  });

  it('an unmet expectation fails the run with exit status 1', () => {
    const { status, steps } = run({
      name: 'x', host: HOST, system: xen(),
      steps: [{ op: 'createVMs', vcpus: 2, cpus: 'node:1', expect: { nodeAffinity: { 0: 1 } } }],
    });
    expect(status).toBe(1);
    expect(steps[0].unmet).toEqual({ nodeAffinity: { expected: { 0: 1 }, got: { 1: 1 } } });
  });
});

describe('Solaris steps', () => {
  it('processor_affinity, inheritance across fork, processor_bind, p_online, psets and ticks', () => {
    const { status, steps, results } = run({
      name: 's', seed: 5, host: HOST, system: { solaris: {} },
      steps: [
        { op: 'spawn', name: 'a', count: 3, lwps: 4, expect: { pids: '4-6', processes: 3, lwps: 12 } },
        { op: 'processorAffinity', idtype: 'P_PID', id: 'a', cpus: 'node:1', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'], expect: { calls: 3 } },
        { op: 'processorAffinity', idtype: 'P_PID', id: 6, cpus: 'node:2', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG', 'PA_INH_FORK'] },
        { op: 'fork', from: 'a', name: 'kids', expect: { pids: '7-9' } },
        // Affinities are inherited across fork(2)…
        { op: 'processorAffinity', idtype: 'P_PID', id: 7, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { ids: '16-31', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'] } },
        // …unless set with PA_INH_FORK: "Do not inherit affinities across fork(2)" (man page).
        { op: 'processorAffinity', idtype: 'P_PID', id: 6, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { ids: '32-47', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG', 'PA_INH_FORK'] } },
        { op: 'processorAffinity', idtype: 'P_PID', id: 9, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { ids: '', flags: ['PA_TYPE_CPU'] } },
        { op: 'processorBind', idtype: 'P_PID', id: 4, cpu: 99, expect: { errno: 'EINVAL' } },
        { op: 'processorBind', idtype: 'P_PID', id: 4, cpu: 20, expect: { obind: -1 } },
        { op: 'processorBind', idtype: 'P_PID', id: 4, cpu: 'PBIND_QUERY', expect: { obind: 20 } },
        // An unprivileged caller cannot change another user's process (EPERM in the result).
        { op: 'spawn', name: 'u', uid: 100, expect: { pids: '10' } },
        { op: 'processorAffinity', caller: 10, idtype: 'P_PID', id: 5, cpus: '0', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'], expect: { errno: 'EPERM' } },
        // P_LWPID names LWPs of the caller's own process: from pid 5, its LWP 3 only.
        { op: 'processorAffinity', caller: 5, procset: { op: 'POP_AND', left: ['P_LWPID', 3], right: ['P_ALL', 0] }, cpus: '60-61', flags: ['PA_TYPE_CPU', 'PA_AFF_WEAK'], expect: { calls: 1 } },
        { op: 'processorAffinity', caller: [5, 2], idtype: 'P_LWPID', id: 3, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { ids: '60-61', flags: ['PA_TYPE_CPU', 'PA_AFF_WEAK'] } },
        { op: 'processorAffinity', caller: 5, idtype: 'P_LWPID', id: 1, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { ids: '16-31', flags: ['PA_TYPE_CPU', 'PA_AFF_STRONG'] } },
        // …so from the admin shell, pid 5's LWP 3 is no match (ESRCH).
        { op: 'processorAffinity', procset: { left: ['P_PID', 5], right: ['P_LWPID', 3] }, flags: ['PA_QUERY', 'PA_TYPE_CPU'], expect: { errno: 'ESRCH' } },
        { op: 'psetCreate', name: 'b', expect: { pset: 1 } },
        { op: 'psetAssign', pset: 'b', cpus: '48-63', expect: { assigned: 16, cpus: '48-63' } },
        { op: 'pOnline', cpus: '0-1', state: 'offline', expect: { changed: 2, active: 62 } },
        { op: 'tick', count: 3, expect: { ticks: 3 } },
        { op: 'exit', pids: 'kids', expect: { exited: 3 } },
        { op: 'exit', pids: 7, expect: { errno: 'ESRCH' } },
      ],
    });
    expect(steps.filter((s) => !s.ok)).toEqual([]);
    expect(status).toBe(0);
    // The LWPs 1, 2 and 4 of pids 4-5 (strong to node 1) and of pid 6 (strong to node 2) ran or
    // wait there after the ticks; LWP 3 (weak) and other LWPs may be anywhere.
    // Each refusal counted once: processor_bind EINVAL, processor_affinity EPERM and ESRCH, exit ESRCH.
    expect((results.metrics as { failures: object }).failures).toEqual({ EINVAL: 1, EPERM: 1, ESRCH: 2 });
    const load = (results.metrics as { nodeLoad: number[] }).nodeLoad;
    expect(load[1]).toBeGreaterThanOrEqual(6);
    expect(load[2]).toBeGreaterThanOrEqual(3);
  });
});
