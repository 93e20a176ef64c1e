// Spec §4 (CPU states, p_online), §5 (processor sets), §11 (zones and privileges) beyond the §12 vectors.
import { describe, expect, it } from 'vitest';
import { PA_AFF_STRONG, PA_TYPE_CPU, PBIND_HARD, PBIND_QUERY_TYPE, PBIND_SOFT, processorBind } from '../../bindings/solaris/affinity.js';
import { createProcess, makeCred, zoneCreate } from '../../bindings/solaris/process.js';
import { P_LWPID, P_PID, P_TASKID, P_ZONEID } from '../../bindings/solaris/procset.js';
import {
  pOnline, psetAssign, psetBind, psetCreate, psetDestroy, psetInfo, P_FAULTED, P_NOINTR, P_OFFLINE, P_ONLINE, P_SPARE, P_STATUS,
  PS_MYID, PS_QUERY,
} from '../../bindings/solaris/psets.js';
import { admin, cpusOf, errnoOf, h1, paSet, ref, SELF } from './fixtures.js';

describe('p_online', () => {
  it('status is free; changes need PRIV_SYS_RES_CONFIG; bad flags and CPUs are EINVAL', () => {
    const { sys, me } = h1();
    expect(pOnline(sys, me, 4, P_STATUS)).toBe(P_ONLINE);
    expect(errnoOf(() => pOnline(sys, me, 4, P_OFFLINE))).toBe('EPERM');
    expect(errnoOf(() => pOnline(sys, admin(sys), 4, 99))).toBe('EINVAL');
    expect(errnoOf(() => pOnline(sys, admin(sys), 16, P_OFFLINE))).toBe('EINVAL');
  });
  it('transitions: spare and faulted run nothing, no-intr does; the last interrupt CPU stays', () => {
    const { sys, me } = h1();
    const root = admin(sys);
    expect(pOnline(sys, root, 4, P_SPARE)).toBe(P_ONLINE);
    expect(pOnline(sys, root, 4, P_FAULTED)).toBe(P_SPARE);
    expect(sys.topology.cpu(4).state).toBe('faulted');
    expect(errnoOf(() => paSet(sys, me, SELF, [4], PA_TYPE_CPU | PA_AFF_STRONG))).toBe('EINVAL');
    pOnline(sys, root, 4, P_ONLINE);
    for (let c = 1; c < 16; c++) pOnline(sys, root, c, P_NOINTR);
    paSet(sys, me, SELF, [5], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(cpusOf(sys, me)).toEqual([5]);
    expect(errnoOf(() => pOnline(sys, root, 0, P_OFFLINE))).toBe('EBUSY');
    expect(errnoOf(() => pOnline(sys, root, 0, P_NOINTR))).toBe('EBUSY');
  });
  it('a change made on the shared topology by someone else goes through the same rules', () => {
    const { sys, me } = h1();
    paSet(sys, me, SELF, [6], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(errnoOf(() => sys.topology.setCpuState(6, 'offline'))).toBe('EBUSY');
    expect([sys.topology.cpu(6).state, sys.state[6]]).toEqual(['online', P_ONLINE]);
    sys.topology.setCpuState(7, 'offline');
    expect([sys.state[7], sys.active.test(7)]).toEqual([P_OFFLINE, false]);
  });
});

describe('processor sets', () => {
  it('pset_info, PS_QUERY, PS_MYID; only on-line CPUs move; pset_destroy keeps affinities', () => {
    const { sys, me, lwp } = h1();
    const root = admin(sys);
    const ps = psetCreate(sys, root);
    for (const c of [8, 9, 10]) psetAssign(sys, root, ps, c);
    const old = ref(0);
    psetAssign(sys, root, PS_QUERY, 9, old);
    expect(old.value).toBe(ps);
    pOnline(sys, root, 10, P_OFFLINE);
    expect(psetInfo(sys, root, ps).cpus).toEqual([8, 9]);
    expect(errnoOf(() => psetAssign(sys, root, 0 - 1, 10))).toBe('EINVAL');
    psetBind(sys, root, ps, P_PID, 200);
    expect(psetInfo(sys, lwp(200, 1), PS_MYID).cpus).toEqual([8, 9]);
    paSet(sys, root, { p_op: 1, p_lidtype: P_PID, p_lid: 200, p_ridtype: 7, p_rid: 0 }, [9], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(errnoOf(() => psetDestroy(sys, me, ps))).toBe('EPERM');
    psetDestroy(sys, root, ps);
    expect([lwp(200, 1).pset, cpusOf(sys, lwp(200, 1)), sys.partOf[10]]).toEqual([-1, [9], 0]);
    pOnline(sys, root, 10, P_ONLINE);
    expect(psetInfo(sys, root, -1).cpus).toEqual([...Array(16).keys()]);
    expect(errnoOf(() => psetDestroy(sys, root, 0))).toBe('EINVAL');
  });
  it('pset_bind: needs privilege, a non-empty set, an accepted idtype', () => {
    const { sys, me } = h1();
    const root = admin(sys);
    const ps = psetCreate(sys, root);
    expect(errnoOf(() => psetBind(sys, root, ps, P_PID, 100))).toBe('EINVAL');
    psetAssign(sys, root, ps, 15);
    expect(errnoOf(() => psetBind(sys, me, ps, P_PID, 100))).toBe('EPERM');
    expect(errnoOf(() => psetBind(sys, root, ps, 7, 0))).toBe('EINVAL');
    const old = ref(99);
    psetBind(sys, root, PS_QUERY, P_PID, 100, old);
    expect(old.value).toBe(-1);
  });
});

describe('zones and privileges (§11)', () => {
  it('across zones only a global-zone caller with PRIV_PROC_ZONE may change LWPs', () => {
    const { sys, me } = h1();
    zoneCreate(sys.procs, 7, 'z7');
    const z = createProcess(sys.procs, { zoneid: 7, cred: makeCred(500) });
    expect(errnoOf(() => paSet(sys, me, { p_op: 1, p_lidtype: P_ZONEID, p_lid: 7, p_ridtype: 7, p_rid: 0 }, [2], PA_TYPE_CPU | PA_AFF_STRONG))).toBe('EPERM');
    const owner = createProcess(sys.procs, { cred: makeCred(0, 0, ['PRIV_PROC_OWNER']) }).lwps[0];
    expect(errnoOf(() => paSet(sys, owner, { p_op: 1, p_lidtype: P_PID, p_lid: z.pid, p_ridtype: 7, p_rid: 0 }, [2], PA_TYPE_CPU | PA_AFF_STRONG))).toBe('EPERM');
    const zoneAdmin = createProcess(sys.procs, { cred: makeCred(0, 0, ['PRIV_PROC_OWNER', 'PRIV_PROC_ZONE']) }).lwps[0];
    paSet(sys, zoneAdmin, { p_op: 1, p_lidtype: P_PID, p_lid: z.pid, p_ridtype: 7, p_rid: 0 }, [2], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(cpusOf(sys, z.lwps[0])).toEqual([2]);
    // the zone's own user, inside the zone
    paSet(sys, z.lwps[0], SELF, [3], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(cpusOf(sys, z.lwps[0])).toEqual([3]);
  });
  it('PBIND_SOFT / PBIND_HARD / PBIND_QUERY_TYPE', () => {
    const { sys, me } = h1();
    const o = ref(0);
    processorBind(sys, me, P_LWPID, 1, PBIND_QUERY_TYPE, o);
    expect(o.value).toBe(PBIND_HARD);
    processorBind(sys, me, P_LWPID, 1, PBIND_SOFT, null);
    processorBind(sys, me, P_LWPID, 1, PBIND_QUERY_TYPE, o);
    expect(o.value).toBe(PBIND_SOFT);
  });
});

describe('pset_bind error precedence (spec §5, CODE)', () => {
  it('the last failing process decides the errno; the others still move', () => {
    const { sys, me, lwp } = h1();
    const root = admin(sys);
    const ps = psetCreate(sys, root);
    psetAssign(sys, root, ps, 15);
    const p400 = createProcess(sys.procs, { pid: 400, cred: makeCred(500), tids: [1, 2] });
    for (const pid of [100, 300, 400]) sys.procs.byPid.get(pid)!.taskid = 9;
    paSet(sys, p400.lwps[0], SELF, [3], PA_TYPE_CPU | PA_AFF_STRONG);
    const p500 = createProcess(sys.procs, { pid: 500, cred: makeCred(500), tids: [1, 2], taskid: 9 });
    paSet(sys, p500.lwps[0], { p_op: 1, p_lidtype: P_PID, p_lid: -1, p_ridtype: 7, p_rid: 0 }, [4], PA_TYPE_CPU | PA_AFF_STRONG);
    sys.procs.byPid.get(100)!.cred = makeCred(500, 500, ['PRIV_SYS_RES_CONFIG']);
    // 300 (uid 600): EPERM; 400/1 (strong {3}, not in the set): EBUSY; 500/1 and 500/2 (strong {4}):
    // EBUSY — the first of process 500 is the one returned
    expect(() => psetBind(sys, me, ps, P_TASKID, 9)).toThrow(/EBUSY: LWP 500\/1 /);
    expect([lwp(100, 1).pset, lwp(300, 1).pset, p400.lwps[0].pset, p400.lwps[1].pset]).toEqual([ps, -1, -1, ps]);
    for (const pid of [400, 500]) sys.procs.byPid.get(pid)!.taskid = 0;
    expect(errnoOf(() => psetBind(sys, me, ps, P_TASKID, 9))).toBe('EPERM');
  });
});
