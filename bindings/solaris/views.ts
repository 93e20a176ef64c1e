/**
 * What the administration commands print: pbind (classic and the 11.2+ multi-CPU form), psrinfo,
 * psrset -i, pginfo and lgrpinfo, over the model's state. Spec solaris-affinity.md §3.7, §6.1,
 * §12.8. Only what the spec documents is reproduced; see each function for the format's source.
 */
import { AffinityError } from '../errors.js';
import { PA_AFF_STRONG, PBIND_NONE, legacyBinding, processorBind } from './affinity.js';
import type { Pg } from './groups.js';
import type { Lwp } from './process.js';
import { P_ALL, P_LWPID, P_PID, POP_AND, procsetTargets, setprocset } from './procset.js';
import { STATE_NAMES } from './psets.js';
import type { SolarisSystem } from './system.js';
import { formatRuns } from '../mask/formats/cpulist.js';

/** CPU ids as pginfo lists them: runs of consecutive ids collapsed to `a-b`, the rest space-separated. */
export function formatCpuRanges(ids: readonly number[]): string {
  return formatRuns(ids, ' ');
}

const bound = (cpu: number) => (cpu === PBIND_NONE ? 'not bound' : String(cpu));

/** strerror text for the errnos pbind can report. */
const STRERROR: Record<string, string> = {
  ESRCH: 'No such process', EPERM: 'Not owner', EINVAL: 'Invalid argument', EBUSY: 'Device busy', EFAULT: 'Bad address',
};

/**
 * Classic `pbind -q pid[/lwpid]` (spec §3.7): `process id 204: 2`, `process id 204: not bound`,
 * `lwp id 204/3: 1`; a failure prints `pbind: cannot query pid 204: No such process` and for an
 * LWP that does not exist `…lwpid 204/7: No matching LWPs found`.
 */
export function pbindQuery(sys: SolarisSystem, caller: Lwp, pid: number, tid?: number): string {
  const lwps = lwpsOf(sys, caller, pid, tid);
  if (typeof lwps === 'string') return `pbind: cannot query ${tid === undefined ? `pid ${pid}` : `lwpid ${pid}/${tid}`}: ${lwps}`;
  let o = PBIND_NONE;
  for (const t of lwps) if (legacyBinding(sys, t) !== PBIND_NONE) o = legacyBinding(sys, t);
  return tid === undefined ? `process id ${pid}: ${bound(o)}` : `lwp id ${pid}/${tid}: ${bound(o)}`;
}

/**
 * Classic `pbind -b cpu pid[/lwpid]` / `pbind -u` (cpu = PBIND_NONE), via processor_bind(2):
 * `process id 204: was not bound, now 2`, `… was 2, now 3`, `… was 2, now not bound`;
 * failures `pbind: cannot bind pid 204: <strerror>`.
 */
export function pbindBind(sys: SolarisSystem, caller: Lwp, pid: number, cpu: number, tid?: number): string {
  const what = tid === undefined ? `pid ${pid}` : `lwpid ${pid}/${tid}`;
  const lwps = lwpsOf(sys, caller, pid, tid);
  if (typeof lwps === 'string') return `pbind: cannot bind ${what}: ${lwps}`;
  const o = { value: PBIND_NONE };
  try {
    if (tid === undefined) processorBind(sys, caller, P_PID, pid, cpu, o);
    else processorBind(sys, caller, P_LWPID, tid, cpu, o);
  } catch (e) {
    if (e instanceof AffinityError) return `pbind: cannot bind ${what}: ${STRERROR[e.errno] ?? e.errno}`;
    throw e;
  }
  const who = tid === undefined ? `process id ${pid}` : `lwp id ${pid}/${tid}`;
  return `${who}: was ${bound(o.value)}, now ${bound(cpu)}`;
}

/** The LWPs pbind would act on, or the message for none (pbind reaches other processes' LWPs through an agent LWP). */
function lwpsOf(sys: SolarisSystem, caller: Lwp, pid: number, tid?: number): Lwp[] | string {
  try {
    const all = procsetTargets(sys.procs, caller, setprocset(POP_AND, P_PID, pid, P_ALL, 0));
    if (tid === undefined) return all;
    const one = all.filter((t) => t.tid === tid);
    return one.length ? one : 'No matching LWPs found';
  } catch (e) {
    if (e instanceof AffinityError) return STRERROR[e.errno] ?? e.errno;
    throw e;
  }
}

/**
 * Oracle 11.2+ `pbind -q -i idtype id` for multi-CPU affinities (spec §12.8, DOC[MCB]), one line
 * per process with an affinity: `pbind(1M): pid 4156 weakly bound to processor(s) 0 3 4 5 9 10 11.`
 * (`strongly` by symmetry, INFERRED; 11.4 names itself `pbind(8)`). A process reports its last
 * LWP with an affinity (spec §7.5, OPEN-11).
 */
export function pbindQueryAffinity(sys: SolarisSystem, caller: Lwp, idtype: number, id: number, name = 'pbind(1M)'): string[] {
  const lines: string[] = [];
  let last: Lwp | undefined;
  const flush = () => {
    if (!last) return;
    const how = last.aff.flags & PA_AFF_STRONG ? 'strongly' : 'weakly';
    lines.push(`${name}: pid ${last.proc.pid} ${how} bound to processor(s) ${sys.masks.view(last.aff.mask).toArray().join(' ')}.`);
    last = undefined;
  };
  let pid = -1;
  for (const t of procsetTargets(sys.procs, caller, setprocset(POP_AND, idtype, id, P_ALL, 0))) {
    if (t.proc.pid !== pid) (flush(), (pid = t.proc.pid));
    if (t.aff.mask >= 0) last = t;
  }
  flush();
  return lines;
}

/** `psrinfo`: one line per configured CPU, `id<TAB>state` (the "since" boot time is not modelled). */
export function psrinfo(sys: SolarisSystem): string {
  const lines: string[] = [];
  for (let c = 0; c < sys.state.length; c++) if (sys.state[c]) lines.push(`${c}\t${STATE_NAMES[sys.state[c]]}`);
  return lines.join('\n');
}

interface Socket { cpus: number[]; cores: number[][] }

function sockets(sys: SolarisSystem): Socket[] {
  const by = new Map<number, Map<number, number[]>>();
  for (const c of sys.topology.cpus) {
    if (!sys.state[c.id]) continue;
    const cores = by.get(c.socket) ?? new Map<number, number[]>();
    by.set(c.socket, cores);
    cores.set(c.core, [...(cores.get(c.core) ?? []), c.id]);
  }
  return [...by.keys()].sort((a, b) => a - b).map((s) => {
    const cores = [...by.get(s)!.entries()].sort((a, b) => a[0] - b[0]).map(([, ids]) => ids);
    return { cpus: cores.flat().sort((a, b) => a - b), cores };
  });
}

/** `psrinfo -p`: the number of physical processors (spec §12.8). */
export function psrinfoPhysical(sys: SolarisSystem): string {
  return String(sockets(sys).length);
}

/**
 * `psrinfo -pv` (spec §12.8): `The physical processor has 8 cores and 32 virtual processors (0-31)`
 * then, per core, `  The core has 4 virtual processors (0-3)`.
 */
export function psrinfoPhysicalVerbose(sys: SolarisSystem): string {
  const lines: string[] = [];
  for (const s of sockets(sys)) {
    lines.push(`The physical processor has ${s.cores.length} cores and ${s.cpus.length} virtual processors (${formatCpuRanges(s.cpus)})`);
    for (const core of s.cores) lines.push(`  The core has ${core.length} virtual processors (${formatCpuRanges(core)})`);
  }
  return lines.join('\n');
}

/** `psrset -i`: `user processor set 1: processors 12 13 14 15`, or `… : empty`. */
export function psrsetInfo(sys: SolarisSystem): string {
  return [...sys.parts.keys()].filter((id) => id !== 0).sort((a, b) => a - b).map((id) => {
    const cpus = sys.parts.get(id)!.active.toArray();
    return `user processor set ${id}: ${cpus.length ? `processors ${cpus.join(' ')}` : 'empty'}`;
  }).join('\n');
}

/**
 * `pginfo` (spec §6.1, CODE pginfo.pl): list mode `PG  RELATIONSHIP  CPUs`, each level one space
 * deeper; tree mode (`-T`) `0 (System) CPUs: 0-7` with children under `|-- ` / `` `-- ``.
 * PGs list online and offline CPUs alike.
 */
export function pginfo(sys: SolarisSystem, opts: { tree?: boolean } = {}): string {
  const pgs = sys.groups.pgs;
  const cpus = (pg: Pg) => {
    const ids = pg.cpus.toArray();
    return ids.length === 1 ? `CPU: ${ids[0]}` : `CPUs: ${formatCpuRanges(ids)}`;
  };
  const lines: string[] = [];
  if (opts.tree) {
    lines.push(`0 (System) ${cpus(pgs[0])}`);
    const walk = (ids: number[], prefix: string) => ids.forEach((id, i) => {
      const lastChild = i === ids.length - 1;
      lines.push(`${prefix}${lastChild ? '`-- ' : '|-- '}${id} (${pgs[id].relationship}) ${cpus(pgs[id])}`);
      walk(pgs[id].children, prefix + (lastChild ? '    ' : '|   '));
    });
    walk(pgs[0].children, '');
  } else {
    lines.push(`${'PG'.padEnd(4)}${'RELATIONSHIP'.padEnd(32)}CPUs`);
    const walk = (id: number, depth: number) => {
      lines.push(`${String(id).padEnd(4)}${(' '.repeat(depth) + pgs[id].relationship).padEnd(32)}${formatCpuRanges(pgs[id].cpus.toArray())}`);
      for (const c of pgs[id].children) walk(c, depth + 1);
    };
    walk(0, 0);
  }
  return lines.join('\n');
}

/**
 * `lgrpinfo -c -t`-style listing (a subset of lgrpinfo(1)): per lgroup `lgroup 1 (leaf):`, its
 * children (or `none`) and parent, and its on-line CPUs (lgroups list on-line CPUs only, §6.4).
 */
export function lgrpinfo(sys: SolarisSystem): string {
  const lines: string[] = [];
  for (const g of sys.groups.lgroups) {
    const kind = g.id === 0 ? 'root' : g.leaf ? 'leaf' : 'intermediate';
    lines.push(`lgroup ${g.id} (${kind}):`);
    lines.push(`\tChildren: ${g.children.length ? g.children.join(' ') : 'none'}${g.parent >= 0 ? `, Parent: ${g.parent}` : ''}`);
    const online = g.cpus.clone().and(sys.active);
    const ids = online.toArray();
    online.free();
    lines.push(`\tCPUs: ${ids.length ? formatCpuRanges(ids) : 'none'}`);
  }
  return lines.join('\n');
}
