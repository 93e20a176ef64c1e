// The six examples of processor_affinity(2) (shared/reference/processor_affinity.2.txt), each as
// its call translated to the model and the observable effect.
import { describe, expect, it } from 'vitest';
import {
  PA_AFF_STRONG, PA_AFF_WEAK, PA_CLEAR, PA_NEGATIVE, PA_QUERY, PA_TYPE_CPU, PA_TYPE_LGRP, PA_TYPE_PG, processorAffinity,
} from '../../bindings/solaris/affinity.js';
import { createProcess, makeCred, thrCreate, zoneCreate } from '../../bindings/solaris/process.js';
import { P_ALL, P_LWPID, P_MYID, P_PID, P_UID, P_ZONEID, POP_AND, setprocset } from '../../bindings/solaris/procset.js';
import { bootSolaris } from '../../bindings/solaris/system.js';
import { admin, cpusOf, errnoOf, h1, host, paSet, ref } from './fixtures.js';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('processor_affinity(2) examples', () => {
  it('Example 1: strong affinity for CPUs 0-3 to the current LWP', () => {
    const { sys, me, lwp } = h1();
    const thrSelf = me.tid;
    const ps = setprocset(POP_AND, P_PID, P_MYID, P_LWPID, thrSelf);
    processorAffinity(sys, me, ps, ref(4), [0, 1, 2, 3], ref(PA_TYPE_CPU | PA_AFF_STRONG));
    expect(cpusOf(sys, me)).toEqual([0, 1, 2, 3]);
    expect(me.aff.flags & PA_AFF_STRONG).toBe(PA_AFF_STRONG);
    expect([lwp(100, 2).aff.mask, lwp(100, 3).aff.mask]).toEqual([-1, -1]);
  });

  it('Example 2: weak affinity for PGs 3 and 7 to process 300\'s LWP 2 (ids[4] = {3, 7} leaves two zero ids)', () => {
    const { sys } = h1();
    const p300 = sys.procs.byPid.get(300)!;
    createProcess(sys.procs, { pid: 301, cred: makeCred(600) });
    const other = sys.procs.byPid.get(301)!.lwps[0];
    // P_LWPID names LWPs of the caller's own process (spec §2.4, OPEN-4): from another process nothing matches
    const ps = setprocset(POP_AND, P_PID, 300, P_LWPID, 2);
    expect(errnoOf(() => processorAffinity(sys, other, ps, ref(4), [3, 7, 0, 0], ref(PA_TYPE_PG | PA_AFF_WEAK)))).toBe('ESRCH');
    // run by process 300 itself (after it created its LWP 2): PG 0 is invalid and ignored
    const [t1] = p300.lwps;
    const lwp2 = thrCreate(sys.procs, t1);
    expect(lwp2.tid).toBe(2);
    processorAffinity(sys, t1, ps, ref(4), [3, 7, 0, 0], ref(PA_TYPE_PG | PA_AFF_WEAK));
    expect(cpusOf(sys, lwp2)).toEqual([2, 3, 8, 9]);
    expect(lwp2.aff.flags & PA_AFF_WEAK).toBe(PA_AFF_WEAK);
    expect(t1.aff.mask).toBe(-1);
  });

  it('Example 3: strong negative affinity for lgroup 12 to user 323\'s processes in zone 7', () => {
    // 16 NUMA nodes of 2 CPUs: leaf lgroup 12 is node 11 = CPUs 22, 23
    const sys = bootSolaris({ topology: host(16, 1, 2, 16) });
    zoneCreate(sys.procs, 7, 'z7');
    const inZone = [createProcess(sys.procs, { zoneid: 7, cred: makeCred(323), tids: [1, 2] }), createProcess(sys.procs, { zoneid: 7, cred: makeCred(323) })];
    const global323 = createProcess(sys.procs, { cred: makeCred(323) });
    const other = createProcess(sys.procs, { zoneid: 7, cred: makeCred(400) });
    const root = admin(sys);
    const ps = setprocset(POP_AND, P_UID, 323, P_ZONEID, 7);
    const flags = PA_TYPE_LGRP | PA_AFF_STRONG | PA_NEGATIVE;
    // As printed, nids = 4 with ids[4] = { 12 } also names lgroup 0 (the root, every CPU) three
    // times: nothing would be left to run on, so every LWP fails and nothing changes.
    expect(errnoOf(() => processorAffinity(sys, root, ps, ref(4), [12, 0, 0, 0], ref(flags)))).toBe('EINVAL');
    expect(inZone.flatMap((p) => p.lwps).every((t) => t.aff.mask === -1)).toBe(true);
    // With nids = 1, as intended:
    processorAffinity(sys, root, ps, ref(1), [12], ref(flags));
    const rest = range(0, 31).filter((c) => c !== 22 && c !== 23);
    for (const t of inZone.flatMap((p) => p.lwps)) expect(cpusOf(sys, t)).toEqual(rest);
    expect([global323.lwps[0].aff.mask, other.lwps[0].aff.mask]).toEqual([-1, -1]);
  });

  it('Example 4: clearing the affinities of the current process', () => {
    const { sys, me, lwp } = h1();
    paSet(sys, admin(sys), setprocset(POP_AND, P_UID, 500, P_ALL, 0), [4, 5], PA_TYPE_CPU | PA_AFF_STRONG);
    processorAffinity(sys, me, setprocset(POP_AND, P_PID, P_MYID, P_ALL, 0), null, null, ref(PA_CLEAR));
    expect([1, 2, 3].map((t) => lwp(100, t).aff.mask)).toEqual([-1, -1, -1]);
    expect(cpusOf(sys, lwp(200, 1))).toEqual([4, 5]);
  });

  it('Example 5: clearing all affinities for CPUs 5 and 7', () => {
    const { sys, me, lwp } = h1();
    const root = admin(sys);
    const one = (pid: number, tid: number) => setprocset(POP_AND, P_PID, pid, P_LWPID, tid);
    paSet(sys, me, one(P_MYID, 1), [5], PA_TYPE_CPU | PA_AFF_STRONG);
    paSet(sys, me, one(P_MYID, 2), [6, 7], PA_TYPE_CPU | PA_AFF_WEAK);
    paSet(sys, me, one(P_MYID, 3), [2], PA_TYPE_CPU | PA_AFF_STRONG);
    paSet(sys, root, setprocset(POP_AND, P_PID, 200, P_ALL, 0), [5, 8], PA_TYPE_CPU | PA_AFF_STRONG);
    processorAffinity(sys, me, null, ref(2), [5, 7, 0, 0], ref(PA_CLEAR | PA_TYPE_CPU));
    expect([lwp(100, 1), lwp(100, 2), lwp(200, 1), lwp(200, 2)].map((t) => t.aff.mask)).toEqual([-1, -1, -1, -1]);
    expect(cpusOf(sys, lwp(100, 3))).toEqual([2]);
    // LWPs of another user are not cleared: EPERM, the others still are
    paSet(sys, root, setprocset(POP_AND, P_PID, 300, P_ALL, 0), [7], PA_TYPE_CPU | PA_AFF_STRONG);
    paSet(sys, me, one(P_MYID, 1), [7], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(errnoOf(() => processorAffinity(sys, me, null, ref(2), [5, 7], ref(PA_CLEAR | PA_TYPE_CPU)))).toBe('EPERM');
    expect([me.aff.mask, cpusOf(sys, lwp(300, 1))]).toEqual([-1, [7]]);
  });

  it('Example 6: querying and printing the current LWP\'s affinities', () => {
    const { sys, me } = h1();
    const ps = setprocset(POP_AND, P_PID, P_MYID, P_LWPID, me.tid);
    const out: string[] = [];
    const run = () => {
      const nids = ref(0);
      let flags = ref(PA_QUERY);
      processorAffinity(sys, me, ps, nids, null, flags);
      out.push(`LWP ${me.tid} has affinity for ${nids.value} CPUs.`);
      flags = ref(PA_QUERY);
      const ids = new Array<number>(nids.value).fill(0);
      processorAffinity(sys, me, ps, nids, ids, flags);
      out.push(nids.value === 0 ? 'Current LWP has no affinity set.' : 'Current LWP has affinity for the following CPU(s):');
      out.push(ids.slice(0, nids.value).map((i) => ` ${i}`).join(''));
    };
    run();
    processorAffinity(sys, me, ps, ref(3), [9, 1, 4], ref(PA_TYPE_CPU | PA_AFF_WEAK));
    run();
    expect(out).toEqual([
      'LWP 1 has affinity for 0 CPUs.', 'Current LWP has no affinity set.', '',
      'LWP 1 has affinity for 3 CPUs.', 'Current LWP has affinity for the following CPU(s):', ' 1 4 9',
    ]);
  });
});
