/**
 * Boot and CPU hotplug: the state Xen has after start of day (spec xen-hypervisor.md §1, §3.1,
 * §6.2) — cpu_online_map, node_online_map, scheduling resources for sched-gran, Pool-0 with
 * every online CPU, dom0 with its creation defaults — and CPUs going offline/online through
 * the topology.
 */
import { fail } from '../../errors.js';
import { installTopology } from '../../topology/install.js';
import type { CpuStateChange } from '../../topology/topology.js';
import { assignResource, newPool, resourceCpus, unassignResource } from './cpupool.js';
import { createDomain, MAX_VIRT_CPUS, maxVcpus } from './domain.js';
import { updatePoolNodeAffinity } from './node-affinity.js';
import { cpuDisableSchedulerCheck } from './sched.js';
import { forgetPhysinfo } from './sysctl.js';
import { SCHED_CREDIT, SCHED_CREDIT2, type Dom0Options, type HypervisorOptions, type HypervisorState, type SchedGran } from './types.js';

/** Per CPU, the lowest CPU id sharing its core (gran=core) or socket (gran=socket). */
function resourceMasters(opts: HypervisorOptions, gran: SchedGran): Int32Array {
  const cpus = opts.topology.cpus;
  const master = Int32Array.from(cpus, (c) => c.id);
  if (gran === 'cpu') return master;
  const first = new Map<string, number>();
  for (const c of cpus) {
    if (c.state === 'not-present') continue;
    const key = gran === 'core' ? `${c.socket}/${c.core}` : `${c.socket}`;
    if (!first.has(key)) first.set(key, c.id);
    master[c.id] = first.get(key)!;
  }
  return master;
}

/** Builds the hypervisor state of a freshly booted host. */
export function boot(opts: HypervisorOptions): HypervisorState {
  const { engine, topology, version = 'REF', schedGran = 'cpu', scheduler = 'credit2' } = opts;
  if (version !== 'REF' && version !== 'HEAD') fail('EINVAL', `version must be 'REF' or 'HEAD', got ${String(version)}`);
  if (!['cpu', 'core', 'socket'].includes(schedGran)) fail('EINVAL', `sched-gran must be cpu, core or socket, got ${String(schedGran)}`);
  if (scheduler !== 'credit' && scheduler !== 'credit2') fail('EINVAL', `scheduler must be credit or credit2, got ${String(scheduler)}`);
  const log: string[] = [];
  let gran: SchedGran = schedGran;
  let masters = resourceMasters(opts, gran);
  // Xen needs every scheduling resource to have the same number of CPUs; otherwise it falls back.
  const sizes = new Map<number, number>();
  for (const c of topology.cpus) if (c.state !== 'not-present') sizes.set(masters[c.id], (sizes.get(masters[c.id]) ?? 0) + 1);
  const granularity = Math.max(...sizes.values());
  if (new Set(sizes.values()).size > 1) {
    log.push(`Asymmetric cpu configuration: sched-gran=${gran} not possible, using sched-gran=cpu`);
    gran = 'cpu';
    masters = resourceMasters(opts, gran);
  }
  installTopology(engine, topology);
  const hv: HypervisorState = {
    engine, topology, version, scheduler, schedGran: gran,
    granularity: gran === 'cpu' ? 1 : granularity,
    resourceMaster: masters,
    cpuOnline: engine.cpumaskFrom(topology.onlineCpus()),
    nodeOnline: engine.nodemaskFrom(topology.nodes.filter((n) => n.online).map((n) => n.id)),
    allHandle: engine.masks.intern(engine.cpumaskAll()),
    pools: new Map(), domains: new Map(),
    cpuPool: new Int32Array(engine.nrCpuIds).fill(-1),
    nodeFree: Float64Array.from(topology.nodes, (n) => (n.online ? n.memfree : 0)),
    scratch: [engine.cpumask(), engine.cpumask(), engine.cpumask(), engine.cpumask()],
    log, nextDomid: 1,
  };
  const pool0 = newPool(hv, 0, scheduler === 'credit' ? SCHED_CREDIT : SCHED_CREDIT2);
  for (const c of hv.cpuOnline.toArray()) if (hv.cpuPool[c] < 0 && resourceCpus(hv, c).every((r) => hv.cpuOnline.test(r))) assignResource(hv, pool0, c);
  if (opts.dom0 !== false) bootDom0(hv, opts.dom0 ?? {});
  return hv;
}

/**
 * dom0 (§3.1): dom0_cpus = CPUs of dom0_nodes in Pool-0 (or all of Pool-0); node affinity =
 * dom0_nodes with auto off when given; vCPUs hard-pinned (dom0_vcpus_pin), hard = dom0_cpus
 * (strict, the default) or soft = dom0_cpus (relaxed).
 */
function bootDom0(hv: HypervisorState, o: Dom0Options): void {
  const pool0 = hv.pools.get(0)!;
  const e = hv.engine;
  const cpus = e.cpumask();
  for (const n of o.nodes ?? []) {
    if (!Number.isInteger(n) || n < 0 || n >= hv.topology.nodes.length) fail('EINVAL', `dom0_nodes: node ${n} does not exist`);
    cpus.or(e.nodeCpumask(n));
  }
  cpus.and(pool0.cpuValid);
  if (cpus.isEmpty()) cpus.copy(pool0.cpuValid);
  const dom0Cpus = e.masks.intern(cpus);
  cpus.free();
  const vcpus = o.vcpus ?? Math.min(e.k.weight(dom0Cpus, e.nrCpuIds), MAX_VIRT_CPUS);
  const d = createDomain(hv, { maxVcpus: vcpus, domid: 0 }, true);
  if (o.nodes?.length) {
    d.nodeAffinity.clearAll();
    for (const n of o.nodes) d.nodeAffinity.set(n);
    d.autoNodeAffinity = false;
  }
  maxVcpus(hv, d, vcpus, { cpus: dom0Cpus, opts: o });
  e.masks.release(dom0Cpus);
}

/**
 * A CPU leaving or joining (§6.2), called by the topology before the change is final (a
 * throw undoes it). Going offline is allowed only for CPUs of Pool-0 or free ones (ENODEV
 * for other pools, EADDRINUSE while a Pool-0 vCPU is temporarily pinned); coming online the
 * CPU is free and joins Pool-0 once its scheduling resource is whole again.
 */
export function onCpuStateChange(hv: HypervisorState, change: CpuStateChange): void {
  const wasOnline = change.from === 'online';
  const isOnline = change.to === 'online';
  if (wasOnline === isOnline) return;
  const cpu = change.cpu;
  forgetPhysinfo(hv);
  if (!isOnline) {
    if (cpu === 0) fail('EINVAL', 'Xen never takes CPU 0 down (cpu_down)');
    const poolId = hv.cpuPool[cpu];
    if (poolId > 0) fail('ENODEV', `CPU ${cpu} is in cpupool ${poolId}; move it to Pool-0 or free it first`);
    if (poolId === 0) {
      const pool0 = hv.pools.get(0)!;
      cpuDisableSchedulerCheck(pool0);
      if (pool0.cpuValid.weight() === resourceCpus(hv, cpu).length && pool0.domains.size) fail('EBUSY', `CPU ${cpu} is Pool-0's last`);
      unassignResource(hv, pool0, cpu);
    }
    hv.cpuOnline.clear(cpu);
  } else {
    hv.cpuOnline.set(cpu);
    const res = resourceCpus(hv, cpu);
    if (res.every((c) => hv.cpuOnline.test(c) && hv.cpuPool[c] < 0)) {
      const pool0 = hv.pools.get(0)!;
      assignResource(hv, pool0, cpu);
      updatePoolNodeAffinity(hv, pool0);
    }
  }
}
