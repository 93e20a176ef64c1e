/**
 * Xen steps: VMs created and built by the toolstack (xenopsd VM.create / VM.build with NUMA
 * placement, xenguest), vCPU affinity domctls, cpupools, CPU offline/online, Xenstore requests.
 *
 * Everything below the toolstack goes through the gate: the toolstack's libxenctrl
 * (`xen.xc.<method>`, i.e. the domctls/sysctls it issues), its Xenstore connection
 * (`xen.xs.<method>`), and the runner's own calls (`xen.xc_cpupool_*`, `xen.cpu_down` …). A
 * toolstack-level failure that no lower operation reports (e.g. xenopsd's Not_enough_memory)
 * is recorded as `xen.toolstack_failed`, so a replay fails the same VMs with the same errno.
 */
import { AffinityError, errnoName, fail } from '../errors.js';
import type { Engine } from '../engine.js';
import { formatRuns, parseXlCpulist, toXenctlBitmap } from '../mask/formats/index.js';
import type { Topology } from '../topology/topology.js';
import { createHypervisor, type Hypervisor } from '../xen/hypervisor/hypervisor.js';
import { CPUPOOL_PAR_ANY } from '../xen/hypervisor/cpupool.js';
import type { SchedulerName } from '../xen/hypervisor/types.js';
import {
  XEN_VCPUAFFINITY_FORCE, XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT, xc_cpupool_addcpu, xc_cpupool_create,
  xc_cpupool_destroy, xc_cpupool_movedomain, xc_cpupool_removecpu, xc_interface_open, xc_vcpu_setaffinity,
  type XcInterface,
} from '../xen/xenctrl.js';
import { createToolstack, dom0Store, type Toolstack, type ToolstackStore, type ToolstackXenctrl } from '../xen/xenopsd/build.js';
import { toolstackXenctrl } from '../xen/xenopsd/xc.js';
import type { ToolstackMode } from '../xen/xenopsd/policy.js';
import type { FlavourName } from '../xen/xenstore/flavour.js';
import { createStore, type XenstoreStore } from '../xen/xenstore/store.js';
import { arrayOf, bool, cpus, int, obj, oneOf, oneOfValues, str, type Schema } from './schema.js';
import { sample, SIZE } from './size.js';
import type { StepKind } from './scenario.js';
import type { RunContext, StepRuntime } from './runner.js';
import { gated, type Executor, type Op } from './trace.js';
import { cpuIds, each, groupOf, opFailures, returns } from './steps-common.js';

export interface XenOptions {
  mode?: ToolstackMode;
  policy?: string;
  scheduler?: SchedulerName;
  dom0Vcpus?: number;
  /** The Xenstore daemon the store behaves like (default oxenstored, as XenServer runs). */
  xenstored?: FlavourName;
}

export interface XenHost {
  hv: Hypervisor;
  xch: XcInterface;
  /** The toolstack's libxenctrl and Xenstore connection, unrecorded (replay executes on these). */
  xc: ToolstackXenctrl;
  store: ToolstackStore;
  xs: XenstoreStore;
  /** The hypervisor's own copy of the host (CPU offline/online act on it). */
  topology: Topology;
  /** xenopsd, whose libxenctrl and Xenstore calls go through the gate; created on first use. */
  toolstack?: Toolstack;
}

/** Boots Xen (credit1 and a small dom0 by default, as XenServer runs) on its own copy of the host. */
export function bootXenHost(topology: Topology, engine: Engine, opts: XenOptions): XenHost {
  const hv = createHypervisor({ engine, topology, scheduler: opts.scheduler ?? 'credit', dom0: { vcpus: opts.dom0Vcpus ?? 8 } });
  const xch = xc_interface_open(hv);
  const xs = createStore({ flavour: opts.xenstored ?? 'oxenstored' });
  return { hv, xch, xc: toolstackXenctrl(xch), store: dom0Store(xs), xs, topology };
}

/** The toolstack, over gated libxenctrl and Xenstore. */
function toolstackOf(ctx: RunContext): Toolstack {
  const x = xenOf(ctx);
  if (!x.toolstack) {
    const o = ctx.scenario.system.xen!;
    x.toolstack = createToolstack({
      mode: o.mode ?? 'reference',
      numaAffinityPolicy: (o.policy ?? 'best_effort') as never,
      xc: gated(ctx.gate, 'xen.xc', x.xc),
      store: gated(ctx.gate, 'xen.xs', x.store),
    });
  }
  return x.toolstack;
}

function xenOf(ctx: RunContext): XenHost {
  return ctx.systems.xen ?? fail('EINVAL', 'no Xen system booted');
}

function need(x: XenHost | undefined): XenHost {
  return x ?? fail('EINVAL', 'no Xen system booted');
}

/** libxenctrl's 0 / -1 + errno as an AffinityError. */
function check(xch: XcInterface, rc: number, call: string): void {
  if (rc < 0) fail(errnoName(xch.errno) ?? 'EINVAL', `${call} returned -1, errno ${xch.errno}`);
}

type XenSystems = { xen?: XenHost };

const TOOLSTACK_XC_METHODS = [
  'cpumapSize', 'maxCpus', 'domainCreate', 'domainDestroy', 'domainIsHvm', 'domainMaxVcpus', 'vcpuSetAffinity',
  'vcpuGetAffinity', 'domainNodeGetAffinity', 'schedCreditDomainGet', 'schedCreditDomainSet', 'populateGuestMemory',
  'freeMemory', 'nodeMemory', 'numaDistances', 'cputopoinfo', 'domainClaimPages',
] as const;
const TOOLSTACK_XS_METHODS = ['read', 'write', 'directory', 'rm'] as const;

export const XEN_CALLS: Record<string, Executor<XenSystems>> = {
  ...Object.fromEntries(TOOLSTACK_XC_METHODS.map((m) => [`xen.xc.${m}`, ({ xen }: XenSystems, args: unknown[]) =>
    (need(xen).xc[m] as (...a: unknown[]) => unknown)(...args)])),
  ...Object.fromEntries(TOOLSTACK_XS_METHODS.map((m) => [`xen.xs.${m}`, ({ xen }: XenSystems, args: unknown[]) =>
    (need(xen).store[m] as (...a: unknown[]) => unknown)(...args)])),
  /** A toolstack failure no lower operation reported: replays as the same errno. */
  'xen.toolstack_failed': (_s, [errno, message]) => {
    throw new AffinityError(errno as never, message as string);
  },
  'xen.xc_vcpu_setaffinity': ({ xen }, [domid, vcpu, hard, soft, flags]) => {
    const x = need(xen);
    check(x.xch, xc_vcpu_setaffinity(x.xch, domid as number, vcpu as number, hard as Uint8Array | null, soft as Uint8Array | null, flags as number), 'xc_vcpu_setaffinity');
  },
  'xen.xc_cpupool_create': ({ xen }, [poolid]) => {
    const x = need(xen);
    const p = { value: poolid as number };
    check(x.xch, xc_cpupool_create(x.xch, p, x.hv.state.pools.get(0)!.schedId), 'xc_cpupool_create');
    return p.value;
  },
  'xen.xc_cpupool_destroy': ({ xen }, [poolid]) => check(need(xen).xch, xc_cpupool_destroy(need(xen).xch, poolid as number), 'xc_cpupool_destroy'),
  'xen.xc_cpupool_addcpu': ({ xen }, [poolid, cpu]) => check(need(xen).xch, xc_cpupool_addcpu(need(xen).xch, poolid as number, cpu as number), 'xc_cpupool_addcpu'),
  'xen.xc_cpupool_removecpu': ({ xen }, [poolid, cpu]) => check(need(xen).xch, xc_cpupool_removecpu(need(xen).xch, poolid as number, cpu as number), 'xc_cpupool_removecpu'),
  'xen.xc_cpupool_movedomain': ({ xen }, [poolid, domid]) => check(need(xen).xch, xc_cpupool_movedomain(need(xen).xch, poolid as number, domid as number), 'xc_cpupool_movedomain'),
  /** XEN_SYSCTL_cpu_hotplug (cpu_down / cpu_up): the CPU's state on Xen's host. */
  'xen.cpu_down': ({ xen }, [cpu]) => void need(xen).topology.setCpuState(cpu as number, 'offline'),
  'xen.cpu_up': ({ xen }, [cpu]) => void need(xen).topology.setCpuState(cpu as number, 'online'),
};

// ---- schemas ---------------------------------------------------------------------------

/** VMs: a domid, or the name of a group made by createVMs. */
const vms: Schema = oneOf('a domid or a VM group name', int(0), str(/^[A-Za-z_][\w.-]*$/, 'a group name'));
const xsOp: Schema = oneOf(
  'a Xenstore request: {"write": path, "value": v}, {"read": path}, {"directory": path} or {"rm": path}',
  obj({ write: str(), value: str() }, ['write', 'value']),
  obj({ read: str() }, ['read']),
  obj({ directory: str() }, ['directory']),
  obj({ rm: str() }, ['rm']),
);

export const XEN_STEP_KINDS: Record<string, StepKind> = {
  createVMs: {
    system: 'xen',
    doc: 'VM.create + VM.build of `count` VMs (vcpus, memoryMib: sizes; cpus: a user hard mask for every vCPU, xl syntax); a failed build destroys its domain, as VM.start does',
    fields: { name: str(), count: int(1, 100_000), vcpus: SIZE, memoryMib: SIZE, cpus, type: oneOfValues('hvm', 'pv', 'pvh') },
    required: ['vcpus'],
    defines: { name: 'vms' },
  },
  destroyVMs: { system: 'xen', doc: 'VM.destroy of every VM of `vms`', fields: { vms }, required: ['vms'], uses: { vms: 'vms' } },
  setAffinity: {
    system: 'xen',
    doc: 'xc_vcpu_setaffinity for every vCPU (or `vcpus`) of `vms`: hard and/or soft (xl syntax), force',
    fields: { vms, vcpus: arrayOf(int(0)), hard: cpus, soft: cpus, force: bool },
    required: ['vms'],
    uses: { vms: 'vms' },
  },
  setPolicy: { system: 'xen', doc: 'Host.set_numa_affinity_policy (VMs built afterwards)', fields: { policy: oneOfValues('any', 'best_effort', 'default_policy') }, required: ['policy'] },
  cpupoolCreate: {
    system: 'xen', doc: 'a new cpupool `name` with the CPUs of `cpus` (taken out of Pool-0 first)',
    fields: { name: str(), cpus }, required: ['name', 'cpus'], defines: { name: 'pool' },
  },
  cpupoolMove: {
    system: 'xen', doc: 'xc_cpupool_movedomain of every VM of `vms` to pool `pool` ("Pool-0" or a name)',
    fields: { vms, pool: str() }, required: ['vms', 'pool'], uses: { vms: 'vms', pool: 'pool' },
  },
  cpupoolDestroy: { system: 'xen', doc: 'CPUs of pool `pool` back to Pool-0, then xc_cpupool_destroy', fields: { pool: str() }, required: ['pool'], uses: { pool: 'pool' } },
  cpuOffline: { system: 'xen', doc: 'cpu_down of every CPU of `cpus` (xen-hptool cpu-offline)', fields: { cpus }, required: ['cpus'] },
  cpuOnline: { system: 'xen', doc: 'cpu_up of every CPU of `cpus`', fields: { cpus }, required: ['cpus'] },
  xenstore: { system: 'xen', doc: 'Xenstore requests as dom0, in order', fields: { ops: arrayOf(xsOp, 1) }, required: ['ops'] },
  inspect: { system: 'xen', doc: 'reads a domain back: vCPU hard/soft affinity, node affinity, pool', fields: { vm: int(0) }, required: ['vm'] },
  checkInvariants: { system: 'xen', doc: 'checks the Xen invariants (hard ∩ pool ≠ ∅, node affinity = recomputation, Xenstore = hypervisor)', fields: {}, required: [] },
};

// ---- runtime ---------------------------------------------------------------------------

function poolIdOf(ctx: RunContext, name: string): number {
  if (name === 'Pool-0') return 0;
  return ctx.pools.get(name) ?? fail('EINVAL', `no cpupool ${JSON.stringify(name)} (create it with cpupoolCreate)`);
}

function cpumapOf(ctx: RunContext, expr: string): Uint8Array {
  const m = parseXlCpulist(ctx.systems.engine, expr);
  const bytes = toXenctlBitmap(m);
  m.free();
  return bytes;
}

/** The nodes of a domain's memory and its node affinity, as node lists. */
export function domainNodes(x: XenHost, domid: number): { memory: string; nodeAffinity: string } {
  const d = x.hv.domain(domid);
  const mem = [...d.memory.entries()].filter(([, b]) => b > 0).map(([n]) => n).sort((a, b) => a - b);
  return { memory: formatRuns(mem), nodeAffinity: d.nodeAffinity.toString() };
}

/**
 * VM.create + VM.build; on failure, VM.start's cleanup (the domain is destroyed) and the VM's
 * failure recorded as `xen.toolstack_failed` (what the step counts; a replay fails it alike).
 */
function createOne(ctx: RunContext, ts: Toolstack, cfg: Parameters<Toolstack['vmCreate']>[0]): void {
  let domid: number | undefined;
  try {
    domid = ts.vmCreate(cfg);
    ts.vmBuild(domid);
  } catch (e) {
    if (!(e instanceof AffinityError)) throw e;
    // VM.create undoes itself; a failed VM.build leaves the domain, which VM.start destroys.
    if (domid !== undefined) ts.vmDestroy(domid);
    try {
      ctx.gate.call('xen.toolstack_failed', e.errno, e.message);
    } catch (recorded) {
      if (!(recorded instanceof AffinityError)) throw recorded;
    }
  }
}

/** The VM failures of a step: its recorded toolstack failures by errno. */
function vmFailures(ops: readonly Op[]): Record<string, number> | undefined {
  return opFailures(ops.filter((o) => o.call === 'xen.toolstack_failed'));
}

/** What VM summaries read: domains made and destroyed, and VM failures. */
const VM_CALLS: ReadonlySet<string> = new Set(['xen.xc.domainCreate', 'xen.xc.domainDestroy', 'xen.toolstack_failed']);

export const XEN_STEPS: Record<string, StepRuntime> = {
  createVMs: {
    reads: VM_CALLS,
    perform(ctx, step) {
      const ts = toolstackOf(ctx);
      const rng = ctx.systems.engine.rng;
      const mask = step.cpus === undefined ? undefined : cpuIds(ctx, step.cpus as string).join(',');
      for (let i = 0; i < ((step.count as number | undefined) ?? 1); i++) {
        const vcpusMax = sample(rng, step.vcpus);
        const memoryStaticMaxMib = sample(rng, step.memoryMib ?? 1024);
        createOne(ctx, ts, {
          vcpusMax, memoryStaticMaxMib, domainType: (step.type as 'hvm' | undefined) ?? 'hvm',
          ...(mask !== undefined ? { vcpusParams: { mask } } : {}),
        });
      }
    },
    summarize(ctx, step, ops) {
      const x = xenOf(ctx);
      const destroyed = new Set(ops.filter((o) => o.call === 'xen.xc.domainDestroy' && !o.errno).map((o) => o.args[0] as number));
      const domids = (returns(ops, 'xen.xc.domainCreate') as number[]).filter((d) => !destroyed.has(d));
      if (step.name) ctx.groups.set(step.name as string, domids);
      const placed: Record<string, number> = {};
      let vcpus = 0;
      for (const d of domids) {
        const key = domainNodes(x, d).nodeAffinity;
        placed[key] = (placed[key] ?? 0) + 1;
        vcpus += x.hv.domain(d).created;
      }
      return { domids: formatRuns(domids), built: domids.length, vcpus, nodeAffinity: placed, failures: vmFailures(ops) };
    },
  },
  destroyVMs: {
    reads: VM_CALLS,
    perform(ctx, step) {
      const ts = toolstackOf(ctx);
      each(groupOf(ctx, step.vms, 'VM group'), (d) => {
        try {
          ts.vmDestroy(d);
        } catch (e) {
          if (e instanceof AffinityError) ctx.gate.call('xen.toolstack_failed', e.errno, e.message);
          throw e;
        }
      });
    },
    summarize: (_ctx, _step, ops) => ({ destroyed: returns(ops, 'xen.xc.domainDestroy').length, failures: vmFailures(ops) }),
  },
  setAffinity: {
    perform(ctx, step) {
      const x = xenOf(ctx);
      const hard = step.hard === undefined ? null : cpumapOf(ctx, step.hard as string);
      const soft = step.soft === undefined ? null : cpumapOf(ctx, step.soft as string);
      const flags = (hard ? XEN_VCPUAFFINITY_HARD : 0) | (soft ? XEN_VCPUAFFINITY_SOFT : 0) | (step.force ? XEN_VCPUAFFINITY_FORCE : 0);
      const pairs: [number, number][] = [];
      for (const d of groupOf(ctx, step.vms, 'VM group')) {
        const vcpus = (step.vcpus as number[] | undefined) ?? Array.from({ length: x.hv.domain(d).created }, (_, i) => i);
        for (const v of vcpus) pairs.push([d, v]);
      }
      each(pairs, ([d, v]) => ctx.gate.call('xen.xc_vcpu_setaffinity', d, v, hard, soft, flags));
    },
    summarize(ctx, _step, ops) {
      const x = xenOf(ctx);
      const ds = [...new Set(ops.map((o) => o.args[0] as number))];
      const nodeAffinity: Record<string, number> = {};
      for (const d of ds) {
        if (!x.hv.state.domains.has(d)) continue;
        const key = x.hv.domain(d).nodeAffinity.toString();
        nodeAffinity[key] = (nodeAffinity[key] ?? 0) + 1;
      }
      return { vcpus: returns(ops, 'xen.xc_vcpu_setaffinity').length, nodeAffinity, failures: opFailures(ops) };
    },
  },
  setPolicy: {
    perform(ctx, step) {
      toolstackOf(ctx).setNumaAffinityPolicy(step.policy as string);
    },
    summarize: (_ctx, step) => ({ policy: step.policy }),
  },
  cpupoolCreate: {
    perform(ctx, step) {
      const x = xenOf(ctx);
      const id = ctx.gate.call<number>('xen.xc_cpupool_create', CPUPOOL_PAR_ANY);
      for (const c of cpuIds(ctx, step.cpus as string)) {
        if (x.hv.state.cpuPool[c] === 0) ctx.gate.call('xen.xc_cpupool_removecpu', 0, c);
        ctx.gate.call('xen.xc_cpupool_addcpu', id, c);
      }
    },
    summarize(ctx, step, ops) {
      const id = returns(ops, 'xen.xc_cpupool_create')[0] as number | undefined;
      if (id === undefined) return { pool: null };
      ctx.pools.set(step.name as string, id);
      return { pool: id, cpus: formatRuns(xenOf(ctx).hv.cpupoolInfo(id).cpuValid) };
    },
  },
  cpupoolMove: {
    perform(ctx, step) {
      const id = poolIdOf(ctx, step.pool as string);
      each(groupOf(ctx, step.vms, 'VM group'), (d) => ctx.gate.call('xen.xc_cpupool_movedomain', id, d));
    },
    summarize: (_ctx, _step, ops) => ({ moved: returns(ops, 'xen.xc_cpupool_movedomain').length, failures: opFailures(ops) }),
  },
  cpupoolDestroy: {
    perform(ctx, step) {
      const x = xenOf(ctx);
      const id = poolIdOf(ctx, step.pool as string);
      for (let c = 0; c < x.hv.state.cpuPool.length; c++) {
        if (x.hv.state.cpuPool[c] !== id) continue;
        ctx.gate.call('xen.xc_cpupool_removecpu', id, c);
        ctx.gate.call('xen.xc_cpupool_addcpu', 0, c);
      }
      ctx.gate.call('xen.xc_cpupool_destroy', id);
    },
    summarize(ctx, step, ops) {
      if (returns(ops, 'xen.xc_cpupool_destroy').length) ctx.pools.delete(step.pool as string);
      return { returned: returns(ops, 'xen.xc_cpupool_addcpu').length };
    },
  },
  cpuOffline: {
    perform(ctx, step) {
      each(cpuIds(ctx, step.cpus as string), (c) => ctx.gate.call('xen.cpu_down', c));
    },
    summarize: (ctx, _step, ops) => ({ offlined: returns(ops, 'xen.cpu_down').length, online: xenOf(ctx).hv.state.cpuOnline.weight(), failures: opFailures(ops) }),
  },
  cpuOnline: {
    perform(ctx, step) {
      each(cpuIds(ctx, step.cpus as string), (c) => ctx.gate.call('xen.cpu_up', c));
    },
    summarize: (ctx, _step, ops) => ({ onlined: returns(ops, 'xen.cpu_up').length, online: xenOf(ctx).hv.state.cpuOnline.weight(), failures: opFailures(ops) }),
  },
  xenstore: {
    perform(ctx, step) {
      for (const op of step.ops as Record<string, string>[]) {
        if ('write' in op) ctx.gate.call('xen.xs.write', op.write, op.value);
        else if ('read' in op) ctx.gate.call('xen.xs.read', op.read);
        else if ('directory' in op) ctx.gate.call('xen.xs.directory', op.directory);
        else ctx.gate.call('xen.xs.rm', op.rm);
      }
    },
    summarize: (_ctx, _step, ops) => ({
      replies: ops.map((o) => (o.errno ? o.errno : o.call === 'xen.xs.read' || o.call === 'xen.xs.directory' ? o.ret : 'OK')),
    }),
  },
  inspect: {
    summarize(ctx, step) {
      const x = xenOf(ctx);
      const d = x.hv.domain(step.vm as number);
      const hard: string[] = [];
      const soft: string[] = [];
      for (let v = 0; v < d.created; v++) {
        const a = x.hv.getVcpuAffinity(d.domid, v);
        hard.push(a.hard.toString());
        soft.push(a.soft.toString());
        a.hard.free();
        a.soft.free();
      }
      return { vcpus: d.created, hard, soft, pool: d.pool.id, ...domainNodes(x, d.domid) };
    },
  },
  checkInvariants: {
    summarize(ctx) {
      const violations = xenInvariants(xenOf(ctx));
      if (violations.length) fail('EINVAL', `${violations.length} invariant violation(s): ${violations.slice(0, 3).join('; ')}`);
      return { domains: xenOf(ctx).hv.state.domains.size, violations: 0 };
    },
  },
};

/**
 * The model's Xen invariants, checked against its state:
 * 1. every created vCPU's hard affinity intersects its domain's pool (cpu_valid);
 * 2. a domain with automatic node affinity has exactly the node affinity that the engine's
 *    domain_update_node_aff kernel computes from scratch over its units' masks and its pool;
 * 3. Xenstore matches the hypervisor: /local/domain/<id> exists exactly for the live domUs, and
 *    platform/vcpu/number is the domain's max_vcpus.
 */
export function xenInvariants(x: XenHost): string[] {
  const out: string[] = [];
  const hv = x.hv.state;
  const e = hv.engine;
  const scratch = e.nodemask();
  try {
    // Every unit's masks, repeats included (the union does not mind): no per-domain sets.
    const hard: number[] = [];
    const soft: number[] = [];
    for (const d of hv.domains.values()) {
      const units = Math.ceil(d.created / d.gran);
      hard.length = 0;
      soft.length = 0;
      for (let u = 0; u < units; u++) {
        const h = d.unitHard[u] || hv.allHandle;
        hard.push(h);
        if (d.unitSoft[u]) soft.push(d.unitSoft[u]);
        if (!e.k.intersects(h, d.pool.cpuValid.handle, e.nrCpuIds)) out.push(`d${d.domid} unit ${u}: hard affinity outside pool ${d.pool.id}`);
      }
      if (d.created > 0 && d.autoNodeAffinity) {
        e.updateNodeAff(hard, soft, d.pool.resValid.handle, scratch.handle);
        if (!scratch.equals(d.nodeAffinity)) out.push(`d${d.domid}: node affinity ${d.nodeAffinity} ≠ recomputed ${scratch}`);
      }
      if (!d.isDom0) {
        const n = x.store.read(`/local/domain/${d.domid}/platform/vcpu/number`);
        if (n !== String(d.maxVcpus)) out.push(`d${d.domid}: Xenstore vcpu/number ${n} ≠ max_vcpus ${d.maxVcpus}`);
      }
    }
    let listed: string[] = [];
    try {
      listed = x.store.directory('/local/domain');
    } catch (err) {
      if (!(err instanceof AffinityError && err.errno === 'ENOENT')) throw err;
    }
    for (const id of listed) if (!hv.domains.has(Number(id))) out.push(`Xenstore has /local/domain/${id} but Xen has no such domain`);
  } finally {
    scratch.free();
  }
  return out;
}

/** Per node, the vCPUs of live domUs whose current processor is there (the load chart). */
export function xenNodeLoad(x: XenHost, load: number[]): void {
  for (const d of x.hv.state.domains.values()) {
    if (d.isDom0) continue;
    for (let v = 0; v < d.created; v++) {
      const node = x.topology.cpu(d.processor[v]).node;
      if (node >= 0) load[node]++;
    }
  }
}

/** Per node set, the live domUs whose memory is there, and whose node affinity is there. */
export function xenPlacements(x: XenHost): { memory: Map<string, number>; affinity: [string, number[]][] } {
  const memory = new Map<string, number>();
  const affinity: [string, number[]][] = [];
  for (const d of x.hv.state.domains.values()) {
    if (d.isDom0) continue;
    const n = domainNodes(x, d.domid);
    memory.set(n.memory, (memory.get(n.memory) ?? 0) + 1);
    affinity.push([n.nodeAffinity, d.nodeAffinity.toArray()]);
  }
  return { memory, affinity };
}
