// Spec §3.7, §6.1 and §12.8: the documented command outputs, from the model's state.
import { describe, expect, it } from 'vitest';
import { PA_AFF_STRONG, PA_AFF_WEAK, PA_TYPE_CPU, PBIND_NONE } from '../../bindings/solaris/affinity.js';
import { createProcess, makeCred } from '../../bindings/solaris/process.js';
import { P_ALL, P_PROJID, POP_AND, setprocset } from '../../bindings/solaris/procset.js';
import { pOnline, psetAssign, psetCreate, P_NOINTR, P_OFFLINE } from '../../bindings/solaris/psets.js';
import { bootSolaris } from '../../bindings/solaris/system.js';
import {
  formatCpuRanges, lgrpinfo, pbindBind, pbindQuery, pbindQueryAffinity, pginfo, psrinfo, psrinfoPhysical,
  psrinfoPhysicalVerbose, psrsetInfo,
} from '../../bindings/solaris/views.js';
import { admin, h1, host, paSet } from './fixtures.js';

describe('pbind', () => {
  it('classic query and bind strings (§3.7)', () => {
    const { sys, me } = h1();
    expect(pbindQuery(sys, me, 100)).toBe('process id 100: not bound');
    expect(pbindBind(sys, me, 100, 2)).toBe('process id 100: was not bound, now 2');
    expect(pbindBind(sys, me, 100, 3)).toBe('process id 100: was 2, now 3');
    expect(pbindQuery(sys, me, 100)).toBe('process id 100: 3');
    expect(pbindQuery(sys, me, 100, 2)).toBe('lwp id 100/2: 3');
    expect(pbindBind(sys, me, 100, PBIND_NONE)).toBe('process id 100: was 3, now not bound');
    expect(pbindBind(sys, me, 100, PBIND_NONE)).toBe('process id 100: was not bound, now not bound');
    expect(pbindBind(sys, me, 100, 1, 9)).toBe('pbind: cannot bind lwpid 100/9: No matching LWPs found');
    expect(pbindQuery(sys, me, 100, 7)).toBe('pbind: cannot query lwpid 100/7: No matching LWPs found');
    expect(pbindBind(sys, me, 300, 1)).toBe('pbind: cannot bind pid 300: Not owner');
    expect(pbindQuery(sys, me, 204)).toBe('pbind: cannot query pid 204: No such process');
  });
  it('11.2+ multi-CPU form (§12.8): pbind -q -i projid 100', () => {
    const { sys } = h1();
    const root = admin(sys);
    sys.procs.projects.add(100);
    createProcess(sys.procs, { pid: 4156, projid: 100, cred: makeCred(500) });
    createProcess(sys.procs, { pid: 4157, projid: 100, cred: makeCred(500) });
    paSet(sys, root, setprocset(POP_AND, P_PROJID, 100, P_ALL, 0), [0, 3, 4, 5, 9, 10, 11], PA_TYPE_CPU | PA_AFF_WEAK);
    paSet(sys, root, setprocset(POP_AND, 0, 4157, P_ALL, 0), [1, 2], PA_TYPE_CPU | PA_AFF_STRONG);
    expect(pbindQueryAffinity(sys, root, P_PROJID, 100)).toEqual([
      'pbind(1M): pid 4156 weakly bound to processor(s) 0 3 4 5 9 10 11.',
      'pbind(1M): pid 4157 strongly bound to processor(s) 1 2.',
    ]);
  });
});

describe('psrinfo, psrset, pginfo, lgrpinfo', () => {
  it('psrinfo -p / -pv (§12.8: one processor of 8 cores × 4 strands)', () => {
    const sys = bootSolaris({ topology: host(1, 8, 4, 1) });
    expect(psrinfoPhysical(sys)).toBe('1');
    const pv = psrinfoPhysicalVerbose(sys).split('\n');
    expect(pv[0]).toBe('The physical processor has 8 cores and 32 virtual processors (0-31)');
    expect(pv[1]).toBe('  The core has 4 virtual processors (0-3)');
    expect(pv).toHaveLength(9);
  });
  it('psrinfo states and psrset -i', () => {
    const { sys } = h1();
    const root = admin(sys);
    pOnline(sys, root, 1, P_OFFLINE);
    pOnline(sys, root, 2, P_NOINTR);
    expect(psrinfo(sys).split('\n').slice(0, 4)).toEqual(['0\ton-line', '1\toff-line', '2\tno-intr', '3\ton-line']);
    const a = psetCreate(sys, root);
    psetCreate(sys, root);
    for (const c of [12, 13, 14, 15]) psetAssign(sys, root, a, c);
    expect(psrsetInfo(sys)).toBe('user processor set 1: processors 12 13 14 15\nuser processor set 2: empty');
  });
  it('pginfo list and tree (§6.1) on H1', () => {
    const { sys } = h1();
    expect(pginfo(sys).split('\n').slice(0, 4)).toEqual([
      'PG  RELATIONSHIP                    CPUs',
      '0   System                          0-15',
      '1    Socket                         0-7',
      '2     Integer_Pipeline              0-1',
    ]);
    const tree = pginfo(sys, { tree: true }).split('\n');
    expect(tree.slice(0, 3)).toEqual(['0 (System) CPUs: 0-15', '|-- 1 (Socket) CPUs: 0-7', '|   |-- 2 (Integer_Pipeline) CPUs: 0-1']);
    expect(tree.at(-1)).toBe('    `-- 10 (Integer_Pipeline) CPUs: 14-15');
  });
  it('lgrpinfo lists on-line CPUs only; intermediate lgroups on H2-like SLITs', () => {
    const { sys } = h1();
    pOnline(sys, admin(sys), 3, P_OFFLINE);
    expect(lgrpinfo(sys)).toBe([
      'lgroup 0 (root):', '\tChildren: 1 2', '\tCPUs: 0-2 4-15',
      'lgroup 1 (leaf):', '\tChildren: none, Parent: 0', '\tCPUs: 0-2 4-7',
      'lgroup 2 (leaf):', '\tChildren: none, Parent: 0', '\tCPUs: 8-15',
    ].join('\n'));
    const slit = [[10, 20, 30, 30], [20, 10, 30, 30], [30, 30, 10, 20], [30, 30, 20, 10]];
    const four = bootSolaris({ topology: host(4, 1, 2, 4, slit) });
    expect(lgrpinfo(four).split('\n').filter((l) => l.startsWith('lgroup') || l.includes('Children'))).toEqual([
      'lgroup 0 (root):', '\tChildren: 5 6', 'lgroup 1 (leaf):', '\tChildren: none, Parent: 5', 'lgroup 2 (leaf):', '\tChildren: none, Parent: 5',
      'lgroup 3 (leaf):', '\tChildren: none, Parent: 6', 'lgroup 4 (leaf):', '\tChildren: none, Parent: 6',
      'lgroup 5 (intermediate):', '\tChildren: 1 2, Parent: 0', 'lgroup 6 (intermediate):', '\tChildren: 3 4, Parent: 0',
    ]);
  });
  it('formats CPU ranges', () => {
    expect(formatCpuRanges([0, 2, 4, 6])).toBe('0 2 4 6');
    expect(formatCpuRanges([0, 1, 2, 3, 9, 11, 12])).toBe('0-3 9 11-12');
    expect(formatCpuRanges([])).toBe('');
  });
});
