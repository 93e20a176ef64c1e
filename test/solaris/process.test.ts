// Spec §2.3, §10, §11: the process model's lifecycle and its input validation.
import { describe, expect, it } from 'vitest';
import {
  createProcess, exec, exit, fork, lwpExit, makeCred, reap, thrCreate, vfork, zoneCreate,
} from '../../bindings/solaris/process.js';
import { bootSolaris } from '../../bindings/solaris/system.js';
import { errnoOf, h1 } from './fixtures.js';

describe('process model', () => {
  it('boots sched, init and pageout; sched and pageout are system processes', () => {
    const { sys } = h1();
    expect([0, 1, 2].map((pid) => sys.procs.byPid.get(pid)!.system)).toEqual([true, false, true]);
    expect(errnoOf(() => bootSolaris({} as never))).toBe('EINVAL');
  });
  it('validates what it creates', () => {
    const { sys } = h1();
    expect(errnoOf(() => createProcess(sys.procs, { pid: 100 }))).toBe('EINVAL');
    expect(errnoOf(() => createProcess(sys.procs, { pid: -4 }))).toBe('EINVAL');
    expect(errnoOf(() => createProcess(sys.procs, { tids: [1, 1] }))).toBe('EINVAL');
    expect(errnoOf(() => createProcess(sys.procs, { tids: [] }))).toBe('EINVAL');
    expect(errnoOf(() => createProcess(sys.procs, { zoneid: 9 }))).toBe('EINVAL');
    expect(errnoOf(() => createProcess(sys.procs, { pri: 170 }))).toBe('EINVAL');
    expect(errnoOf(() => zoneCreate(sys.procs, 0, 'again'))).toBe('EINVAL');
  });
  it('fork, vfork, thr_create, exec and exit keep ids, creds and the LWP table straight', () => {
    const { sys, me } = h1();
    const child = fork(sys.procs, me);
    expect([child.ppid, child.cred, child.lwps.map((t) => t.tid)]).toEqual([100, me.proc.cred, [1]]);
    expect(vfork(sys.procs, me).ppid).toBe(100);
    const t4 = thrCreate(sys.procs, me);
    expect(t4.tid).toBe(4);
    const other = me.proc.lwps[1];
    exec(sys.procs, other, makeCred(0));
    expect([me.proc.lwps.map((t) => t.tid), other.tid, me.slot, me.proc.cred.ruid]).toEqual([[1], 1, -1, 0]);
    expect(errnoOf(() => fork(sys.procs, me))).toBe('ESRCH'); // me was removed by the exec
    expect(sys.procs.lwps.every((t, i) => t.slot === i)).toBe(true);
    lwpExit(sys.procs, child.lwps[0]);
    expect(child.state).toBe('SZOMB');
    expect(errnoOf(() => exit(sys.procs, child))).toBe('ESRCH');
    reap(sys.procs, child);
    expect(sys.procs.byPid.has(child.pid)).toBe(false);
    expect(errnoOf(() => reap(sys.procs, other.proc))).toBe('EINVAL');
  });
});
