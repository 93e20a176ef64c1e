// Spec solaris-affinity.md §2.7 procset vectors P1–P12, plus the eligibility rules of §2.3–2.5.
import { errnoOf } from '../helpers.js';
import { describe, expect, it } from 'vitest';
import {
  P_ALL, P_CPUID, P_LWPID, P_MYID, P_PID, P_UID, P_ZONEID, P_CID, POP_AND, POP_DIFF, POP_OR, POP_XOR,
  decodeProcset, encodeProcset, procsetTargets, setprocset, type ProcSet,
} from '../../bindings/solaris/procset.js';
import {
  createProcTable, createProcess, exit, makeCred, zoneCreate, SYS_CID, RT_CID, type Lwp, type ProcTable,
} from '../../bindings/solaris/process.js';

// The procset code never touches masks; reference counting is exercised in affinity tests.
const noMasks = { retain: () => undefined, release: () => undefined };

function fixture(): { pt: ProcTable; caller: Lwp } {
  const pt = createProcTable(noMasks);
  createProcess(pt, { pid: 0, system: true });
  createProcess(pt, { pid: 1, cred: makeCred(0) });
  const p100 = createProcess(pt, { pid: 100, cred: makeCred(500), tids: [1, 2, 3] });
  createProcess(pt, { pid: 200, cred: makeCred(500), tids: [1, 2] });
  return { pt, caller: p100.lwps[0] };
}

const names = (ts: Lwp[]) => ts.map((t) => `${t.proc.pid}/${t.tid}`);


describe('procset vectors (spec §2.7)', () => {
  const vectors: Array<[string, ProcSet, string[] | string]> = [
    ['P1', setprocset(POP_AND, P_PID, P_MYID, P_ALL, 0), ['100/1', '100/2', '100/3']],
    ['P2', setprocset(POP_AND, P_PID, P_MYID, P_LWPID, 2), ['100/2']],
    ['P3', setprocset(POP_AND, P_PID, 200, P_ALL, 0), ['200/1', '200/2']],
    ['P4', setprocset(POP_DIFF, P_PID, P_MYID, P_LWPID, P_MYID), ['100/2', '100/3']],
    ['P5', setprocset(POP_OR, P_LWPID, 1, P_LWPID, 3), ['100/1', '100/3']],
    ['P6', setprocset(POP_AND, P_ALL, 0, P_ALL, 0), ['100/1', '100/2', '100/3', '200/1', '200/2']],
    ['P7', setprocset(POP_AND, P_PID, 1, P_ALL, 0), ['1/1']],
    ['P8', setprocset(POP_XOR, P_PID, 100, P_UID, 500), ['200/1', '200/2']],
    ['P9', setprocset(POP_AND, P_PID, 999, P_ALL, 0), 'ESRCH'],
    ['P10 idtype 16', setprocset(POP_AND, 16, 0, P_ALL, 0), 'EINVAL'],
    ['P10 op 4', setprocset(4, P_PID, 100, P_ALL, 0), 'EINVAL'],
    ['P11 (OPEN-1: illumos rejects)', setprocset(POP_AND, P_CPUID, 3, P_ALL, 0), 'EINVAL'],
    ['P12', setprocset(POP_AND, P_PID, P_MYID, P_LWPID, 77), 'ESRCH'],
  ];
  for (const [name, ps, want] of vectors) {
    it(name, () => {
      const { pt, caller } = fixture();
      if (typeof want === 'string') expect(errnoOf(() => procsetTargets(pt, caller, ps))).toBe(want);
      else expect(names(procsetTargets(pt, caller, ps))).toEqual(want);
    });
  }
});

describe('eligibility (spec §2.3–2.4)', () => {
  it('P_LWPID names only LWPs of the caller (OPEN-4: another pid with P_LWPID is empty ⇒ ESRCH)', () => {
    const { pt, caller } = fixture();
    expect(errnoOf(() => procsetTargets(pt, caller, setprocset(POP_AND, P_PID, 200, P_LWPID, 1)))).toBe('ESRCH');
  });
  it('zombies and system processes are never targets; init alone is', () => {
    const { pt, caller } = fixture();
    exit(pt, pt.byPid.get(200)!);
    expect(errnoOf(() => procsetTargets(pt, caller, setprocset(POP_AND, P_PID, 200, P_ALL, 0)))).toBe('ESRCH');
    expect(errnoOf(() => procsetTargets(pt, caller, setprocset(POP_AND, P_PID, 0, P_ALL, 0)))).toBe('ESRCH');
    expect(names(procsetTargets(pt, caller, setprocset(POP_AND, P_UID, 0, P_ALL, 0)))).toEqual(['1/1']);
  });
  it('a non-global zone sees only its own processes', () => {
    const { pt } = fixture();
    zoneCreate(pt, 7, 'z7');
    const zp = createProcess(pt, { pid: 400, zoneid: 7, cred: makeCred(500) });
    expect(names(procsetTargets(pt, zp.lwps[0], setprocset(POP_AND, P_UID, 500, P_ALL, 0)))).toEqual(['400/1']);
    expect(errnoOf(() => procsetTargets(pt, zp.lwps[0], setprocset(POP_AND, P_PID, 100, P_ALL, 0)))).toBe('ESRCH');
    const caller = pt.byPid.get(100)!.lwps[0];
    expect(names(procsetTargets(pt, caller, setprocset(POP_AND, P_ZONEID, 7, P_ALL, 0)))).toEqual(['400/1']);
  });
  it('P_CID compares each LWP own class; SYS-class processes are skipped outside the fast path', () => {
    const { pt, caller } = fixture();
    pt.byPid.get(200)!.lwps[1].cid = RT_CID;
    expect(names(procsetTargets(pt, caller, setprocset(POP_AND, P_CID, RT_CID, P_ALL, 0)))).toEqual(['200/2']);
    createProcess(pt, { pid: 500, cid: SYS_CID, cred: makeCred(500) });
    expect(errnoOf(() => procsetTargets(pt, caller, setprocset(POP_AND, P_UID, 500, P_PID, 500)))).toBe('ESRCH');
    // the fast path reaches it (the per-LWP EPERM of §11.1 then applies)
    expect(names(procsetTargets(pt, caller, setprocset(POP_AND, P_PID, 500, P_ALL, 0)))).toEqual(['500/1']);
  });
});

describe('procset_t C layout (spec §1.2, §14)', () => {
  it('20 bytes, five int32 in field order, both byte orders; short buffers fault', () => {
    const ps = setprocset(POP_AND, P_PID, P_MYID, P_LWPID, 2);
    const le = encodeProcset(ps);
    expect([...le]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 8, 0, 0, 0, 2, 0, 0, 0]);
    expect([...encodeProcset(ps, true).subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    expect(decodeProcset(le)).toEqual(ps);
    expect(decodeProcset(encodeProcset(ps, true), true)).toEqual(ps);
    expect(errnoOf(() => decodeProcset(le.subarray(0, 19)))).toBe('EFAULT');
    const { pt, caller } = fixture();
    expect(names(procsetTargets(pt, caller, decodeProcset(le)))).toEqual(['100/2']);
  });
});
